"""The store: every query and write of the service, each write one transaction.

:class:`Store` is a facade composed of one part per concept, each in a module
named for it:

========================  ==========================================================
``keys``                  API keys and authentication
``athletes``              athletes
``injuries``              injury episodes
``assessments``           assessments stored with their decisions; timelines, the
                          decision log, stored inputs for replay
``corrections``           which assessment supersedes which (shared queries)
``decisions``             reading decisions, their inputs and earlier decisions
``signoffs``              accepting or overriding a decision
``reports``               the signed PDF of a signed-off decision
``audit``                 the audit chain: appending, verifying, reading
``access``                the access log: reads of decisions and reports by insurers
                          and auditors (append-only, outside the chain)
``checkpoint``            verifying the chain from the latest verified checkpoint
``trail``                 the trail as the audit page reads it: filtered, named
``squad``                 the squad board in a constant number of queries
========================  ==========================================================

Every write goes through the one helper in :mod:`api.store.transaction`: it takes
the write lock (:meth:`Database.writing`), checks what it must against what is
stored, adds its rows and appends its audit entries, and commits, or raises and
leaves nothing behind. Routes and commands call the facade's methods and nothing
below them.

Ids are the athlete's own id (``athlete.id`` of the assessments), the
engine's ``decision_id`` for decisions, and ``<kind>_<20 hex digits>`` for
everything else. An id that cannot exist (too long, a NUL character) is
"not found" without asking the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine, func, select

from api.store.access import AccessLog
from api.store.assessments import Assessments, StoredAssessmentInput
from api.store.athletes import Athletes
from api.store.audit import AuditTrail
from api.store.checkpoint import Checkpoints
from api.store.database import Database, check_schema, make_engine, migrate
from api.store.decisions import Decisions
from api.store.injuries import Injuries
from api.store.keys import KEY_PREFIX, Keys
from api.store.reports import Reports
from api.store.signoffs import Signoffs
from api.store.squad import Squad
from api.store.tables import (
    AccessLogRow,
    ApiKeyRow,
    AssessmentRow,
    AthleteRow,
    AuditEntryRow,
    DecisionRow,
    InjuryRow,
    ReportRow,
    SignoffRow,
)
from api.store.trail import Trail
from api.store.transaction import stamp, utc_now

__all__ = ["KEY_PREFIX", "Store", "StoredAssessmentInput", "stamp", "utc_now"]


class Store(Keys, Athletes, Injuries, Assessments, Decisions, Signoffs, Reports, AuditTrail,
            AccessLog, Checkpoints, Trail, Squad):
    """The decision store over one database: every part's methods, one clock."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.database = Database(engine)
        self._clock = clock
        self._known_keys = {}
        self._key_generation = [0]

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], dt.datetime] = utc_now,
             migrate_schema: bool = False) -> Store:
        """Connect to ``url``; migrate it first, or check that it is migrated."""
        store = cls(make_engine(url), clock=clock)
        try:
            if migrate_schema:
                store.migrate()
            else:
                store.check_schema()
        except BaseException:
            store.close()
            raise
        return store

    # ---- lifecycle --------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self.database.dialect

    def migrate(self) -> str:
        return migrate(self.database.engine)

    def check_schema(self) -> None:
        check_schema(self.database.engine)

    def ping(self) -> None:
        self.database.ping()

    def close(self) -> None:
        self.database.dispose()

    def count(self, table: str) -> int:
        """How many rows a table holds (for health checks and tests)."""
        model = {"athletes": AthleteRow, "injuries": InjuryRow, "assessments": AssessmentRow,
                 "decisions": DecisionRow, "signoffs": SignoffRow, "reports": ReportRow,
                 "api_keys": ApiKeyRow, "audit_entries": AuditEntryRow,
                 "access_log": AccessLogRow}[table]
        with self.database.reading() as session:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())
