"""The audit trail as the audit page reads it: filtered, a page at a time, with names.

- :func:`athlete_subjects`: every audit subject that belongs to one athlete (the athlete,
  its injuries, assessments, decisions, sign-offs and reports), so the athlete filter
  applies to the trail as it does to the decision log;
- :func:`entries`: a page of entries, latest first, optionally of those subjects and
  within dates of the write (``at``, UTC, both ends included);
- :func:`labels`: for the subjects on a page, the athlete's name and the decision to link
  to, in one query per kind of record on the page (never one per entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.store.canonical import json_or_text
from api.store.records import AuditEntry
from api.store.tables import (
    AssessmentRow,
    AthleteRow,
    AuditEntryRow,
    DecisionRow,
    InjuryRow,
    ReportRow,
    SignoffRow,
)
from api.store.transaction import StorePart

__all__ = ["SubjectLabel", "Trail", "athlete_subjects", "entries", "labels"]


@dataclass(frozen=True, slots=True)
class SubjectLabel:
    """What an audit subject is, in words, and where it is shown."""

    kind: str
    """``athlete``, ``injury``, ``assessment``, ``decision``, ``sign-off``, ``report``,
    ``key``."""
    athlete_id: str | None
    athlete_name: str | None
    decision_id: str | None
    """The decision page to link to (assessments, decisions, sign-offs, reports)."""
    date: str | None
    """The assessment date (or the injury date), when there is one."""


class Trail(StorePart):
    """The trail as the audit page reads it (part of :class:`~api.store.store.Store`)."""

    def audit_trail(self, *, athlete_id: str | None = None, at_from: str | None = None,
                    at_to: str | None = None, before: int | None = None, limit: int = 50
                    ) -> tuple[list[AuditEntry], bool]:
        """A page of the trail, latest first: of one athlete's records if given, written
        between two dates (ISO, UTC, both included); true when older entries match."""
        with self.database.reading() as session:
            subjects = (athlete_subjects(session, athlete_id) if athlete_id is not None
                        else None)
            return entries(session, subjects=subjects, at_from=at_from, at_to=at_to,
                           before=before, limit=limit)

    def subject_labels(self, subjects: Iterable[str]) -> dict[str, SubjectLabel]:
        """Names and decision links for audit subjects (``athlete/FC-23``, ``signoff/…``)."""
        with self.database.reading() as session:
            return labels(session, subjects)


def athlete_subjects(session: Session, athlete_id: str) -> list[str]:
    """Every subject of the trail that belongs to ``athlete_id``."""
    subjects = [f"athlete/{athlete_id}"]
    subjects += [f"injury/{i}" for i in session.execute(
        select(InjuryRow.id).where(InjuryRow.athlete_id == athlete_id)).scalars()]
    pairs = session.execute(
        select(AssessmentRow.id, DecisionRow.id)
        .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id, isouter=True)
        .where(AssessmentRow.athlete_id == athlete_id)).all()
    subjects += [f"assessment/{a}" for a, _ in pairs]
    decisions = [d for _, d in pairs if d is not None]
    subjects += [f"decision/{d}" for d in decisions]
    if decisions:
        subjects += [f"signoff/{s}" for s in session.execute(
            select(SignoffRow.id).where(SignoffRow.decision_id.in_(decisions))).scalars()]
        subjects += [f"report/{r}" for r in session.execute(
            select(ReportRow.id).where(ReportRow.decision_id.in_(decisions))).scalars()]
    return subjects


def _filtered(query: Select[Any], subjects: Sequence[str] | None, at_from: str | None,
              at_to: str | None) -> Select[Any]:
    if subjects is not None:
        query = query.where(AuditEntryRow.subject.in_(list(subjects)))
    if at_from is not None:
        query = query.where(AuditEntryRow.at >= at_from)
    if at_to is not None:
        query = query.where(AuditEntryRow.at < at_to + "T99")  # the whole day, as text
    return query


def entries(session: Session, *, subjects: Sequence[str] | None = None,
            at_from: str | None = None, at_to: str | None = None, before: int | None = None,
            limit: int = 50) -> tuple[list[AuditEntry], bool]:
    """Entries latest first (below ``before`` if given); true when there are older ones."""
    query = _filtered(select(AuditEntryRow), subjects, at_from, at_to)
    if before is not None:
        query = query.where(AuditEntryRow.seq < before)
    rows = list(session.execute(query.order_by(AuditEntryRow.seq.desc())
                                .limit(limit + 1)).scalars())
    return [_entry(row) for row in rows[:limit]], len(rows) > limit


def _entry(row: AuditEntryRow) -> AuditEntry:
    details = json_or_text(row.details)
    return AuditEntry(seq=row.seq, at=row.at,
                      actor={"key": row.actor_key_id, "name": row.actor_name,
                             "role": row.actor_role},
                      action=row.action, subject=row.subject, details=details,
                      prev_hash=row.prev_hash, hash=row.hash)


def labels(session: Session, subjects: Iterable[str]) -> dict[str, SubjectLabel]:
    """The label of each subject that still exists (a deleted record has none)."""
    wanted: dict[str, list[str]] = {}
    for subject in subjects:
        kind, _, identifier = subject.partition("/")
        wanted.setdefault(kind, []).append(identifier)
    found: dict[str, SubjectLabel] = {}
    names: dict[str, str | None] = {}

    def athlete_names(ids: Iterable[str]) -> None:
        missing = [i for i in set(ids) if i not in names]
        if missing:
            names.update((athlete_id, name) for athlete_id, name in session.execute(
                select(AthleteRow.id, AthleteRow.name).where(AthleteRow.id.in_(missing))))

    if "athlete" in wanted:
        athlete_names(wanted["athlete"])
        for identifier in wanted["athlete"]:
            if identifier in names:
                found[f"athlete/{identifier}"] = SubjectLabel(
                    "athlete", identifier, names[identifier], None, None)
    if "injury" in wanted:
        injuries = session.execute(select(InjuryRow.id, InjuryRow.athlete_id, InjuryRow.date)
                                   .where(InjuryRow.id.in_(wanted["injury"]))).all()
        athlete_names(r.athlete_id for r in injuries)
        for identifier, athlete_id, date in injuries:
            found[f"injury/{identifier}"] = SubjectLabel("injury", athlete_id,
                                                         names.get(athlete_id), None, date)
    by_decision: dict[str, tuple[str, str]] = {}
    decision_ids = set(wanted.get("decision", []))
    signoffs = {s: d for s, d in session.execute(
        select(SignoffRow.id, SignoffRow.decision_id)
        .where(SignoffRow.id.in_(wanted.get("signoff", []))))} if "signoff" in wanted else {}
    reports = {r: d for r, d in session.execute(
        select(ReportRow.id, ReportRow.decision_id)
        .where(ReportRow.id.in_(wanted.get("report", []))))} if "report" in wanted else {}
    decision_ids |= set(signoffs.values()) | set(reports.values())
    assessment_ids = set(wanted.get("assessment", []))
    if decision_ids or assessment_ids:
        rows = session.execute(
            select(DecisionRow.id, AssessmentRow.id, AssessmentRow.athlete_id,
                   AssessmentRow.assessment_date)
            .join(AssessmentRow, AssessmentRow.id == DecisionRow.assessment_id)
            .where(DecisionRow.id.in_(list(decision_ids))
                   | AssessmentRow.id.in_(list(assessment_ids)))).all()
        athlete_names(r[2] for r in rows)
        for decision_id, assessment_id, athlete_id, date in rows:
            by_decision[decision_id] = (athlete_id, date)
            if assessment_id in assessment_ids:
                found[f"assessment/{assessment_id}"] = SubjectLabel(
                    "assessment", athlete_id, names.get(athlete_id), decision_id, date)
    for kind, ids in (("decision", {d: d for d in wanted.get("decision", [])}),
                      ("signoff", signoffs), ("report", reports)):
        for identifier, decision_id in ids.items():
            if decision_id in by_decision:
                athlete_id, date = by_decision[decision_id]
                found[f"{kind}/{identifier}"] = SubjectLabel(
                    "sign-off" if kind == "signoff" else kind, athlete_id,
                    names.get(athlete_id), decision_id, date)
    return found
