"""The squad board: every athlete's status in force, what needs attention, and finding one.

The store reads the whole board in a constant number of queries
(:mod:`api.store.squad`); this module decides, per athlete, the phase in force
(the last signed phase of the latest injury episode, :func:`api.web.view.in_force`),
the recommendation awaiting sign-off, and the reasons the athlete needs attention,
in this order of urgency:

1. ``red_flag``: the latest current decision has a red flag;
2. ``signoff``: a recommendation awaits sign-off;
3. ``reassess``: the plan's ``reassess_by`` date (protocol section 6) has passed;
4. ``retest``: a surveillance re-test date of the plan (``plan.retests``, at ``play``)
   has come (the plan is the latest decision's, so no assessment has followed it);
5. ``stale``: no assessment in :data:`STALE_DAYS` days while the phase in force is below
   ``play`` (an injury never assessed counts from its date).

Then it searches (name or id), filters (phase in force, status, region), sorts and
pages the rows, with counts of the whole squad and of the filtered rows. Filtering,
sorting and paging are in Python over the board: with 1,000 athletes the board is
read once and only one page of rows is written out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.deps import EvaluatorDep, StoreDep
from api.store.squad import BoardAthlete, BoardInjury, SquadAthlete
from api.web import view
from api.web.access import PageAccess, WebCaller
from api.web.rendering import render
from rules.protocol import Protocol

__all__ = ["ATTENTION", "STALE_DAYS", "SquadRow", "router", "squad_rows"]

router = APIRouter(include_in_schema=False)

STALE_DAYS = 14
PAGE_SIZE = 50

ATTENTION: tuple[tuple[str, str, str], ...] = (
    # (key, symbol, words): the order of urgency
    ("red_flag", "!", "red flag"),
    ("signoff", "◇", "awaiting sign-off"),
    ("reassess", "◷", "re-assessment date passed"),
    ("retest", "↻", "surveillance re-test due"),
    ("stale", "…", f"no assessment in {STALE_DAYS} days"),
)
_RANK = {key: index for index, (key, _, _) in enumerate(ATTENTION)}
_WORDS = {key: (symbol, words) for key, symbol, words in ATTENTION}

STATUSES: tuple[tuple[str, str], ...] = (
    ("attention", "needs attention"),
    *((key, words) for key, _, words in ATTENTION),
    ("cleared_sprint", "cleared to sprint (signed)"),
    ("cleared_play", "cleared to play (signed)"),
    ("not_cleared", "not cleared to sprint"),
)
SORTS: tuple[tuple[str, str], ...] = (
    ("attention", "needs attention first"),
    ("name", "name"),
    ("id", "athlete id"),
    ("phase", "phase in force, lowest first"),
    ("assessed", "last assessed, oldest first"),
    ("injured", "days since injury, most first"),
)


@dataclass(frozen=True, slots=True)
class Reason:
    key: str
    symbol: str
    text: str


@dataclass(frozen=True, slots=True)
class SquadRow:
    athlete: BoardAthlete
    injury: BoardInjury | None
    injury_text: str
    days_since_injury: int | None
    last_assessed: str | None
    latest_decision: str | None
    in_force: view.InForce | None
    red_flags: tuple[str, ...]
    cautions: tuple[str, ...]
    reasons: tuple[Reason, ...]
    search_text: str

    @property
    def rank(self) -> int:
        return min((_RANK[r.key] for r in self.reasons), default=len(ATTENTION))


def squad_row(item: SquadAthlete, today: dt.date, protocol: Protocol) -> SquadRow:
    """One athlete's row: status in force, pending recommendation, reasons for attention."""
    injury = item.injury
    current = [e for e in item.entries if e.superseded_by is None]
    latest = current[-1] if current else None
    force = view.in_force(item.entries, protocol) if injury is not None else None
    reasons = []
    if latest is not None and latest.decision.red_flags:
        reasons.append("red_flag")
    if force is not None and force.pending is not None:
        reasons.append("signoff")
    plan = item.plan
    if plan is not None and plan.reassess_by and dt.date.fromisoformat(plan.reassess_by) < today:
        reasons.append("reassess")
    due = [d for d in (plan.retests if plan else ()) if dt.date.fromisoformat(d) <= today]
    if due:
        reasons.append("retest")
    play = protocol.phases[-1].number
    if injury is not None and (force is None or force.phase_number is None
                               or force.phase_number < play):
        since = latest.assessment_date if latest else injury.date
        if (today - dt.date.fromisoformat(since)).days > STALE_DAYS:
            reasons.append("stale")
    details = {"reassess": f" ({plan.reassess_by})" if plan and plan.reassess_by else "",
               "retest": f" ({', '.join(due)})" if due else "",
               "stale": f" (last {latest.assessment_date if latest else 'never'})"}
    athlete = item.athlete
    return SquadRow(
        athlete=athlete, injury=injury, injury_text=view.injury_text(injury) if injury else "",
        days_since_injury=(today - dt.date.fromisoformat(injury.date)).days if injury else None,
        last_assessed=latest.assessment_date if latest else None,
        latest_decision=latest.decision.id if latest else None, in_force=force,
        red_flags=tuple(view.flag_names(latest.decision.red_flags, protocol)) if latest else (),
        cautions=tuple(view.flag_names(latest.decision.cautions, protocol)) if latest else (),
        reasons=tuple(Reason(key, _WORDS[key][0], _WORDS[key][1] + details.get(key, ""))
                      for key in reasons),
        search_text=" ".join(x for x in (athlete.id, athlete.name, athlete.sport,
                                         athlete.position) if x).casefold())


def _matches_status(row: SquadRow, status: str) -> bool:
    force = row.in_force
    if status == "attention":
        return bool(row.reasons)
    if status in _RANK:
        return any(r.key == status for r in row.reasons)
    if status == "cleared_sprint":
        return force is not None and force.sprint.css == "ok"
    if status == "cleared_play":
        return force is not None and force.play.css == "ok"
    if status == "not_cleared":
        return force is None or force.sprint.css != "ok"
    return True


_SORT_KEYS: dict[str, Callable[[SquadRow], Any]] = {
    "attention": lambda r: (r.rank, -len(r.reasons), (r.athlete.name or r.athlete.id).casefold(),
                            r.athlete.id),
    "name": lambda r: ((r.athlete.name or r.athlete.id).casefold(), r.athlete.id),
    "id": lambda r: r.athlete.id,
    "phase": lambda r: (r.in_force.phase_number if r.in_force and r.in_force.phase_number
                        else 0, r.athlete.id),
    "assessed": lambda r: (r.last_assessed or "", r.athlete.id),
    "injured": lambda r: (-(r.days_since_injury if r.days_since_injury is not None else -1),
                          r.athlete.id),
}


@dataclass(frozen=True)
class SquadQuery:
    """What the visitor asked for; every value is checked against its choices."""

    q: str = ""
    phase: str = ""
    status: str = ""
    region: str = ""
    sort: str = "attention"
    page: int = 1


def squad_rows(rows: Sequence[SquadRow], query: SquadQuery) -> list[SquadRow]:
    """The rows that match the search and the filters, sorted."""
    wanted = query.q.strip().casefold()
    chosen = [
        r for r in rows
        if (not wanted or wanted in r.search_text)
        and (not query.phase or (r.in_force is not None and r.in_force.phase is not None
                                 and r.in_force.phase.split(" · ")[-1] == query.phase)
             or (query.phase == "none" and (r.in_force is None or r.in_force.phase is None)))
        and (not query.region or (r.injury is not None and r.injury.region == query.region))
        and (not query.status or _matches_status(r, query.status))]
    return sorted(chosen, key=_SORT_KEYS.get(query.sort, _SORT_KEYS["attention"]))


def _choice(value: str, choices: Sequence[str]) -> str:
    return value if value in choices else ""


@router.get("/squad")
def squad(request: Request, caller: Annotated[WebCaller, Depends(PageAccess("athlete.read"))],
          store: StoreDep, evaluator: EvaluatorDep,
          q: Annotated[str, Query(max_length=100)] = "",
          phase: Annotated[str, Query(max_length=20)] = "",
          status: Annotated[str, Query(max_length=20)] = "",
          region: Annotated[str, Query(max_length=20)] = "",
          sort: Annotated[str, Query(max_length=20)] = "attention",
          page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Every athlete's phase in force and pending recommendation; search, filters, sort,
    counts and the "needs attention" order (see the module)."""
    protocol = evaluator.protocol
    today = store.now().date()
    rows = [squad_row(item, today, protocol) for item in store.squad_board()]
    phases = [p.id for p in protocol.phases]
    query = SquadQuery(q=q.strip(), phase=_choice(phase, [*phases, "none"]),
                       status=_choice(status, [key for key, _ in STATUSES]),
                       region=_choice(region, ["hamstring", "calf"]),
                       sort=_choice(sort, [key for key, _ in SORTS]) or "attention", page=page)
    chosen = squad_rows(rows, query)
    pages = max((len(chosen) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    current = min(query.page, pages)
    shown = chosen[(current - 1) * PAGE_SIZE:current * PAGE_SIZE]
    reasons = Counter(r.key for row in rows for r in row.reasons)
    in_force = Counter(row.in_force.phase if row.in_force and row.in_force.phase
                       else "no phase signed" for row in rows if row.injury is not None)
    counts = {"athletes": len(rows), "attention": sum(1 for r in rows if r.reasons),
              "reasons": [(key, symbol, words, reasons.get(key, 0))
                          for key, symbol, words in ATTENTION],
              "phases": [(view.short_phase(protocol, pid), in_force.get(
                  view.short_phase(protocol, pid), 0)) for pid in phases]
              + [("no phase signed", in_force.get("no phase signed", 0))]}
    params = {"q": query.q, "phase": query.phase, "status": query.status,
              "region": query.region, "sort": query.sort}
    return render(request, "squad.html", caller, title="Squad", rows=shown, today=today,
                  query=query, counts=counts, matched=len(chosen), page=current, pages=pages,
                  params={k: v for k, v in params.items() if v},
                  phase_choices=[(pid, view.phase_label(protocol, pid)) for pid in phases],
                  statuses=STATUSES, sorts=SORTS, stale_days=STALE_DAYS,
                  page_size=PAGE_SIZE)
