"""The one way the store writes: a transaction that appends its audit entries.

Every concept module of the store (``keys``, ``athletes``, ``injuries``,
``assessments``, ``decisions``, ``signoffs``, ``reports``) is a part of the
:class:`~api.store.store.Store` facade built on :class:`StorePart`. A write
opens :meth:`StorePart.transaction`, which holds the write lock
(:meth:`Database.writing`); the block checks what it must against what is
stored, adds its rows and calls :meth:`Transaction.audit` for each audit entry,
and the whole is committed when the block ends, or nothing is if it raises.

Also here, because every part needs them: the clock (:func:`utc_now`,
:func:`stamp`), new ids, the "not found" lookup that refuses implausible ids
without asking the database, and the NUL-character check.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from api.store import audit
from api.store.database import Database
from api.store.records import Principal
from rules.errors import InvalidAssessment, InvalidInput, NotFound, Problem

__all__ = ["FUTURE_TOLERANCE", "StorePart", "Transaction", "future_date_problem", "get_row",
           "latest_allowed_date", "new_id", "plausible", "refuse_nul", "stamp", "utc_now"]

RowT = TypeVar("RowT")

MAX_ID = 64


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(at: dt.datetime) -> str:
    """ISO 8601 in UTC, always with microseconds and a ``Z``: one width, so text order is
    time order (``2026-03-10T09:15:02.000000Z``)."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


FUTURE_TOLERANCE = dt.timedelta(days=1)
"""How far past today (UTC, server time) a date may be: a clinic a time zone ahead is
already on tomorrow's date (issue 10, item 8)."""


def latest_allowed_date(now: dt.datetime) -> dt.date:
    """The last date the service stores for an injury or an assessment at ``now``."""
    return (now.astimezone(dt.UTC) + FUTURE_TOLERANCE).date()


def future_date_problem(field: str, value: str, now: dt.datetime) -> Problem | None:
    """A problem naming ``field`` when the ISO date ``value`` is after the allowed date."""
    latest = latest_allowed_date(now)
    if value <= latest.isoformat():
        return None
    today = now.astimezone(dt.UTC).date().isoformat()
    return Problem(field, "future_date", f"is {value}, after today ({today} server time, one "
                   f"day of tolerance for time zones): the service stores what happened; "
                   f"decide a planned visit with /v1/evaluate")


def new_id(kind: str) -> str:
    """``<kind>_<20 hex digits>``, e.g. ``asm_0f3c…``."""
    return f"{kind}_{secrets.token_hex(10)}"


def plausible(identifier: str) -> bool:
    """Whether an id could be stored at all (1–64 characters, no NUL)."""
    return 0 < len(identifier) <= MAX_ID and "\x00" not in identifier


def get_row(session: Session, model: type[RowT], identifier: str, what: str) -> RowT:
    """The row of ``model`` with this primary key; ``NotFound`` naming ``what`` otherwise."""
    row = session.get(model, identifier) if plausible(identifier) else None
    if row is None:
        raise NotFound(f"{what} {identifier[:80]!r} does not exist")
    return row


def _nul_problems(value: Any, path: str = "") -> Iterator[Problem]:
    if isinstance(value, str):
        if "\x00" in value:
            yield Problem(path or "<input>", "nul_character",
                          "must not contain the NUL character (\\u0000)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _nul_problems(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _nul_problems(item, f"{path}.{index}" if path else str(index))


def refuse_nul(value: Any, summary: str,
               error: type[InvalidInput] | type[InvalidAssessment] = InvalidInput) -> None:
    """Raise ``error(summary, problems)`` naming every string field holding a NUL character."""
    problems = list(_nul_problems(value))
    if problems:
        raise error(summary, problems)


@dataclass(frozen=True, slots=True)
class Transaction:
    """One open write transaction: its session, who writes, and when (the entries' ``at``)."""

    session: Session
    actor: Principal
    at: str

    def get(self, model: type[RowT], identifier: str, what: str) -> RowT:
        return get_row(self.session, model, identifier, what)

    def audit(self, action: str, subject: str, details: dict[str, Any], *,
              record: Any = None) -> None:
        """Append an audit entry; with ``record`` (a row), the entry vouches for it by
        adding its ``record_sha256`` to ``details`` (what ``audit.verify`` checks), unless
        ``details`` has it already (computed before the lock, :func:`audit.record_sha256`)."""
        if record is not None and "record_sha256" not in details:
            details = {**details, "record_sha256": audit.record_sha256(record)}
        audit.append(self.session, at=self.at, actor=self.actor, action=action,
                     subject=subject, details=details)


class StorePart:
    """What every part of the store shares: the database, the clock and the transaction."""

    database: Database
    _clock: Callable[[], dt.datetime]

    def now(self) -> dt.datetime:
        return self._clock()

    @contextmanager
    def transaction(self, actor: Principal, at: str | None = None, *,
                    before_lock: Callable[[Session], None] | None = None
                    ) -> Iterator[Transaction]:
        """A write transaction by ``actor``; its audit entries are stamped ``at`` (now by
        default). It commits when the block ends and leaves nothing if it raises.
        ``before_lock``: reads that need no lock (:meth:`Database.writing`)."""
        when = at if at is not None else stamp(self.now())
        with self.database.writing(before_lock) as session:
            yield Transaction(session=session, actor=actor, at=when)
