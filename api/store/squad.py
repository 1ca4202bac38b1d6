"""The squad board's reads: every athlete's latest injury episode and its entries, in a
constant number of queries however many athletes there are.

Four statements, whatever the squad's size:

1. the athletes;
2. their injury episodes (the latest per athlete is kept: by date, then storage);
3. per episode, its latest assessment that no correction superseded and its latest
   signed one (the phase in force), with the decision's summary columns and sign-off
   (the database ranks them: ``ROW_NUMBER() OVER (PARTITION BY injury_id …)``), as
   plain tuples: never the documents nor the full decision JSON;
4. the plan dates (``plan.reassess_by`` and ``plan.retests``, protocol section 6) of
   the one decision per athlete the board needs them for, read by the database's JSON
   functions (SQLite ``json_extract``, PostgreSQL ``->``), so the large decision JSON
   never crosses into Python; decisions are written once, so dates already read are
   kept in the process and not read again.

An athlete's entries are the ones its status needs (:func:`api.web.view.in_force`): the
latest signed assessment that no correction superseded and the latest such assessment,
as :class:`BoardEntry`: plain slots rather than the validated pydantic records (building
those for a thousand athletes took most of the page's time).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, func, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import cast

from api.store.canonical import json_or_text
from api.store.tables import AssessmentRow, AthleteRow, DecisionRow, InjuryRow, SignoffRow
from api.store.transaction import StorePart

__all__ = [
    "BoardAthlete",
    "BoardDecision",
    "BoardEntry",
    "BoardInjury",
    "BoardPhase",
    "BoardSignoff",
    "PlanDates",
    "Squad",
    "SquadAthlete",
    "board",
]


@dataclass(frozen=True, slots=True)
class PlanDates:
    """The dates of a decision's plan (section 6): when to re-assess, and the
    surveillance re-tests at ``play`` (ISO dates). A 2026.1 decision has none."""

    reassess_by: str | None
    retests: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BoardAthlete:
    id: str
    name: str | None
    sport: str | None
    position: str | None


@dataclass(frozen=True, slots=True)
class BoardInjury:
    """An injury episode as the board shows it."""

    id: str
    region: str
    side: str
    date: str
    muscle: str | None
    bamic_grade: str | None


@dataclass(frozen=True, slots=True)
class BoardPhase:
    number: int
    id: str


@dataclass(frozen=True, slots=True)
class BoardDecision:
    """A decision as the board shows it: its phase and the ids of its red flags and
    cautions."""

    id: str
    phase: BoardPhase
    criteria_phase: BoardPhase
    red_flags: tuple[str, ...]
    cautions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BoardSignoff:
    id: str
    action: str
    signed_phase: str
    recommended_phase: str
    clinician: str
    signed_at: str


@dataclass(frozen=True, slots=True)
class BoardEntry:
    """An assessment as the board needs it (a light ``AssessmentEntry``: plain slots, built
    from the store's own rows without validation, a thousand at a time)."""

    id: str
    assessment_date: str
    superseded_by: str | None
    decision: BoardDecision
    signoff: BoardSignoff | None


@dataclass(frozen=True, slots=True)
class SquadAthlete:
    """One athlete on the board: the latest injury episode, the entries its status needs
    (the latest signed current entry, then the latest current entry; one when they are
    the same; none without an assessment), and the plan dates of the latest current
    entry."""

    athlete: BoardAthlete
    injury: BoardInjury | None
    entries: tuple[BoardEntry, ...]
    plan: PlanDates | None


class Squad(StorePart):
    """The squad board (part of :class:`~api.store.store.Store`)."""

    def squad_board(self) -> list[SquadAthlete]:
        """Every athlete with the latest injury episode, its entries and the plan dates of
        its latest current decision, in four statements (see the module)."""
        with self.database.reading(snapshot=True) as session:
            return board(session, self.database.dialect)


def board(session: Session, dialect: str) -> list[SquadAthlete]:
    """Every athlete, by id, with its latest episode (four statements; see the module).

    Rows are read as plain tuples (Core, no ORM objects) and only the two entries an
    athlete's status needs (the latest current one, the latest signed current one) become
    records, built without re-validation: they are the store's own rows, as written."""
    connection = session.connection()
    athletes = [BoardAthlete(*r) for r in connection.execute(
        select(AthleteRow.id, AthleteRow.name, AthleteRow.sport, AthleteRow.position)
        .order_by(AthleteRow.id))]
    latest: dict[str, Any] = {}
    for injury in connection.execute(select(
            InjuryRow.id, InjuryRow.athlete_id, InjuryRow.region, InjuryRow.side,
            InjuryRow.date, InjuryRow.muscle, InjuryRow.bamic_grade)
            .order_by(InjuryRow.athlete_id, InjuryRow.date, InjuryRow.created_at)):
        latest[injury.athlete_id] = injury
    latest_ids = {injury.id for injury in latest.values()}
    last_of: dict[str, Any] = {}
    signed_of: dict[str, Any] = {}
    for row in connection.execute(_latest_entries()):
        if row.injury_id not in latest_ids:
            continue
        if row.latest == 1:
            last_of[row.injury_id] = row
        if row.signoff_id is not None and row.latest_of_kind == 1:
            signed_of[row.injury_id] = row
    needed = {injury_id: (row, signed_of.get(injury_id)) for injury_id, row in last_of.items()}
    plans = _plan_dates(session, dialect, [last.decision_id for last, _ in needed.values()])
    board_rows = []
    for athlete in athletes:
        episode = latest.get(athlete.id)
        last, signed = needed.get(episode.id, (None, None)) if episode is not None else (
            None, None)
        items = [_entry(r) for r in dict.fromkeys(x for x in (signed, last) if x is not None)]
        board_rows.append(SquadAthlete(
            athlete=athlete,
            injury=BoardInjury(episode.id, episode.region, episode.side, episode.date,
                               episode.muscle, episode.bamic_grade)
            if episode is not None else None,
            entries=tuple(items), plan=plans.get(last.decision_id) if last else None))
    return board_rows


def _latest_entries() -> Any:
    """Per injury episode, its latest assessment that no correction superseded and its
    latest signed one, with the decision's summary columns and the sign-off: at most two
    rows per episode, picked by the database (``ROW_NUMBER()`` over the episode, and over
    the episode's signed and unsigned assessments apart)."""
    later = aliased(AssessmentRow)
    order = (AssessmentRow.assessment_date.desc(), AssessmentRow.created_at.desc(),
             AssessmentRow.id.desc())
    ranked = (
        select(AssessmentRow.id.label("assessment_id"), AssessmentRow.injury_id,
               AssessmentRow.assessment_date, DecisionRow.id.label("decision_id"),
               DecisionRow.phase_number, DecisionRow.phase_id,
               DecisionRow.criteria_phase_number, DecisionRow.criteria_phase_id,
               DecisionRow.summary, SignoffRow.id.label("signoff_id"), SignoffRow.action,
               SignoffRow.recommended_phase, SignoffRow.signed_phase,
               SignoffRow.clinician_name, SignoffRow.signed_at,
               func.row_number().over(partition_by=AssessmentRow.injury_id,
                                      order_by=order).label("latest"),
               func.row_number().over(partition_by=(AssessmentRow.injury_id,
                                                    SignoffRow.id.is_(None)),
                                      order_by=order).label("latest_of_kind"))
        .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
        .outerjoin(SignoffRow, SignoffRow.decision_id == DecisionRow.id)
        .outerjoin(later, later.supersedes == AssessmentRow.id)
        .where(later.id.is_(None))).subquery()
    return select(ranked).where((ranked.c.latest == 1) | (
        ranked.c.signoff_id.is_not(None) & (ranked.c.latest_of_kind == 1)))


def _entry(row: Any) -> BoardEntry:
    summary = json_or_text(row.summary)
    summary = summary if isinstance(summary, dict) else {}
    return BoardEntry(
        id=row.assessment_id, assessment_date=row.assessment_date, superseded_by=None,
        decision=BoardDecision(
            id=row.decision_id, phase=BoardPhase(row.phase_number, row.phase_id),
            criteria_phase=BoardPhase(row.criteria_phase_number, row.criteria_phase_id),
            red_flags=tuple(summary.get("red_flags", ())),
            cautions=tuple(summary.get("cautions", ()))),
        signoff=None if row.signoff_id is None else BoardSignoff(
            id=row.signoff_id, action=row.action, signed_phase=row.signed_phase,
            recommended_phase=row.recommended_phase, clinician=row.clinician_name,
            signed_at=row.signed_at))


_PLANS: OrderedDict[str, PlanDates] = OrderedDict()
_PLANS_KEPT = 200_000


def _plan_dates(session: Session, dialect: str, decision_ids: Sequence[str]
                ) -> dict[str, PlanDates]:
    """The plan dates of the decisions, read from their JSON by the database; a decision is
    written once, so what was read is kept (by decision id, the last 200,000) and only
    decisions not seen before are read."""
    found = {d: _PLANS[d] for d in decision_ids if d in _PLANS}
    missing = [d for d in decision_ids if d not in found]
    if missing:
        found.update(_read_plan_dates(session, dialect, missing))
        for decision_id in missing:
            if decision_id in found:
                _PLANS[decision_id] = found[decision_id]
        while len(_PLANS) > _PLANS_KEPT:
            _PLANS.popitem(last=False)
    return found


def _read_plan_dates(session: Session, dialect: str, decision_ids: Sequence[str]
                     ) -> dict[str, PlanDates]:
    if not decision_ids:
        return {}
    document = (cast(DecisionRow.decision_json, JSONB) if dialect == "postgresql"
                else type_coerce(DecisionRow.decision_json, JSON))
    reassess = document["plan"]["reassess_by"].as_string()
    retests = document["plan"]["retests"].as_json()
    found = {}
    for decision_id, reassess_by, dates in session.execute(
            select(DecisionRow.id, reassess, retests)
            .where(DecisionRow.id.in_(list(decision_ids)))):
        if isinstance(dates, str):  # SQLite hands back the JSON text of an array
            dates = json.loads(dates)
        found[decision_id] = PlanDates(reassess_by=reassess_by,
                                       retests=tuple(str(d) for d in dates or ()))
    return found
