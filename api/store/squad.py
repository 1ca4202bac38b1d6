"""The squad board's reads: every athlete's latest injury episode and its entries, in a
constant number of queries however many athletes there are.

Four statements, whatever the squad's size:

1. the athletes;
2. their injury episodes (the latest per athlete is kept: by date, then storage);
3. the assessments of those episodes, each with its decision's summary columns, its
   sign-off (outer join) and whether a correction superseded it (outer self-join),
   never the documents nor the full decision JSON;
4. the plan dates (``plan.reassess_by`` and ``plan.retests``, protocol section 6) of
   the one decision per athlete the board needs them for, read by the database's JSON
   functions (SQLite ``json_extract``, PostgreSQL ``->``), so the large decision JSON
   never crosses into Python.

Entries are :class:`~api.store.records.AssessmentEntry` as the timeline gives them, except
that ``assessor`` is not read (it lives in the input document) and is ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import JSON, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased, load_only
from sqlalchemy.sql.expression import cast

from api.store.athletes import athlete_record
from api.store.decisions import decision_summary
from api.store.injuries import injury_record
from api.store.records import AssessmentEntry, Athlete, Injury
from api.store.signoffs import signoff_record
from api.store.tables import AssessmentRow, AthleteRow, DecisionRow, InjuryRow, SignoffRow
from api.store.transaction import StorePart

__all__ = ["PlanDates", "Squad", "SquadAthlete", "board"]


@dataclass(frozen=True, slots=True)
class PlanDates:
    """The dates of a decision's plan (section 6): when to re-assess, and the
    surveillance re-tests at ``play`` (ISO dates). A 2026.1 decision has none."""

    reassess_by: str | None
    retests: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SquadAthlete:
    """One athlete on the board: the latest injury episode, its entries in assessment-date
    order (superseded ones included), and the plan dates of the latest current entry."""

    athlete: Athlete
    injury: Injury | None
    entries: tuple[AssessmentEntry, ...]
    plan: PlanDates | None


class Squad(StorePart):
    """The squad board (part of :class:`~api.store.store.Store`)."""

    def squad_board(self) -> list[SquadAthlete]:
        """Every athlete with the latest injury episode, its entries and the plan dates of
        its latest current decision, in four statements (see the module)."""
        with self.database.reading(snapshot=True) as session:
            return board(session, self.database.dialect)


def board(session: Session, dialect: str) -> list[SquadAthlete]:
    """Every athlete, by id, with its latest episode (four statements; see the module)."""
    athletes = [athlete_record(row) for row in session.execute(
        select(AthleteRow).order_by(AthleteRow.id)).scalars()]
    latest: dict[str, InjuryRow] = {}
    for injury in session.execute(select(InjuryRow).order_by(
            InjuryRow.athlete_id, InjuryRow.date, InjuryRow.created_at)).scalars():
        latest[injury.athlete_id] = injury
    later = aliased(AssessmentRow)
    rows = session.execute(
        select(AssessmentRow, DecisionRow, SignoffRow, later.id)
        .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
        .join(InjuryRow, InjuryRow.id == AssessmentRow.injury_id)
        .outerjoin(SignoffRow, SignoffRow.decision_id == DecisionRow.id)
        .outerjoin(later, later.supersedes == AssessmentRow.id)
        .options(load_only(AssessmentRow.id, AssessmentRow.athlete_id, AssessmentRow.injury_id,
                           AssessmentRow.supersedes, AssessmentRow.assessment_date,
                           AssessmentRow.input_sha256, AssessmentRow.created_at),
                 load_only(DecisionRow.id, DecisionRow.assessment_id, DecisionRow.phase_number,
                           DecisionRow.phase_id, DecisionRow.criteria_phase_number,
                           DecisionRow.criteria_phase_id, DecisionRow.cleared_to_sprint,
                           DecisionRow.cleared_to_play, DecisionRow.summary,
                           DecisionRow.rulebase_version, DecisionRow.protocol_id,
                           DecisionRow.protocol_version, DecisionRow.evaluated_at))
        .order_by(AssessmentRow.assessment_date, AssessmentRow.created_at)).all()
    latest_ids = {injury.id for injury in latest.values()}
    entries: dict[str, list[AssessmentEntry]] = {}
    for row, decision, signoff, superseded_by in rows:
        if row.injury_id not in latest_ids:
            continue
        entries.setdefault(row.injury_id, []).append(AssessmentEntry(
            id=row.id, athlete_id=row.athlete_id, injury_id=row.injury_id,
            assessment_date=row.assessment_date, assessor=None, supersedes=row.supersedes,
            superseded_by=superseded_by, input_sha256=row.input_sha256,
            created_at=row.created_at, decision=decision_summary(decision),
            signoff=signoff_record(signoff) if signoff else None))
    wanted = []
    for items in entries.values():
        current = [e for e in items if e.superseded_by is None]
        if current:
            wanted.append(current[-1].decision.id)
    plans = _plan_dates(session, dialect, wanted)
    board_rows = []
    for athlete in athletes:
        episode = latest.get(athlete.id)
        items = entries.get(episode.id, []) if episode is not None else []
        current = [e for e in items if e.superseded_by is None]
        board_rows.append(SquadAthlete(
            athlete=athlete, injury=injury_record(episode) if episode is not None else None,
            entries=tuple(items),
            plan=plans.get(current[-1].decision.id) if current else None))
    return board_rows


def _plan_dates(session: Session, dialect: str, decision_ids: Sequence[str]
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
