"""Batch jobs' state: a replay of the archive, or a bulk report issue, and its chunks.

Kept in the database, not in Redis: any service worker answers ``GET
/v1/replays/{id}`` whichever process or machine started the job; a job runs
the same with Redis (RQ workers anywhere) and without it (in the service's own
process); and a finished job's summary outlives Redis being flushed or
restarted. These tables are working state, not clinical records: they are not
write-once and no audit entry vouches for them, and writing them never takes
the store's write lock (the audit chain's), so a running job never delays a
clinician's write.

A job is cut into chunks when it is created (:mod:`api.store.replay_reads`).
A worker *claims* a chunk by compare-and-set on its ``attempt`` counter, with a
lease (``lease_until``, seconds since the epoch) that it renews while it works
(every few decisions, with its progress). A worker killed mid-chunk stops
renewing; once the lease has run out any other worker claims the chunk again
and does it from the start. A result is recorded only by the holder of the
current attempt, so a chunk is counted once however often it was started.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.store.database import Database, translated_errors
from api.store.records import Principal
from api.store.replay_reads import ChunkBounds, Key
from api.store.tables import HASH, ID, STAMP, Base

__all__ = ["BatchChunkRow", "BatchJobRow", "Claim", "JobState", "JobStore"]


class BatchJobRow(Base):
    __tablename__ = "batch_jobs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``replay`` or ``reports`` (issue the missing reports of signed-off decisions)."""
    status: Mapped[str] = mapped_column(String(16))
    """``running``, ``done`` or ``failed``."""
    created_at: Mapped[str] = mapped_column(STAMP)
    created_by: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    """JSON of the :class:`Principal` who started the job (a report issue acts as them)."""
    rulebase_version: Mapped[str] = mapped_column(HASH)
    protocol_id: Mapped[str] = mapped_column(String(80))
    protocol_version: Mapped[str] = mapped_column(Text)
    protocol_text: Mapped[str | None] = mapped_column(Text)
    """The clinic's protocol file the job decides with; null: the shipped protocol."""
    total: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer)
    lease_seconds: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    """JSON, once done."""
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[str | None] = mapped_column(STAMP)


class BatchChunkRow(Base):
    __tablename__ = "batch_chunks"

    job_id: Mapped[str] = mapped_column(ID, ForeignKey("batch_jobs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    after_created_at: Mapped[str | None] = mapped_column(STAMP)
    after_id: Mapped[str | None] = mapped_column(ID)
    last_created_at: Mapped[str] = mapped_column(STAMP)
    last_id: Mapped[str] = mapped_column(ID)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    """``pending``, ``claimed`` or ``done``."""
    attempt: Mapped[int] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[float | None] = mapped_column(Float)
    done_count: Mapped[int] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(Text)
    """JSON, once done (:class:`api.replay.ChunkResult`)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A chunk a worker holds: redo it from the start, report under this ``attempt``."""

    job_id: str
    seq: int
    attempt: int
    bounds: ChunkBounds


@dataclass(frozen=True, slots=True)
class JobState:
    id: str
    kind: str
    status: str
    created_at: str
    created_by: str
    rulebase_version: str
    protocol_id: str
    protocol_version: str
    total: int
    processed: int
    chunk_count: int
    chunks_done: int
    summary: str | None
    error: str | None
    finished_at: str | None
    stalled: bool
    """Work is left and nobody is working: no chunk is held under a live lease (every
    worker of the job died, or the process that ran it in a thread stopped)."""


class JobStore:
    """Job state over the store's database (no audit lock: see the module's text)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Any:
        # SQLite: BEGIN IMMEDIATE, so a claim's read and its write are one step (a deferred
        # transaction that reads and then writes fails at once when another process wrote in
        # between). PostgreSQL: a plain transaction; the audit head row is not locked.
        return Session(self.database._writer, expire_on_commit=False)

    def create(self, *, job_id: str, kind: str, created_at: str, actor: Principal,
               rulebase_version: str, protocol_id: str, protocol_version: str,
               protocol_text: str | None, chunks: Iterable[ChunkBounds],
               lease_seconds: int) -> None:
        with translated_errors(), self._session() as session, session.begin():
            job = BatchJobRow(id=job_id, kind=kind, status="running", created_at=created_at,
                              created_by=actor.name, actor=actor.model_dump_json(),
                              rulebase_version=rulebase_version,
                              protocol_id=protocol_id, protocol_version=protocol_version,
                              protocol_text=protocol_text, total=0, chunk_count=0,
                              lease_seconds=lease_seconds)
            session.add(job)
            session.flush()
            for bounds in chunks:
                session.add(BatchChunkRow(
                    job_id=job_id, seq=bounds.index,
                    after_created_at=bounds.after[0] if bounds.after else None,
                    after_id=bounds.after[1] if bounds.after else None,
                    last_created_at=bounds.last[0], last_id=bounds.last[1], size=bounds.size,
                    status="pending", attempt=0, done_count=0))
                job.total += bounds.size
                job.chunk_count += 1

    def job(self, job_id: str) -> BatchJobRow | None:
        with translated_errors(), self._session() as session:
            row: BatchJobRow | None = session.get(BatchJobRow, job_id)
            return row

    def state(self, job_id: str, now: float | None = None) -> JobState | None:
        now = time.time() if now is None else now
        with translated_errors(), self._session() as session:
            job = session.get(BatchJobRow, job_id)
            if job is None:
                return None
            processed, done, held = session.execute(
                select(func.coalesce(func.sum(BatchChunkRow.done_count), 0),
                       func.count().filter(BatchChunkRow.status == "done"),
                       func.count().filter((BatchChunkRow.status == "claimed")
                                           & (BatchChunkRow.lease_until >= now)))
                .where(BatchChunkRow.job_id == job_id)).one()
            return JobState(id=job.id, kind=job.kind, status=job.status,
                            created_at=job.created_at, created_by=job.created_by,
                            rulebase_version=job.rulebase_version, protocol_id=job.protocol_id,
                            protocol_version=job.protocol_version, total=job.total,
                            processed=int(processed), chunk_count=job.chunk_count,
                            chunks_done=int(done), summary=job.summary, error=job.error,
                            finished_at=job.finished_at,
                            stalled=job.status == "running" and int(held) == 0
                            and int(done) < job.chunk_count)

    def claim(self, job_id: str, worker: str, lease_seconds: int) -> Claim | None:
        """The first chunk nobody holds (pending, or its lease run out), now held by
        ``worker``; ``None`` when there is none."""
        while True:
            now = time.time()
            with translated_errors(), self._session() as session, session.begin():
                row = session.execute(
                    select(BatchChunkRow).where(
                        BatchChunkRow.job_id == job_id,
                        (BatchChunkRow.status == "pending") | (
                            (BatchChunkRow.status == "claimed")
                            & (BatchChunkRow.lease_until < now)))
                    .order_by(BatchChunkRow.seq).limit(1)).scalar_one_or_none()
                if row is None:
                    return None
                won = session.execute(
                    update(BatchChunkRow)
                    .where(BatchChunkRow.job_id == job_id, BatchChunkRow.seq == row.seq,
                           BatchChunkRow.attempt == row.attempt,
                           BatchChunkRow.status != "done")
                    .values(status="claimed", attempt=row.attempt + 1, claimed_by=worker,
                            lease_until=now + lease_seconds, done_count=0)
                    .execution_options(synchronize_session=False)).rowcount
                if won == 1:
                    after: Key | None = ((row.after_created_at, row.after_id)
                                         if row.after_created_at is not None
                                         and row.after_id is not None else None)
                    return Claim(job_id, row.seq, row.attempt + 1,
                                 ChunkBounds(row.seq, after,
                                             (row.last_created_at, row.last_id), row.size))
            # another worker took it between the two statements: look again

    def renew(self, claim: Claim, done_count: int, lease_seconds: int) -> bool:
        """Extend the lease and record progress; ``False`` when the chunk was taken over."""
        with translated_errors(), self._session() as session, session.begin():
            return bool(session.execute(
                update(BatchChunkRow)
                .where(*_held(claim))
                .values(lease_until=time.time() + lease_seconds, done_count=done_count)
                .execution_options(synchronize_session=False)).rowcount)

    def complete(self, claim: Claim, done_count: int, result: str) -> bool:
        """Record the chunk's result, once: only the holder of the current attempt can."""
        with translated_errors(), self._session() as session, session.begin():
            return bool(session.execute(
                update(BatchChunkRow)
                .where(*_held(claim))
                .values(status="done", done_count=done_count, result=result,
                        lease_until=None)
                .execution_options(synchronize_session=False)).rowcount)

    def pending_or_running(self, job_id: str) -> int:
        """How many chunks are not done."""
        with translated_errors(), self._session() as session:
            return int(session.execute(
                select(func.count()).select_from(BatchChunkRow)
                .where(BatchChunkRow.job_id == job_id, BatchChunkRow.status != "done")
            ).scalar_one())

    def results(self, job_id: str) -> Iterator[str]:
        """The chunks' results in chunk order, streamed."""
        with translated_errors(), self._session() as session:
            for result in session.execute(
                    select(BatchChunkRow.result).where(BatchChunkRow.job_id == job_id)
                    .order_by(BatchChunkRow.seq).execution_options(yield_per=20)).scalars():
                yield result or "{}"

    def finish(self, job_id: str, *, summary: str | None, error: str | None,
               finished_at: str) -> bool:
        """Mark the job done (or failed), once; ``False`` when another worker did first."""
        with translated_errors(), self._session() as session, session.begin():
            return bool(session.execute(
                update(BatchJobRow)
                .where(BatchJobRow.id == job_id, BatchJobRow.status == "running")
                .values(status="failed" if error else "done", summary=summary, error=error,
                        finished_at=finished_at)
                .execution_options(synchronize_session=False)).rowcount)

    def running(self) -> list[str]:
        """The jobs not finished, oldest first."""
        with translated_errors(), self._session() as session:
            return list(session.execute(select(BatchJobRow.id)
                                        .where(BatchJobRow.status == "running")
                                        .order_by(BatchJobRow.created_at)).scalars())


def _held(claim: Claim) -> tuple[Any, ...]:
    """The chunk row as ``claim`` holds it: its job, number and attempt, still claimed (a
    chunk taken over after the lease ran out has a later attempt, so the old holder's
    renewal or result changes nothing)."""
    return (BatchChunkRow.job_id == claim.job_id, BatchChunkRow.seq == claim.seq,
            BatchChunkRow.attempt == claim.attempt, BatchChunkRow.status == "claimed")
