"""Assessments: an injury's assessments, each stored with its decision in one write.

A stored assessment is never changed: a correction is a new one that supersedes it
(:mod:`api.store.corrections`). Storing one is audited twice, ``assessment.create``
and ``decision.create``. Also here: an athlete's timeline, the decision log, and
every stored assessment with its decision for replay (:class:`StoredAssessmentInput`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from api.signed_phase import latest_signed_step, previous_conflict
from api.store import audit
from api.store.athletes import athlete_record
from api.store.canonical import canonical_json, sha256_hex
from api.store.corrections import check_supersedes, superseded_by
from api.store.decisions import decision_row, decision_summary, stored_decision
from api.store.injuries import injury_record
from api.store.records import (
    AssessmentEntry,
    AssessmentRecord,
    InjuryTimeline,
    Principal,
    StoredDecision,
    Timeline,
)
from api.store.signoffs import signed_steps, signoff_record
from api.store.tables import AssessmentRow, AthleteRow, DecisionRow, InjuryRow, SignoffRow
from api.store.transaction import (
    StorePart,
    future_date_problem,
    get_row,
    new_id,
    plausible,
    refuse_nul,
    stamp,
)
from engine.assessment import Assessment, parse_assessment
from engine.decision import Decision
from rules.errors import Conflict, InvalidAssessment, NotFound, StoreCorrupted

__all__ = ["Assessments", "StoredAssessmentInput", "assessment_entries"]


@dataclass(frozen=True, slots=True)
class StoredAssessmentInput:
    """One stored assessment and its decision as stored, for replay."""

    assessment_id: str
    athlete_id: str
    injury_id: str
    assessment_date: str
    document: str
    decision_id: str
    decision_json: str
    rulebase_version: str
    superseded_by: str | None
    stored_at: str = ""
    """When the assessment was stored (``created_at``): the ``as_of`` with which
    :func:`api.signed_phase.latest_signed_step` gives what the service filled then."""
    supersedes: str | None = None
    """The assessment this one corrects: ``excluding`` for ``latest_signed_step``. So replay
    fills ``previous`` as the service did: ``latest_signed_step(store.signed_steps(
    item.injury_id), item.assessment_date, as_of=item.stored_at, excluding=item.supersedes)``."""


def _name_conflict(assessment: Assessment, athlete: AthleteRow) -> str | None:
    """Why the document's ``athlete.name`` cannot stand: the stored athlete's name wins."""
    given = assessment.document["athlete"].get("name")
    if given is None or athlete.name is None or given == athlete.name:
        return None
    return (f"athlete.name is {given!r}, but athlete {athlete.id} is stored as {athlete.name!r}: "
            f"the stored identity wins; omit athlete.name (the service fills it) or send "
            f"the stored one")


def _check_matches_injury(assessment: Assessment, injury: InjuryRow) -> None:
    document = assessment.document
    mismatches = []
    if assessment.athlete_id != injury.athlete_id:
        mismatches.append(f"athlete.id is {assessment.athlete_id}, the injury is of athlete "
                          f"{injury.athlete_id}")
    for name in ("region", "side", "date"):
        given = document["injury"][name]
        if given != getattr(injury, name):
            mismatches.append(f"injury.{name} is {given}, injury {injury.id} has "
                              f"{getattr(injury, name)}")
    if mismatches:
        raise Conflict("the assessment is not of this injury: " + "; ".join(mismatches))


def assessment_entries(session: Session, rows: Sequence[AssessmentRow]
                       ) -> list[AssessmentEntry]:
    """These assessments with their decisions' summaries and sign-offs (three queries)."""
    ids = [row.id for row in rows]
    decisions = {d.assessment_id: d for d in session.execute(
        select(DecisionRow).where(DecisionRow.assessment_id.in_(ids))
        .options(defer(DecisionRow.decision_json))).scalars()}
    signoffs = {s.decision_id: s for s in session.execute(
        select(SignoffRow).where(SignoffRow.decision_id.in_(
            [d.id for d in decisions.values()]))).scalars()}
    later = superseded_by(session, ids)
    entries = []
    for row in rows:
        decision = decisions.get(row.id)
        if decision is None:
            raise StoreCorrupted(
                f"assessment {row.id} has no stored decision: the database was changed "
                "outside sprintclear; run `sprintclear audit verify` (or GET "
                "/v1/audit/verify) to see what was changed")
        signoff = signoffs.get(decision.id)
        assessor = json.loads(row.document).get("assessment", {}).get("assessor")
        entries.append(AssessmentEntry(
            id=row.id, athlete_id=row.athlete_id, injury_id=row.injury_id,
            assessment_date=row.assessment_date, assessor=assessor,
            supersedes=row.supersedes, superseded_by=later.get(row.id),
            input_sha256=row.input_sha256, created_at=row.created_at,
            decision=decision_summary(decision),
            signoff=signoff_record(signoff) if signoff else None))
    return entries


_EPISODE = (select(InjuryRow, AthleteRow)
            .join(AthleteRow, AthleteRow.id == InjuryRow.athlete_id)
            .where(InjuryRow.id == bindparam("injury_id")))
_SAME_INPUT = select(AssessmentRow.id, AssessmentRow.created_at).where(
    AssessmentRow.input_sha256 == bindparam("input_sha256"))


def _identical(assessment_id: str, stored_at: str) -> Conflict:
    return Conflict(f"this assessment is already stored, identical, as {assessment_id} "
                    f"(stored {stored_at}); a correction must change something")


def _episode(session: Session, injury_id: str) -> tuple[InjuryRow, AthleteRow]:
    """The injury and its athlete, in one statement; ``NotFound`` naming the injury."""
    found = session.execute(_EPISODE, {"injury_id": injury_id}).one_or_none() \
        if plausible(injury_id) else None
    if found is None:
        raise NotFound(f"injury {injury_id[:80]!r} does not exist")
    return found[0], found[1]


def _filled_previous(session: Session, injury_id: str, assessment: Assessment,
                     supersedes: str | None) -> Assessment:
    """:meth:`Assessments.fill_previous` on an open session."""
    date = str(assessment.document["assessment"]["date"])
    stored = _signed_previous(session, injury_id, date, supersedes)
    reason = previous_conflict(assessment.document.get("previous"), stored)
    if reason is not None:
        raise Conflict(reason)
    if stored is None or assessment.document.get("previous") == stored:
        return assessment
    return parse_assessment({**assessment.document, "previous": dict(stored)})


def _signed_previous(session: Session, injury_id: str, assessment_date: str,
                     supersedes: str | None) -> dict[str, str] | None:
    return latest_signed_step(signed_steps(session, injury_id), assessment_date,
                              excluding=supersedes)


def _check_previous(assessment: Assessment, stored: dict[str, str] | None) -> None:
    given = assessment.document.get("previous")
    if given is None and stored is not None:
        raise Conflict(f"the assessment gives no previous, but the last signed phase on record "
                       f"for this injury is {stored['phase']}, signed for the assessment of "
                       f"{stored['date']}: it must start from it (protocol section 2.1)")
    reason = previous_conflict(given, stored)
    if reason is not None:
        raise Conflict(reason)


class Assessments(StorePart):
    """The store's assessments (part of :class:`~api.store.store.Store`)."""

    def signed_previous(self, injury_id: str, assessment_date: str, *,
                        supersedes: str | None = None) -> dict[str, str] | None:
        """``{"phase", "date"}`` an assessment of the injury dated ``assessment_date``
        starts from, from the stored sign-offs (:func:`api.signed_phase.latest_signed_step`);
        None without one. ``NotFound`` without the injury."""
        with self.database.reading() as session:
            get_row(session, InjuryRow, injury_id, "injury")
            return _signed_previous(session, injury_id, assessment_date, supersedes)

    def from_records(self, injury_id: str, assessment: Assessment, *,
                     supersedes: str | None = None) -> Assessment:
        """The assessment as the service stores it: the athlete's stored name (an omitted
        ``athlete.name`` is filled, a different one is a ``Conflict``, issue 10 item 9) and
        ``previous`` from the sign-offs (:meth:`fill_previous`). Only what the records
        hold is filled: an athlete stored without a name keeps the document's."""
        # Injuries and athletes are written once, and the sign-offs behind ``previous`` are
        # read again under the write lock (record_assessment): no shared snapshot needed.
        with self.database.lookup() as session:
            injury, athlete = _episode(session, injury_id)
            _check_matches_injury(assessment, injury)
            conflict = _name_conflict(assessment, athlete)
            if conflict is not None:
                raise Conflict(conflict)
            if athlete.name is not None and assessment.document["athlete"].get("name") is None:
                assessment = parse_assessment({
                    **assessment.document,
                    "athlete": {**assessment.document["athlete"], "name": athlete.name}})
            return _filled_previous(session, injury_id, assessment, supersedes)

    def fill_previous(self, injury_id: str, assessment: Assessment, *,
                      supersedes: str | None = None) -> Assessment:
        """The assessment with ``previous`` filled from the records (protocol section 2.1).

        An omitted ``previous`` is filled (or stays absent when nothing was signed); one
        equal to the records is kept; one that differs is a ``Conflict`` naming the stored
        values. ``NotFound`` without the injury. :meth:`record_assessment` checks it again
        under the write lock, so a sign-off in between is a ``Conflict``, never a step
        from a stale phase.
        """
        with self.database.reading() as session:
            get_row(session, InjuryRow, injury_id, "injury")
            return _filled_previous(session, injury_id, assessment, supersedes)

    def record_assessment(self, actor: Principal, injury_id: str, assessment: Assessment,
                          decision: Decision | dict[str, Any], *,
                          supersedes: str | None = None,
                          check_previous: bool = False) -> StoredDecision:
        """Store an assessment of an injury with its decision (decided with ``evaluated_at``):
        a typed :class:`Decision` or the engine's plain data of one
        (``Evaluator.decide_data``, which the service passes: the typed model is not needed
        to store it).

        Refused with ``Conflict`` when the document names another athlete or another
        injury than the episode or another name than the stored athlete's, when it is
        identical to a stored assessment, when the
        assessment it supersedes belongs elsewhere or was superseded already, or when its
        ``check_previous`` and its ``previous`` is not the signed phase on record.
        ``InvalidAssessment`` when its injury or assessment date is after today (server
        time, one day of tolerance). The
        service's routes fill ``previous`` with :meth:`fill_previous` and pass
        ``check_previous=True``, so that a sign-off between the two is a ``Conflict``
        under the write lock; a caller importing a history (tests, the demo) may store a
        document's ``previous`` as given.
        """
        data = decision.plain() if isinstance(decision, Decision) else decision
        if data["input_sha256"] != assessment.input_sha256 or data["evaluated_at"] is None:
            raise ValueError("the decision must be of this assessment, with evaluated_at")
        refuse_nul(assessment.document, "the assessment cannot be stored", InvalidAssessment)
        future = [problem for field, value in (
            ("injury.date", assessment.document["injury"]["date"]),
            ("assessment.date", assessment.document["assessment"]["date"]))
            if (problem := future_date_problem(field, str(value), self.now())) is not None]
        if future:
            raise InvalidAssessment("the assessment cannot be stored", future)
        document_text = canonical_json(assessment.document)
        if sha256_hex(document_text) != assessment.input_sha256:  # pragma: no cover - guard
            raise AssertionError("canonical JSON of the store and the engine differ")
        at = stamp(dt.datetime.fromisoformat(data["evaluated_at"].replace("Z", "+00:00")))
        document = assessment.document
        assessment_date = str(document["assessment"]["date"])
        # Everything that needs no record is written and hashed before the transaction, so
        # that writers hold the chain's lock only for the checks and the inserts (issue 11
        # item 5). The athlete's id is the document's, checked against the injury's below.
        row = AssessmentRow(id=new_id("asm"), athlete_id=assessment.athlete_id,
                            injury_id=injury_id, supersedes=supersedes,
                            assessment_date=assessment_date, document=document_text,
                            input_sha256=assessment.input_sha256, created_at=at)
        stored = decision_row(data, row.id)
        assessment_entry = {
            "assessment_id": row.id, "athlete_id": row.athlete_id, "injury_id": row.injury_id,
            "supersedes": supersedes, "assessment_date": row.assessment_date,
            "input_sha256": row.input_sha256, "record_sha256": audit.record_sha256(row)}
        decision_entry = {
            "decision_id": stored.id, "assessment_id": row.id,
            "input_sha256": stored.input_sha256, "rulebase_version": stored.rulebase_version,
            "protocol": stored.protocol_id, "phase": stored.phase_id,
            "criteria_phase": stored.criteria_phase_id,
            "cleared_to_sprint": stored.cleared_to_sprint,
            "cleared_to_play": stored.cleared_to_play,
            "decision_sha256": stored.decision_sha256,
            "record_sha256": audit.record_sha256(stored)}

        def unlocked_checks(session: Session) -> None:
            # Injuries and athletes are written once; a duplicate stored between this read
            # and the insert is refused by the unique index on input_sha256 (below).
            injury, athlete = _episode(session, injury_id)
            _check_matches_injury(assessment, injury)
            conflict = _name_conflict(assessment, athlete)
            if conflict is not None:
                raise Conflict(conflict)
            same = session.execute(
                _SAME_INPUT, {"input_sha256": assessment.input_sha256}).one_or_none()
            if same is not None:
                raise _identical(same.id, same.created_at)

        try:
            with self.transaction(actor, at, before_lock=unlocked_checks) as tx:
                session = tx.session
                # Under the lock: what a concurrent write can change (a correction, a
                # sign-off).
                if supersedes is not None:
                    check_supersedes(session, supersedes, session.get_one(InjuryRow, injury_id))
                if check_previous:
                    _check_previous(assessment, _signed_previous(
                        session, injury_id, assessment_date, supersedes))
                # The decision's id hashes the input's SHA-256 (engine.decide), refused above
                # when stored already; the decisions' primary key still guards it.
                # One flush at the commit: the unit of work inserts the tables in the order
                # of their foreign keys (assessment, then decision).
                session.add_all((row, stored))
                tx.audit("assessment.create", f"assessment/{row.id}", assessment_entry)
                tx.audit("decision.create", f"decision/{stored.id}", decision_entry)
        except Conflict as exc:
            # The same input stored by another writer after the check above: the unique
            # index refused it; say so as the check would have.
            refused = exc.__cause__
            if isinstance(refused, IntegrityError) and "input_sha256" in str(refused.orig):
                with self.database.lookup() as session:
                    same = session.execute(
                        select(AssessmentRow.id, AssessmentRow.created_at).where(
                            AssessmentRow.input_sha256 == assessment.input_sha256)
                    ).one_or_none()
                if same is not None:
                    raise _identical(same.id, same.created_at) from exc
            raise
        return stored_decision(stored, row, None, None, None)

    def get_assessment(self, assessment_id: str) -> AssessmentRecord:
        with self.database.reading() as session:
            row = get_row(session, AssessmentRow, assessment_id, "assessment")
            entry = assessment_entries(session, [row])[0]
            return AssessmentRecord(entry=entry, document=json.loads(row.document))

    def list_assessments(self, injury_id: str) -> list[AssessmentEntry]:
        with self.database.reading() as session:
            get_row(session, InjuryRow, injury_id, "injury")
            rows = list(session.execute(select(AssessmentRow)
                                        .where(AssessmentRow.injury_id == injury_id)
                                        .order_by(AssessmentRow.assessment_date,
                                                  AssessmentRow.created_at)).scalars())
            return assessment_entries(session, rows)

    def timeline(self, athlete_id: str) -> Timeline:
        """An athlete's injuries, each with its assessments, decisions and sign-offs in order."""
        with self.database.reading() as session:
            athlete = get_row(session, AthleteRow, athlete_id, "athlete")
            injuries = list(session.execute(
                select(InjuryRow).where(InjuryRow.athlete_id == athlete_id)
                .order_by(InjuryRow.date, InjuryRow.created_at)).scalars())
            rows = list(session.execute(
                select(AssessmentRow).where(AssessmentRow.athlete_id == athlete_id)
                .order_by(AssessmentRow.assessment_date, AssessmentRow.created_at)).scalars())
            entries = assessment_entries(session, rows)
            return Timeline(athlete=athlete_record(athlete), injuries=[
                InjuryTimeline(injury=injury_record(injury),
                               assessments=[e for e in entries if e.injury_id == injury.id])
                for injury in injuries])

    def decision_log(self, *, athlete_id: str | None = None, assessed_from: str | None = None,
                     assessed_to: str | None = None, limit: int = 500, offset: int = 0
                     ) -> tuple[list[AssessmentEntry], bool]:
        """Stored assessments with their decisions and sign-offs, newest assessment first.

        Optionally of one athlete and within assessment dates (ISO, both ends included).
        The second value is true when more entries match than ``limit``."""
        query = select(AssessmentRow)
        if athlete_id is not None:
            query = query.where(AssessmentRow.athlete_id == athlete_id)
        if assessed_from is not None:
            query = query.where(AssessmentRow.assessment_date >= assessed_from)
        if assessed_to is not None:
            query = query.where(AssessmentRow.assessment_date <= assessed_to)
        query = query.order_by(AssessmentRow.assessment_date.desc(),
                               AssessmentRow.created_at.desc(), AssessmentRow.id.desc())
        with self.database.reading() as session:
            rows = list(session.execute(query.offset(offset).limit(limit + 1)).scalars())
            return assessment_entries(session, rows[:limit]), len(rows) > limit

    def stored_assessments(self) -> Iterator[StoredAssessmentInput]:
        """Every stored assessment with its decision, in the order they were stored."""
        with self.database.reading(snapshot=True) as session:
            later = {row.supersedes: row.id for row in session.execute(
                select(AssessmentRow.supersedes, AssessmentRow.id)
                .where(AssessmentRow.supersedes.is_not(None)))}
            result = session.execute(
                select(AssessmentRow, DecisionRow)
                .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
                .order_by(AssessmentRow.created_at, AssessmentRow.id)
                .execution_options(yield_per=200))
            for row, decision in result:
                yield StoredAssessmentInput(
                    assessment_id=row.id, athlete_id=row.athlete_id, injury_id=row.injury_id,
                    assessment_date=row.assessment_date, document=row.document,
                    decision_id=decision.id, decision_json=decision.decision_json,
                    rulebase_version=decision.rulebase_version,
                    superseded_by=later.get(row.id), stored_at=row.created_at,
                    supersedes=row.supersedes)
