"""The auditor's page (the chain's check, the decision log, the trail, a CSV export) and the
admin's key list.

``/audit`` verifies the chain incrementally (``Store.verify_audit_since_checkpoint``: only
the entries after the latest verified checkpoint; ``sprintclear audit verify`` and
``GET /v1/audit/verify`` check everything). The decision log, newest assessment first, and
the audit trail, latest entry first, are paged (:data:`LOG_PAGE`, :data:`TRAIL_PAGE`), and
the filters apply to both: the athlete (the trail: that athlete's records), and dates
(the log: assessment dates; the trail: the dates of the writes, UTC). Subjects are shown
by name with a link (the athlete's page, the decision's page), never as raw ids alone.
``/audit/log.csv`` exports the filtered decision log. ``/keys`` lists the API keys for
the admin (never the keys themselves).

Not here yet: the access log of reads by insurers and auditors (issue 10, item 10) is
another branch's (``record_read``/``access_log``); when it lands, the page shows it
beside the trail and ``/audit/log.csv`` exports it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.deps import EvaluatorDep, StoreDep
from api.store import Store
from api.store.records import AssessmentEntry, AuditEntry
from api.store.trail import SubjectLabel
from api.web import view
from api.web.access import PageAccess, WebCaller
from api.web.rendering import SECURITY_HEADERS, render
from rules.protocol import Protocol

router = APIRouter(include_in_schema=False)

LOG_PAGE = 50
TRAIL_PAGE = 50
CSV_LIMIT = 100_000


def _date(text: str | None, name: str, problems: list[str]) -> str | None:
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        problems.append(f"{name}: must be a date YYYY-MM-DD (got {text.strip()[:40]!r})")
        return None


@dataclass(frozen=True)
class Filters:
    athlete: str | None
    start: str | None
    end: str | None
    problems: tuple[str, ...]

    def query(self) -> str:
        """The filters as a query string (for links and the CSV)."""
        from urllib.parse import urlencode

        pairs = [(k, v) for k, v in (("athlete", self.athlete), ("from", self.start),
                                     ("to", self.end)) if v]
        return urlencode(pairs)


def _filters(store: Store, athlete: str | None, assessed_from: str | None,
             assessed_to: str | None) -> Filters:
    problems: list[str] = []
    start = _date(assessed_from, "from", problems)
    end = _date(assessed_to, "to", problems)
    if start and end and start > end:
        problems.append(f"from ({start}) is after to ({end})")
    chosen = athlete if athlete else None
    if chosen is not None and chosen not in {a.id for a in store.list_athletes()}:
        problems.append(f"athlete: no athlete has the id {chosen[:64]!r}")
    return Filters(chosen, start, end, tuple(problems))


@dataclass(frozen=True)
class LogRow:
    entry: AssessmentEntry
    name: str | None
    status: view.EntryStatus
    flags: list[str]


def _log_rows(store: Store, entries: Sequence[AssessmentEntry], protocol: Protocol
              ) -> list[LogRow]:
    """Each log entry with the athlete's name, its status, and the correction's decision."""
    later = store.subject_labels(f"assessment/{e.superseded_by}" for e in entries
                                 if e.superseded_by)
    decision_of = {subject.split("/", 1)[1]: label.decision_id
                   for subject, label in later.items() if label.decision_id}
    names = {a.id: a.name for a in store.list_athletes()}
    return [LogRow(entry, names.get(entry.athlete_id),
                   view.entry_status(entry, protocol, decision_of),
                   view.flag_names(entry.decision.red_flags, protocol)) for entry in entries]


@dataclass(frozen=True)
class TrailRow:
    entry: AuditEntry
    label: SubjectLabel | None
    words: str
    """``decision of Jonas Berg, 2026-03-17``: the subject in words."""


def _words(entry: AuditEntry, label: SubjectLabel | None) -> str:
    if label is None:
        kind, _, identifier = entry.subject.partition("/")
        if kind == "key" and isinstance(entry.details, dict):
            return f"API key of {entry.details.get('name', identifier)}"
        return entry.subject
    who = label.athlete_name or label.athlete_id or ""
    if label.kind == "athlete":
        return f"athlete {who}".strip()
    if label.kind == "injury":
        return f"injury of {who}, {label.date}"
    return f"{label.kind} of {who}, assessment of {label.date}"


@router.get("/audit")
def audit_page(request: Request,
               caller: Annotated[WebCaller, Depends(PageAccess("audit.read"))],
               store: StoreDep, evaluator: EvaluatorDep,
               athlete: Annotated[str | None, Query(max_length=64)] = None,
               assessed_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
               assessed_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
               page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
               before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    """The chain's check (incremental), a page of the decision log and of the trail."""
    checked = store.verify_audit_since_checkpoint()
    filters = _filters(store, athlete, assessed_from, assessed_to)
    entries, more = ([], False) if filters.problems else store.decision_log(
        athlete_id=filters.athlete, assessed_from=filters.start, assessed_to=filters.end,
        limit=LOG_PAGE, offset=(page - 1) * LOG_PAGE)
    trail, older = ([], False) if filters.problems else store.audit_trail(
        athlete_id=filters.athlete, at_from=filters.start, at_to=filters.end, before=before,
        limit=TRAIL_PAGE)
    labels = store.subject_labels(e.subject for e in trail)
    rows = [TrailRow(e, labels.get(e.subject), _words(e, labels.get(e.subject)))
            for e in trail]
    return render(request, "audit.html", caller, title="Audit", checked=checked,
                  verification=checked.result, athletes=store.list_athletes(),
                  chosen=filters.athlete or "", start=assessed_from or "",
                  end=assessed_to or "", problems=filters.problems,
                  log=_log_rows(store, entries, evaluator.protocol), more=more, page=page,
                  log_page=LOG_PAGE, trail=rows, older=trail[-1].seq if older and trail
                  else None, query=filters.query(), may_athlete=caller.may("athlete.read"),
                  status=422 if filters.problems else 200)


CSV_COLUMNS = ("assessment_date", "athlete_id", "athlete_name", "decision_id", "status",
               "recommended_phase", "signed_phase", "signoff_action", "clinician", "signed_at",
               "reason", "acknowledged", "red_flags", "cautions", "superseded_by_decision",
               "rulebase_version", "protocol", "decided_at")


@router.get("/audit/log.csv")
def audit_csv(caller: Annotated[WebCaller, Depends(PageAccess("audit.read"))],
              store: StoreDep, evaluator: EvaluatorDep,
              athlete: Annotated[str | None, Query(max_length=64)] = None,
              assessed_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
              assessed_to: Annotated[str | None, Query(alias="to", max_length=40)] = None
              ) -> Response:
    """The filtered decision log as CSV (UTF-8, one row per stored decision, newest first);
    a wrong filter is 422 with the problems as text."""
    filters = _filters(store, athlete, assessed_from, assessed_to)
    if filters.problems:
        return Response("\n".join(filters.problems) + "\n", status_code=422,
                        media_type="text/plain; charset=utf-8", headers=dict(SECURITY_HEADERS))
    entries, _ = store.decision_log(athlete_id=filters.athlete, assessed_from=filters.start,
                                    assessed_to=filters.end, limit=CSV_LIMIT)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _log_rows(store, entries, evaluator.protocol):
        entry, signoff = row.entry, row.entry.signoff
        writer.writerow(_safe(value) for value in (
            entry.assessment_date, entry.athlete_id, row.name or "", entry.decision.id,
            row.status.state, entry.decision.phase.id, signoff.signed_phase if signoff else "",
            signoff.action if signoff else "", signoff.clinician if signoff else "",
            signoff.signed_at if signoff else "", signoff.reason or "" if signoff else "",
            " ".join(signoff.acknowledged or []) if signoff else "",
            " ".join(entry.decision.red_flags), " ".join(entry.decision.cautions),
            row.status.superseded_by or "", entry.decision.rulebase_version,
            f"{entry.decision.protocol} {entry.decision.protocol_version}",
            entry.decision.evaluated_at))
    stamp = store.now().strftime("%Y%m%dT%H%M%SZ")
    return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Content-Disposition":
                             f'attachment; filename="sprintclear-decision-log-{stamp}.csv"'})


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/keys")
def keys_page(request: Request, caller: Annotated[WebCaller, Depends(PageAccess("key.manage"))],
              store: StoreDep) -> Response:
    """The API keys: who holds which role, since when, revoked or not."""
    return render(request, "keys.html", caller, title="API keys", keys=store.list_keys())
