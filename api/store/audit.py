"""The audit trail: a hash chain of every write, and its verification.

Each entry records who (the API key's id, name and role), when, what (an
action such as ``assessment.create``, its subject ``assessment/asm_…`` and
details: ids, hashes, phases) and the SHA-256 of the previous entry. Its own
hash is the SHA-256 of the canonical JSON of::

    {"seq", "at", "actor": {"key", "name", "role"}, "action", "subject",
     "details", "prev_hash"}

The first entry's ``prev_hash`` is 64 zeros. ``audit_head`` holds the last
entry's number and hash; every write locks it first (``Database.writing``),
so there is one unbroken chain however many processes write.

:func:`verify` recomputes the chain and says where it breaks, by entry
number and kind:

- **edited**: an entry's content no longer gives its hash (or its hash was
  recomputed, and the next entry records a different predecessor);
- **deleted**: numbers are missing, or the head records more entries than
  there are;
- **inserted**: an entry that links to an older predecessor than the one
  before it, entries renumbered upwards, or entries past the head;
- **reordered**: an entry whose predecessor comes after it.

It then checks the records the entries vouch for: each stored athlete,
injury, assessment, decision, sign-off, report and API key must match the
``record_sha256`` its creating entry recorded (so an edited document, phase
or PDF is found), have such an entry (else it was inserted outside the
service), and still exist (else it was deleted).

The database alone cannot stop someone who rewrites the whole chain and the
head consistently; the head hash that ``verify`` prints is what to record
elsewhere (a signed report, a ticket) to anchor it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.store.canonical import canonical_json, json_or_text, sha256_hex
from api.store.database import Database
from api.store.records import AuditEntry, Principal
from api.store.tables import (
    ApiKeyRow,
    AssessmentRow,
    AthleteRow,
    AuditEntryRow,
    AuditHeadRow,
    Base,
    DecisionRow,
    InjuryRow,
    ReportRow,
    SignoffRow,
)

__all__ = ["GENESIS", "AuditProblem", "AuditTrail", "AuditVerification", "append",
           "entry_hash", "record_sha256", "verify"]

GENESIS = "0" * 64

ProblemKind = Literal["edited", "deleted", "inserted", "reordered"]

# The record kinds that audit entries vouch for: subject prefix → table, creating actions.
_RECORDS: tuple[tuple[str, type[Base], tuple[str, ...]], ...] = (
    ("athlete", AthleteRow, ("athlete.create",)),
    ("injury", InjuryRow, ("injury.create",)),
    ("assessment", AssessmentRow, ("assessment.create",)),
    ("decision", DecisionRow, ("decision.create",)),
    ("signoff", SignoffRow, ("signoff.accept", "signoff.override")),
    ("report", ReportRow, ("report.create",)),
    ("key", ApiKeyRow, ("key.create",)),
)
_RENUMBER_WINDOW = 8


def record_sha256(row: Any) -> str:
    """SHA-256 of the canonical JSON of what a record's audit entry vouches for."""
    return sha256_hex(canonical_json(row.audited()))


def _content(seq: int, at: str, actor: dict[str, Any], action: str, subject: str,
             details: Any, prev_hash: str) -> dict[str, Any]:
    return {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
            "details": details, "prev_hash": prev_hash}


def _actor(key_id: str | None, name: str, role: str) -> dict[str, Any]:
    return {"key": key_id, "name": name, "role": role}


def entry_hash(row: AuditEntryRow, seq: int | None = None) -> str | None:
    """The hash an entry's content gives (as entry ``seq`` if given); ``None``: unreadable."""
    try:
        details = json.loads(row.details)
        content = _content(row.seq if seq is None else seq, row.at,
                           _actor(row.actor_key_id, row.actor_name, row.actor_role),
                           row.action, row.subject, details, row.prev_hash)
        return sha256_hex(canonical_json(content))
    except (ValueError, TypeError):
        return None


def append(session: Session, *, at: str, actor: Principal, action: str, subject: str,
           details: dict[str, Any]) -> AuditEntryRow:
    """Add the next entry of the chain; the caller holds the write lock (``writing()``)."""
    head = session.get_one(AuditHeadRow, 1)
    seq = head.seq + 1
    details_text = canonical_json(details)
    content = _content(seq, at, _actor(actor.key_id, actor.name, actor.role), action, subject,
                       json.loads(details_text), head.hash)
    digest = sha256_hex(canonical_json(content))
    row = AuditEntryRow(seq=seq, at=at, actor_key_id=actor.key_id, actor_name=actor.name,
                        actor_role=actor.role, action=action, subject=subject,
                        details=details_text, prev_hash=head.hash, hash=digest)
    session.add(row)
    head.seq, head.hash = seq, digest
    return row


# ---- verification -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One break in the trail: what kind, at which entry (and which record), in words."""

    kind: ProblemKind
    seq: int | None
    message: str
    subject: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "subject": self.subject,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of checking the whole chain and the records it vouches for."""

    entries: int
    head_seq: int
    head_hash: str
    records_checked: int
    problems: tuple[AuditProblem, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> AuditProblem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        first = self.first_problem
        return {"intact": self.intact, "entries": self.entries,
                "head": {"seq": self.head_seq, "hash": self.head_hash},
                "records_checked": self.records_checked,
                "first_problem": first.as_dict() if first else None,
                "problems": [problem.as_dict() for problem in self.problems]}


def verify(session: Session) -> AuditVerification:
    """Check the chain and every record against it; read in one snapshot."""
    head = session.get(AuditHeadRow, 1)
    rows = list(session.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars())
    problems = _chain_problems(rows, head)
    checked, record_problems = _record_problems(session, rows)
    return AuditVerification(
        entries=len(rows), head_seq=head.seq if head else 0,
        head_hash=head.hash if head else GENESIS, records_checked=checked,
        problems=tuple(problems + record_problems))


def _chain_problems(rows: Sequence[AuditEntryRow], head: AuditHeadRow | None, *,
                    after: tuple[int, str] = (0, GENESIS)) -> list[AuditProblem]:
    """The chain's breaks in ``rows``, which follow entry ``after`` = (seq, hash): the
    start of the chain, or a verified checkpoint."""
    problems: list[AuditProblem] = []
    position = {row.hash: index for index, row in enumerate(rows)}
    explained: set[int] = set()  # rows whose breaks an earlier problem already explains
    offset_reported: int | None = None
    expected_prev, previous_seq = after[1], after[0]
    previous_ok = True

    for index, row in enumerate(rows):
        seq = row.seq
        gap = seq > previous_seq + 1
        if gap:
            problems.append(_missing(previous_seq, seq))
        computed = entry_hash(row)
        content_ok = computed == row.hash
        linked = row.prev_hash == expected_prev
        predecessor = position.get(row.prev_hash)

        if index in explained:
            pass
        elif not content_ok and computed is not None and not linked and \
                predecessor is not None and predecessor > index:
            problems.append(_reordered(row, rows[predecessor]))
            explained.add(predecessor)
        elif not content_ok:
            original = _original_number(row)
            if original is not None and original != seq:
                offset = original - seq
                if offset != offset_reported:
                    problems.append(_renumbered(row, original))
                    offset_reported = offset
            elif computed is None:
                problems.append(AuditProblem(
                    "edited", seq, f"entry #{seq} was edited: its details are no longer "
                    f"readable JSON"))
            else:
                problems.append(AuditProblem(
                    "edited", seq, f"entry #{seq} was edited: its content no longer matches "
                    f"its hash"))
        elif not linked and not gap:
            if predecessor is not None and predecessor > index:
                problems.append(_reordered(row, rows[predecessor]))
                explained.add(predecessor)
            elif predecessor is not None:
                first_inserted = rows[predecessor].seq + 1
                problems.append(AuditProblem(
                    "inserted", first_inserted,
                    f"entry #{first_inserted} was inserted: #{seq} records #"
                    f"{rows[predecessor].seq} as its predecessor"))
            elif previous_ok and (index > 0 or previous_seq > 0):
                problems.append(AuditProblem(
                    "edited", previous_seq,
                    f"entry #{previous_seq} was edited and its hash recomputed: #{seq} "
                    f"records a different predecessor"))
            elif index == 0:
                problems.append(AuditProblem(
                    "edited", seq, f"entry #{seq} was edited: it does not start the chain"))
        expected_prev, previous_seq, previous_ok = row.hash, seq, content_ok

    problems.extend(_head_problems(rows, head, after=after))
    return problems


def _missing(previous_seq: int, seq: int) -> AuditProblem:
    first, last = previous_seq + 1, seq - 1
    what = f"entry #{first} is" if first == last else f"entries #{first}–#{last} are"
    where = (f"#{previous_seq} is followed by #{seq}" if previous_seq
             else f"the chain starts at #{seq}")
    return AuditProblem("deleted", first, f"{what} missing (deleted): {where}")


def _reordered(row: AuditEntryRow, successor: AuditEntryRow) -> AuditProblem:
    return AuditProblem(
        "reordered", row.seq,
        f"entry #{row.seq} is out of order: it records the entry now at #{successor.seq} as "
        f"its predecessor")


def _renumbered(row: AuditEntryRow, original: int) -> AuditProblem:
    if original > row.seq:
        return AuditProblem(
            "deleted", row.seq,
            f"an entry before #{row.seq} was deleted and the later ones renumbered: "
            f"#{row.seq} was written as #{original}")
    return AuditProblem(
        "inserted", original,
        f"entry #{original} was inserted and the later ones renumbered: #{row.seq} was "
        f"written as #{original}")


def _original_number(row: AuditEntryRow) -> int | None:
    for distance in range(1, _RENUMBER_WINDOW + 1):
        for candidate in (row.seq + distance, row.seq - distance):
            if candidate > 0 and entry_hash(row, candidate) == row.hash:
                return candidate
    return None


def _head_problems(rows: Sequence[AuditEntryRow], head: AuditHeadRow | None, *,
                   after: tuple[int, str] = (0, GENESIS)) -> list[AuditProblem]:
    last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else after
    if head is None:
        return [AuditProblem("deleted", None, "the chain head (audit_head) is missing")]
    if head.seq > last_seq:
        first = last_seq + 1
        what = f"#{first}" if head.seq == first else f"#{first}–#{head.seq}"
        return [AuditProblem("deleted", first,
                             f"entry {what} is missing (deleted): the chain head records "
                             f"{head.seq} entries, the last one stored is #{last_seq}")]
    if head.seq < last_seq:
        first = head.seq + 1
        return [AuditProblem("inserted", first,
                             f"entry #{first} was inserted after the chain head (#{head.seq}): "
                             f"it was written outside the service")]
    if head.hash != last_hash:
        return [AuditProblem("edited", last_seq or None,
                             f"entry #{last_seq} does not match the chain head's hash"
                             if last_seq else "the chain head's hash was changed")]
    return []


def _record_problems(session: Session, rows: Iterable[AuditEntryRow]
                     ) -> tuple[int, list[AuditProblem]]:
    creating = {action: prefix for prefix, _, actions in _RECORDS for action in actions}
    vouched: dict[str, tuple[int, str | None]] = {}
    revoked: dict[str, int] = {}
    for row in rows:
        try:
            details = json.loads(row.details)
        except ValueError:
            continue  # already reported as an edited entry
        if not isinstance(details, dict):
            continue
        if row.action in creating:
            vouched[row.subject] = (row.seq, details.get("record_sha256"))
        elif row.action == "key.revoke":
            revoked[row.subject] = row.seq

    problems: list[AuditProblem] = []
    checked = 0
    for prefix, table, _ in _RECORDS:
        for record in session.execute(select(table).execution_options(yield_per=100)).scalars():
            checked += 1
            subject = f"{prefix}/{record.id}"  # type: ignore[attr-defined]
            entry = vouched.pop(subject, None)
            if entry is None:
                problems.append(AuditProblem(
                    "inserted", None, f"{subject} has no audit entry: it was written outside "
                    f"the service", subject))
                continue
            seq, recorded = entry
            if record_sha256(record) != recorded:
                problems.append(AuditProblem(
                    "edited", seq, f"{subject} was edited: it no longer matches what audit "
                    f"entry #{seq} recorded", subject))
            if isinstance(record, ApiKeyRow):
                revoke_seq = revoked.get(subject)
                if record.revoked_at is not None and revoke_seq is None:
                    problems.append(AuditProblem(
                        "edited", seq, f"{subject} is revoked, but no audit entry revokes it",
                        subject))
                elif record.revoked_at is None and revoke_seq is not None:
                    problems.append(AuditProblem(
                        "edited", revoke_seq, f"{subject} was revoked by audit entry "
                        f"#{revoke_seq}, but the stored key is active again", subject))
    for subject, (seq, _) in sorted(vouched.items(), key=lambda item: item[1][0]):
        problems.append(AuditProblem(
            "deleted", seq, f"{subject}, recorded by audit entry #{seq}, is missing (deleted)",
            subject))
    return checked, problems


# ---- reading the trail (part of the Store) ----------------------------------------------


class AuditTrail:
    """Reading and verifying the trail, and recording CDS Hooks feedback in it (part of
    :class:`~api.store.store.Store`)."""

    database: Database
    _clock: Callable[[], dt.datetime]

    def verify_audit(self) -> AuditVerification:
        """:func:`verify` over one snapshot of the database."""
        with self.database.reading(snapshot=True) as session:
            return verify(session)

    def audit_entries(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        """Up to ``limit`` entries numbered above ``after``, in chain order."""
        with self.database.reading() as session:
            rows = session.execute(select(AuditEntryRow).where(AuditEntryRow.seq > after)
                                   .order_by(AuditEntryRow.seq).limit(limit)).scalars()
            return [AuditEntry(seq=row.seq, at=row.at,
                               actor={"key": row.actor_key_id, "name": row.actor_name,
                                      "role": row.actor_role},
                               action=row.action, subject=row.subject,
                               details=json_or_text(row.details), prev_hash=row.prev_hash,
                               hash=row.hash) for row in rows]

    def record_cds_feedback(self, actor: Principal, items: list[tuple[str, dict[str, Any]]]
                            ) -> list[AuditEntry]:
        """Record what a clinician did with CDS Hooks cards (accepted or overridden): one
        entry per card, action ``cds.feedback``, subject ``cds-card/<card uuid>``, all in
        one transaction (all or none).

        It is feedback only: nothing is signed off and no record is written besides the
        entries (a sign-off needs the phase and the signed act: ``sign_off``). The entries
        vouch for no stored record, so :func:`verify` checks them as links of the chain.
        """
        from api.store.transaction import stamp  # transaction imports this module

        at = stamp(self._clock())
        entries = []
        with self.database.writing() as session:
            for card, details in items:
                row = append(session, at=at, actor=actor, action="cds.feedback",
                             subject=f"cds-card/{card}", details=details)
                entries.append(AuditEntry(
                    seq=row.seq, at=row.at, actor={"key": row.actor_key_id,
                                                   "name": row.actor_name,
                                                   "role": row.actor_role},
                    action=row.action, subject=row.subject, details=json_or_text(row.details),
                    prev_hash=row.prev_hash, hash=row.hash))
        return entries
