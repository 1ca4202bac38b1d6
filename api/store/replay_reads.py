"""Reading the archive for replay: in chunks, streamed, in the order it was stored.

Replay decides every stored assessment again. An archive of 100,000 decisions
of ~50 KiB each does not fit in memory, so it is read in *chunks*: contiguous
runs of assessments in storage order (``created_at``, then ``id``), each named
by the key of the assessment before it (``after``) and of its last one
(``last``). A chunk is read with one streamed query, so a reader holds at most
one database page of rows; a chunk's bounds are fixed when it is planned, so
any process on any machine reads the same rows for it.

Everything here reads; nothing writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, literal, select, tuple_
from sqlalchemy.orm import aliased

from api.signed_phase import SignedStep
from api.store.database import Database
from api.store.signoffs import signed_steps_of
from api.store.tables import AssessmentRow, DecisionRow, ReportRow, SignoffRow

__all__ = ["ArchivedDecision", "ChunkBounds", "archive_chunks", "archive_size",
           "archived_decisions", "chunk_injuries", "signed_visits", "unreported_decisions"]

Key = tuple[str, str]
"""An assessment's place in storage order: (``created_at``, ``id``)."""


@dataclass(frozen=True, slots=True)
class ChunkBounds:
    """A contiguous run of stored assessments: after ``after`` (exclusive; ``None``: from the
    first), up to ``last`` (inclusive); ``size`` assessments when planned."""

    index: int
    after: Key | None
    last: Key
    size: int


@dataclass(frozen=True, slots=True)
class ArchivedDecision:
    """One stored assessment (its canonical input as text) and its decision as stored."""

    assessment_id: str
    athlete_id: str
    injury_id: str
    assessment_date: str
    created_at: str
    document: str
    decision_id: str
    decision_json: str
    rulebase_version: str
    superseded_by: str | None
    supersedes: str | None = None
    """The assessment this one corrects (it does not count for the signed phase)."""


def archive_chunks(database: Database, size: int) -> Iterator[ChunkBounds]:
    """The archive cut into chunks of ``size`` assessments (the last may be smaller).

    Streams the keys once (two short strings per assessment; nothing is kept but the
    current chunk's first and last).
    """
    if size < 1:
        raise ValueError("a chunk holds at least one assessment")
    with database.reading(snapshot=True) as session:
        keys = session.execute(select(AssessmentRow.created_at, AssessmentRow.id)
                               .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
                               .order_by(AssessmentRow.created_at, AssessmentRow.id)
                               .execution_options(yield_per=2000))
        index, after, count, last = 0, None, 0, None
        for created_at, identifier in keys:
            last = (created_at, identifier)
            count += 1
            if count == size:
                yield ChunkBounds(index, after, last, count)
                index, after, count = index + 1, last, 0
        if count and last is not None:
            yield ChunkBounds(index, after, last, count)


def _in_chunk(after: Key | None, last: Key) -> ColumnElement[bool]:
    # Row-value comparisons on (created_at, id), which the index of migration 0005 serves
    # as one range on both databases (the same rows as comparing the parts one by one).
    key = tuple_(AssessmentRow.created_at, AssessmentRow.id)
    upto = key <= tuple_(literal(last[0]), literal(last[1]))
    if after is None:
        return upto
    return and_(key > tuple_(literal(after[0]), literal(after[1])), upto)


def chunk_injuries(database: Database, after: Key | None, last: Key) -> set[str]:
    """The injury episodes the assessments of one chunk belong to."""
    with database.reading(snapshot=True) as session:
        return set(session.execute(select(AssessmentRow.injury_id).distinct()
                                   .where(_in_chunk(after, last))).scalars())


def archived_decisions(database: Database, after: Key | None, last: Key
                       ) -> Iterator[ArchivedDecision]:
    """The stored assessments of one chunk with their decisions, in storage order, streamed."""
    later = aliased(AssessmentRow)
    query = (select(AssessmentRow.id, AssessmentRow.athlete_id, AssessmentRow.injury_id,
                    AssessmentRow.assessment_date, AssessmentRow.created_at,
                    AssessmentRow.document, DecisionRow.id, DecisionRow.decision_json,
                    DecisionRow.rulebase_version, later.id, AssessmentRow.supersedes)
             .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
             .outerjoin(later, later.supersedes == AssessmentRow.id)
             .where(_in_chunk(after, last))
             .order_by(AssessmentRow.created_at, AssessmentRow.id)
             .execution_options(yield_per=100))
    with database.reading(snapshot=True) as session:
        for (assessment_id, athlete_id, injury_id, assessment_date, created_at, document,
             decision_id, decision_json, rulebase_version, superseded_by,
             supersedes) in session.execute(query):
            yield ArchivedDecision(assessment_id, athlete_id, injury_id, assessment_date,
                                   created_at, document, decision_id, decision_json,
                                   rulebase_version, superseded_by, supersedes)


def signed_visits(database: Database, injury_ids: Iterable[str]
                  ) -> dict[str, list[SignedStep]]:
    """Every signed-off assessment of these injuries, by injury (for the signed phase,
    section 2.1): the store's one query, :func:`api.store.signoffs.signed_steps_of`."""
    with database.reading() as session:
        return signed_steps_of(session, injury_ids)


def archive_size(database: Database) -> int:
    """How many stored assessments have a decision."""
    with database.reading() as session:
        return int(session.execute(select(func.count()).select_from(AssessmentRow)
                                   .join(DecisionRow,
                                         DecisionRow.assessment_id == AssessmentRow.id))
                   .scalar_one())


def unreported_decisions(database: Database, after: Key | None, last: Key) -> list[str]:
    """The decisions of one chunk that are signed off and have no report yet, in storage
    order (a report is issued once a clinician has signed the decision off)."""
    with database.reading() as session:
        return list(session.execute(
            select(DecisionRow.id)
            .join(AssessmentRow, DecisionRow.assessment_id == AssessmentRow.id)
            .join(SignoffRow, SignoffRow.decision_id == DecisionRow.id)
            .outerjoin(ReportRow, ReportRow.decision_id == DecisionRow.id)
            .where(_in_chunk(after, last), ReportRow.id.is_(None))
            .order_by(AssessmentRow.created_at, AssessmentRow.id)).scalars())
