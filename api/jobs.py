"""Replays of the whole archive, and bulk report issues, as jobs: on Redis with RQ, or in
the service's process.

``POST /v1/replays`` calls :func:`start_replay`: the archive is cut into chunks
(:func:`api.store.replay_reads.archive_chunks`) and the job and its chunks are
recorded in the database (:mod:`api.store.jobs`, which says why there). Then

- with ``SPRINTCLEAR_REDIS_URL`` set, one RQ job per chunk (at most
  :data:`MAX_SLOTS`) is put on the queue (``SPRINTCLEAR_RQ_QUEUE``, default
  ``sprintclear``); ``sprintclear worker`` processes, on any machines that share
  the database, take them;
- otherwise a thread of the service process does the work.

Either way the work is :func:`work`: claim a chunk nobody holds, replay it
(renewing the lease with the progress every :data:`RENEW_EVERY` decisions),
record its result, and again, until every chunk is done; then the first
worker to see that writes the summary. A worker killed mid-chunk loses its
lease after ``lease_seconds``; a worker still running waits for that and
takes the chunk over, and ``sprintclear worker`` at start-up queues a job for
every replay left unfinished, so a replay completes as long as one worker
runs. A replay reads the archive and writes only its own job state: never a
clinical record, never an audit entry.

A **bulk report issue** (``POST /v1/reports/issues``, :func:`start_report_issue`)
is the same kind of job over the same chunks: each chunk issues the report of
every signed-off decision that has none (``api.reporting.ReportService.issue``:
rendered, signed with the clinic's key, stored with one audit entry). A
decision has one report, kept for good: one already there is counted and left
as it is, and a chunk redone after a worker died issues only what is still
missing, so each report and its audit entry are written once. Workers sign with
their own ``SPRINTCLEAR_SIGNING_*`` settings.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

from api.replay import DEFAULT_CHUNK_SIZE, ChunkResult, replay_items
from api.reporting import ReportService
from api.settings import Settings
from api.store import Principal, Store, stamp, utc_now
from api.store.jobs import Claim, JobState, JobStore
from api.store.replay_reads import (
    archive_chunks,
    archived_decisions,
    chunk_injuries,
    signed_visits,
    unreported_decisions,
)
from engine.decide import Evaluator, evaluator_for
from rules.errors import Conflict, NotConfigured, SprintclearError, StoreUnavailable
from rules.loading import default_protocol, parse_protocol

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "MAX_SLOTS",
    "RENEW_EVERY",
    "replay_summary",
    "report_issue_summary",
    "run_worker",
    "start_replay",
    "start_report_issue",
    "work",
]

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 60
"""How long a claimed chunk stays with a worker that stopped renewing it."""
MAX_SLOTS = 64
"""RQ jobs queued per replay at most (each works until every chunk is done)."""
RENEW_EVERY = 25
"""Decisions between two lease renewals (and progress updates)."""
EXAMPLES_PER_KIND = 5
"""Decision ids named under each kind of change in the summary."""


def _queue_name() -> str:
    return os.environ.get("SPRINTCLEAR_RQ_QUEUE", "sprintclear")


def _lease_seconds() -> int:
    return int(os.environ.get("SPRINTCLEAR_JOB_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def _shown(url: str) -> str:
    """A Redis URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show only its scheme and host part
        return url.split("@")[-1]


def _redis(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url)


def start_replay(store: Store, evaluator: Evaluator, *, protocol_text: str | None,
                 actor: Principal, redis_url: str | None,
                 chunk_size: int = DEFAULT_CHUNK_SIZE) -> str:
    """Record a replay of the whole archive with ``evaluator`` and start it; its id.

    ``protocol_text`` is the clinic's protocol file (``None``: the shipped protocol),
    kept with the job so that every worker decides with the same rule base.
    """
    return _start(store, "replay", "rpl-", evaluator, protocol_text=protocol_text,
                  actor=actor, redis_url=redis_url, chunk_size=chunk_size)


def start_report_issue(store: Store, evaluator: Evaluator, *, actor: Principal,
                       redis_url: str | None, reports: ReportService | None = None,
                       chunk_size: int = DEFAULT_CHUNK_SIZE) -> str:
    """Record a job that issues the report of every signed-off decision without one, acting
    as ``actor``, and start it; its id. ``reports`` signs in this process (no Redis)."""
    return _start(store, "reports", "rpi-", evaluator, protocol_text=None, actor=actor,
                  redis_url=redis_url, chunk_size=chunk_size, reports=reports)


def _start(store: Store, kind: str, prefix: str, evaluator: Evaluator, *,
           protocol_text: str | None, actor: Principal, redis_url: str | None,
           chunk_size: int, reports: ReportService | None = None) -> str:
    job_id = prefix + secrets.token_hex(10)
    protocol = evaluator.protocol
    jobs = JobStore(store.database)
    jobs.create(job_id=job_id, kind=kind, created_at=stamp(utc_now()),
                actor=actor, rulebase_version=evaluator.version,
                protocol_id=protocol.id, protocol_version=protocol.version,
                protocol_text=protocol_text,
                chunks=archive_chunks(store.database, chunk_size),
                lease_seconds=_lease_seconds())
    state = jobs.state(job_id)
    assert state is not None
    if state.chunk_count == 0:  # an empty archive
        _finish(jobs, job_id, kind, evaluator)
    else:
        dispatch(store, job_id, redis_url, slots=state.chunk_count, reports=reports)
    return job_id


def dispatch(store: Store, job_id: str, redis_url: str | None, *, slots: int = 1,
             reports: ReportService | None = None) -> None:
    """Put ``slots`` workers on a job: RQ jobs, or one thread of this process.

    When Redis cannot be reached the job runs in a thread of this process instead, and a
    warning says so: the job is already recorded, and the request that started or read
    it must not fail after that write (a later read or a starting ``sprintclear worker``
    would only find it stalled again)."""
    if redis_url:
        from redis.exceptions import RedisError
        from rq import Queue, Retry

        try:
            queue = Queue(_queue_name(), connection=_redis(redis_url))
            for _ in range(max(1, min(slots, MAX_SLOTS))):
                queue.enqueue("api.jobs.run_queued", job_id, job_timeout=-1, result_ttl=600,
                              failure_ttl=86400, retry=Retry(max=3))
            return
        except RedisError as exc:
            logger.warning("job %s: Redis at %s cannot be reached (%s); running it in "
                           "this process instead", job_id, _shown(redis_url), exc)
    threading.Thread(target=_work_logged, args=(store, job_id, reports),
                     name=f"job {job_id}", daemon=True).start()


def _work_logged(store: Store, job_id: str, reports: ReportService | None) -> None:
    """:func:`work` in a thread of the service: an error is logged, and the job left for
    ``sprintclear worker`` or a later start to resume (its chunks' leases run out)."""
    try:
        work(store, job_id, reports=reports)
    except Exception:
        logger.exception("job %s stopped", job_id)


def _evaluator_of(jobs: JobStore, job_id: str) -> Evaluator:
    job = jobs.job(job_id)
    if job is None:
        raise LookupError(f"replay {job_id} does not exist")
    protocol = (parse_protocol(job.protocol_text, origin="the replay's protocol")
                if job.protocol_text else default_protocol())
    evaluator = evaluator_for(protocol)
    if evaluator.version != job.rulebase_version:
        raise RuntimeError(f"replay {job_id} was started with rule base "
                           f"{job.rulebase_version[:12]}; this worker's is "
                           f"{evaluator.version[:12]} (another sprintclear version): run "
                           f"workers of the service's version")
    return evaluator


def work(store: Store, job_id: str, *, worker: str | None = None,
         reports: ReportService | None = None, poll_seconds: float = 0.5,
         stop: Callable[[], bool] = lambda: False) -> None:
    """Work on a job until every chunk is done, then write its summary (once).

    Claims chunks nobody holds; when none is free but some are held by others, waits
    (polling every ``poll_seconds``) for them to finish or for their lease to run out.
    """
    worker = worker or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    jobs = JobStore(store.database)
    job = jobs.job(job_id)
    if job is None or job.status != "running":
        return
    lease, kind = job.lease_seconds, job.kind
    actor = Principal.model_validate_json(job.actor)
    try:
        evaluator = _evaluator_of(jobs, job_id)
        if kind == "reports" and reports is None:
            reports = _worker_reports(evaluator)
    except (RuntimeError, ValueError, SprintclearError) as exc:
        jobs.finish(job_id, summary=None, error=str(exc), finished_at=stamp(utc_now()))
        return
    while not stop():
        claim = jobs.claim(job_id, worker, lease)
        if claim is not None:
            if kind == "reports":
                assert reports is not None
                _issue_claim(store, jobs, claim, reports, actor, lease)
            else:
                _replay_claim(store, jobs, claim, evaluator, lease)
            continue
        if jobs.pending_or_running(job_id) == 0:
            _finish(jobs, job_id, kind, evaluator)
            return
        time.sleep(poll_seconds)


def _worker_reports(evaluator: Evaluator) -> ReportService:
    """The worker's report signer, from its own ``SPRINTCLEAR_SIGNING_*`` settings."""
    reports = _worker_reports_cache.get("reports")
    if reports is None:
        reports = ReportService.from_settings(Settings(), utc_now, evaluator.protocol)
        if reports.signer is None:
            raise NotConfigured("this worker has no signing key: set SPRINTCLEAR_SIGNING_P12 "
                                "and SPRINTCLEAR_SIGNING_PASSWORD_FILE to issue reports")
        _worker_reports_cache["reports"] = reports
    return reports


_worker_reports_cache: dict[str, ReportService] = {}


def _issue_claim(store: Store, jobs: JobStore, claim: Claim, reports: ReportService,
                 actor: Principal, lease: int) -> None:
    """Issue the missing reports of one chunk; each one already there is left as it is."""
    issued, failed = 0, []
    pending = unreported_decisions(store.database, claim.bounds.after, claim.bounds.last)
    for index, decision_id in enumerate(pending, 1):
        try:
            reports.issue(store, actor, decision_id)
            issued += 1
        except Conflict:
            if store.get_report(decision_id) is None:  # not "issued meanwhile": say why
                failed.append({"decision_id": decision_id,
                               "error": "the decision cannot have a report"})
        except SprintclearError as exc:
            failed.append({"decision_id": decision_id, "error": str(exc)})
        if index % RENEW_EVERY == 0 and not jobs.renew(claim, index, lease):
            return  # taken over: the new holder issues what is still missing
    result = {"issued": issued, "failed": failed, "signed_off": len(pending)}
    jobs.complete(claim, claim.bounds.size, orjson.dumps(result).decode())


def report_issue_summary(jobs: JobStore, job_id: str) -> dict[str, Any]:
    """Reports issued by the job, and the decisions whose report could not be made."""
    issued, failed = 0, []
    for text in jobs.results(job_id):
        result = orjson.loads(text)
        issued += result.get("issued", 0)
        failed += result.get("failed", [])
    return {"issued": issued, "failed": failed}


class _LeaseLost(Exception):
    pass


def _replay_claim(store: Store, jobs: JobStore, claim: Claim, evaluator: Evaluator,
                  lease: int) -> None:
    database = store.database
    visits = signed_visits(database, chunk_injuries(database, claim.bounds.after,
                                                    claim.bounds.last))
    count = 0

    def progress(_item: Any) -> None:
        nonlocal count
        count += 1
        if count % RENEW_EVERY == 0 and not jobs.renew(claim, count, lease):
            raise _LeaseLost
    try:
        result = replay_items(archived_decisions(database, claim.bounds.after,
                                                 claim.bounds.last),
                              evaluator, visits, progress)
    except _LeaseLost:
        return  # another worker took the chunk over after our lease ran out
    jobs.complete(claim, result.replayed, orjson.dumps(result.as_dict()).decode())


def replay_summary(jobs: JobStore, job_id: str, evaluator: Evaluator) -> dict[str, Any]:
    """The replay's outcome from its chunks' results: counts, and each kind of change with
    how many cases show it and the first few decision ids (in storage order)."""
    total = ChunkResult()
    examples: dict[str, list[str]] = {}
    for text in jobs.results(job_id):
        result = ChunkResult.from_dict(orjson.loads(text))
        total.merge_counts(result)
        for item in result.changed:
            for kind in item.kinds():
                named = examples.setdefault(kind, [])
                if len(named) < EXAMPLES_PER_KIND:
                    named.append(item.decision_id)
    protocol = evaluator.protocol
    return {"rulebase_version": evaluator.version, "protocol": protocol.id,
            "protocol_version": protocol.version, "replayed": total.replayed,
            "would_change": total.changed_count,
            "unchanged": total.replayed - total.changed_count,
            "previous_supplied": total.previous_supplied,
            "summary": [{**kind, "decisions": examples.get(kind["kind"], [])}
                        for kind in total.summary()]}


def _finish(jobs: JobStore, job_id: str, kind: str, evaluator: Evaluator) -> None:
    summary = (report_issue_summary(jobs, job_id) if kind == "reports"
               else replay_summary(jobs, job_id, evaluator))
    jobs.finish(job_id, summary=json.dumps(summary, ensure_ascii=False), error=None,
                finished_at=stamp(utc_now()))


def job_view(state: JobState) -> dict[str, Any]:
    """What ``GET /v1/replays/{id}`` answers."""
    return {"id": state.id, "kind": state.kind, "status": state.status,
            "created_at": state.created_at, "created_by": state.created_by,
            "rulebase_version": state.rulebase_version, "protocol": state.protocol_id,
            "protocol_version": state.protocol_version,
            "progress": {"decisions": state.total, "replayed": state.processed,
                         "chunks": state.chunk_count, "chunks_done": state.chunks_done},
            "finished_at": state.finished_at, "error": state.error,
            "result": json.loads(state.summary) if state.summary else None}


# ---- the RQ side ------------------------------------------------------------------------

_worker_store: dict[str, Store] = {}


def run_queued(job_id: str) -> None:
    """The RQ job: :func:`work` with the worker process's store."""
    work(_worker_store["store"], job_id)


def run_worker(store: Store, redis_url: str, *, queue: str | None = None,
               burst: bool = False, name: str | None = None) -> None:
    """Serve RQ jobs of ``queue`` in this process (``sprintclear worker``); first queue a job
    for every replay left unfinished, so that one whose workers all died completes."""
    from redis.exceptions import RedisError
    from rq import Queue, SimpleWorker

    from engine.runtime import settle

    _worker_store["store"] = store
    connection = _redis(redis_url)
    try:
        connection.ping()
    except RedisError as exc:
        raise StoreUnavailable(f"Redis at {_shown(redis_url)} cannot be reached: {exc}; "
                               f"start it, or set SPRINTCLEAR_REDIS_URL") from exc
    rq_queue = Queue(queue or _queue_name(), connection=connection)
    jobs = JobStore(store.database)
    for job_id in jobs.running():
        state = jobs.state(job_id)
        if state is not None and state.stalled:
            rq_queue.enqueue("api.jobs.run_queued", job_id, job_timeout=-1, result_ttl=600)
    evaluator_for()  # the shipped rule network, built before the collector is frozen
    settle()
    SimpleWorker([rq_queue], connection=connection, name=name).work(
        burst=burst, with_scheduler=False, logging_level="WARNING")
