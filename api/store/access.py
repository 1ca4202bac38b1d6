"""The access log: who read which decision or report, when, and through what.

Reads of decisions and reports by **insurers and auditors** are recorded here
(issue 10, item 10): ``decision.read`` for a decision (API or page), ``report.read``
for its PDF. The log is append-only (the database refuses UPDATE and DELETE,
migration ``0002``) and kept outside the audit chain, so a read takes no write lock.
A read is recorded before it is answered: an unrecorded read is never served.

For the audit page and ``GET /v1/access-log``::

    store.record_read(actor, action="decision.read", decision_id=..., athlete_id=..., via="api")
    store.access_log(AccessLogFilters(role="insurer", athlete_id="FC-23"), Page(after=0, limit=100))
    # → AccessLogPage(entries=[AccessEntry(id, at, actor={key, name, role}, action,
    #                                      subject="decision/<id>", athlete_id, via)],
    #                 next_after=<id to pass as Page.after for the next page, or None>)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from api.store.records import AccessEntry, AccessLogPage, Principal
from api.store.tables import AccessLogRow
from api.store.transaction import StorePart, stamp

__all__ = ["LOGGED_ROLES", "AccessLog", "AccessLogFilters", "Page"]

LOGGED_ROLES = frozenset({"insurer", "auditor"})
"""The roles whose reads of decisions and reports are recorded."""

ReadAction = Literal["decision.read", "decision.fhir", "report.read"]


@dataclass(frozen=True, slots=True)
class AccessLogFilters:
    """What to select; every given filter must hold. ``since``/``until`` are store
    timestamps or ISO dates (``until`` of a date includes that whole day)."""

    role: str | None = None
    key_id: str | None = None
    athlete_id: str | None = None
    decision_id: str | None = None
    action: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """Entries with an id above ``after``, at most ``limit`` (1–1000) of them."""

    after: int = 0
    limit: int = 100


def _entry(row: AccessLogRow) -> AccessEntry:
    return AccessEntry(id=row.id, at=row.at,
                       actor={"key": row.actor_key_id, "name": row.actor_name,
                              "role": row.actor_role},
                       action=row.action,  # type: ignore[arg-type]
                       subject=row.subject, athlete_id=row.athlete_id,
                       via=row.via)  # type: ignore[arg-type]


class AccessLog(StorePart):
    """The access log (part of :class:`~api.store.store.Store`)."""

    def record_read(self, actor: Principal, *, action: ReadAction, decision_id: str,
                    athlete_id: str | None, via: Literal["api", "page"]) -> bool:
        """Record that ``actor`` read the decision (or its report) now, if their role is
        one whose reads are logged (:data:`LOGGED_ROLES`); whether it was recorded."""
        if actor.role not in LOGGED_ROLES:
            return False
        row = AccessLogRow(at=stamp(self.now()), actor_key_id=actor.key_id,
                           actor_name=actor.name, actor_role=actor.role, action=action,
                           subject=f"decision/{decision_id}", athlete_id=athlete_id, via=via)
        with self.database.appending() as session:
            session.add(row)
        return True

    def access_log(self, filters: AccessLogFilters | None = None, page: Page | None = None
                   ) -> AccessLogPage:
        """The recorded reads matching ``filters``, oldest first, one ``page`` of them."""
        filters, page = filters or AccessLogFilters(), page or Page()
        limit = max(1, min(page.limit, 1000))
        query = select(AccessLogRow).where(AccessLogRow.id > page.after)
        if filters.role is not None:
            query = query.where(AccessLogRow.actor_role == filters.role)
        if filters.key_id is not None:
            query = query.where(AccessLogRow.actor_key_id == filters.key_id)
        if filters.athlete_id is not None:
            query = query.where(AccessLogRow.athlete_id == filters.athlete_id)
        if filters.decision_id is not None:
            query = query.where(AccessLogRow.subject == f"decision/{filters.decision_id}")
        if filters.action is not None:
            query = query.where(AccessLogRow.action == filters.action)
        if filters.since is not None:
            query = query.where(AccessLogRow.at >= filters.since)
        if filters.until is not None:
            bound = filters.until + ("T99" if len(filters.until) == 10 else "")
            query = query.where(AccessLogRow.at <= bound)
        with self.database.reading() as session:
            rows = list(session.execute(query.order_by(AccessLogRow.id)
                                        .limit(limit + 1)).scalars())
        entries = [_entry(row) for row in rows[:limit]]
        return AccessLogPage(entries=entries,
                             next_after=entries[-1].id if len(rows) > limit else None)
