"""Incremental verification of the audit chain from a stored, verified checkpoint.

A checkpoint (``audit_checkpoints``: a chain position ``seq`` with its entry's ``hash``)
says "the chain was intact up to here when checked". :func:`verify_since` then checks
only what came after the latest checkpoint:

- the checkpoint's entry still has the hash the checkpoint recorded (else the checkpoint,
  or the entry, was changed: the answer says so and that a full check is needed);
- the entries after it: content against hash, links from the checkpoint's hash on,
  numbering, and the head (``audit._chain_problems`` with ``after``);
- the records those entries vouch for (``record_sha256``), and that they still exist.

With no checkpoint yet, it runs the full :func:`api.store.audit.verify`. Either way,
when the result is intact and the head moved past the checkpoint, a new checkpoint is
written (its own small transaction). ``sprintclear audit verify`` and
``GET /v1/audit/verify`` keep checking everything; a change to an entry or a record from
before the checkpoint is found by them, not by the page.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.store import audit
from api.store.tables import AuditCheckpointRow, AuditEntryRow, AuditHeadRow
from api.store.transaction import StorePart, stamp
from rules.errors import Conflict, StoreUnavailable

_log = logging.getLogger("sprintclear.audit")

__all__ = ["Checkpoint", "Checkpoints", "IncrementalVerification", "latest", "record",
           "verify_since"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    scope: str
    checked_at: str


@dataclass(frozen=True, slots=True)
class IncrementalVerification:
    """What a visit checked: the result, and from where."""

    result: audit.AuditVerification
    since: Checkpoint | None
    """The checkpoint it started from; ``None``: it checked the whole chain."""
    checked_entries: int
    """How many entries this check read (all of them for a full check)."""


class Checkpoints(StorePart):
    """Incremental verification (part of :class:`~api.store.store.Store`)."""

    def verify_audit_since_checkpoint(self) -> IncrementalVerification:
        """Verify only what follows the latest verified checkpoint (the whole chain when
        there is none), then keep an intact head as the next checkpoint; ``verify_audit``
        still checks everything."""
        with self.database.reading(snapshot=True) as session:
            checked = verify_since(session)
        result = checked.result
        since = checked.since.seq if checked.since else 0
        if result.intact and result.head_seq > since:
            try:
                with self.database.writing() as session:
                    record(session, result, at=stamp(self.now()),
                           scope="since" if checked.since else "full")
            except (Conflict, StoreUnavailable) as exc:
                # a checkpoint only saves work: the answer stands without it
                _log.warning("audit checkpoint at #%s not kept: %s", result.head_seq, exc)
        return checked


def latest(session: Session) -> Checkpoint | None:
    row = session.execute(select(AuditCheckpointRow)
                          .order_by(AuditCheckpointRow.seq.desc()).limit(1)).scalar_one_or_none()
    return None if row is None else Checkpoint(row.seq, row.hash, row.scope, row.checked_at)


def verify_since(session: Session) -> IncrementalVerification:
    """Verify from the latest checkpoint (or all of it without one); read in one snapshot."""
    since = latest(session)
    if since is None:
        result = audit.verify(session)
        return IncrementalVerification(result, None, result.entries)
    head = session.get(AuditHeadRow, 1)
    total = int(session.execute(select(func.count()).select_from(AuditEntryRow)).scalar_one())
    anchor = session.get(AuditEntryRow, since.seq)
    problems: list[audit.AuditProblem] = []
    if anchor is None or anchor.hash != since.hash:
        problems.append(audit.AuditProblem(
            "edited", since.seq, f"entry #{since.seq} no longer has the hash the verified "
            f"checkpoint of {since.checked_at} recorded: run `sprintclear audit verify` for "
            f"the whole chain"))
    rows = list(session.execute(select(AuditEntryRow).where(AuditEntryRow.seq > since.seq)
                                .order_by(AuditEntryRow.seq)).scalars())
    problems += audit._chain_problems(rows, head, after=(since.seq, since.hash))
    checked, record_problems = _records_of(session, rows)
    problems += record_problems
    result = audit.AuditVerification(
        entries=total, head_seq=head.seq if head else 0,
        head_hash=head.hash if head else audit.GENESIS, records_checked=checked,
        problems=tuple(problems))
    return IncrementalVerification(result, since, len(rows))


def record(session: Session, result: audit.AuditVerification, *, scope: str, at: str) -> None:
    """Keep an intact result's head as a checkpoint (nothing when broken or not moved)."""
    if not result.intact or result.head_seq == 0:
        return
    if session.get(AuditCheckpointRow, result.head_seq) is not None:
        return
    session.add(AuditCheckpointRow(seq=result.head_seq, hash=result.head_hash,
                                   records_checked=result.records_checked, scope=scope,
                                   checked_at=at))


def _records_of(session: Session, rows: list[AuditEntryRow]
                ) -> tuple[int, list[audit.AuditProblem]]:
    tables = {action: table for _, table, actions in audit._RECORDS for action in actions}
    problems: list[audit.AuditProblem] = []
    checked = 0
    for row in rows:
        if row.action not in tables:
            continue
        table = tables[row.action]
        try:
            recorded = json.loads(row.details).get("record_sha256")
        except (ValueError, AttributeError):
            continue  # reported as an edited entry
        identifier = row.subject.split("/", 1)[1] if "/" in row.subject else row.subject
        found = session.get(table, identifier)
        checked += 1
        if found is None:
            problems.append(audit.AuditProblem(
                "deleted", row.seq, f"{row.subject}, recorded by audit entry #{row.seq}, is "
                f"missing (deleted)", row.subject))
        elif audit.record_sha256(found) != recorded:
            problems.append(audit.AuditProblem(
                "edited", row.seq, f"{row.subject} was edited: it no longer matches what audit "
                f"entry #{row.seq} recorded", row.subject))
    return checked, problems
