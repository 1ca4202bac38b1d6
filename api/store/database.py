"""Connecting to the database, migrating it, and the kinds of transaction.

SQLite (the embedded default) and PostgreSQL are supported. Every write is
one transaction that starts by taking the store's write lock, so appends to
the audit chain are serial on both:

- **SQLite** takes the database's write lock when the transaction begins
  (``BEGIN IMMEDIATE``; the sqlite3 driver's own transaction handling is
  switched off so SQLAlchemy's ``BEGIN`` is the one that counts). Other
  writers wait up to the busy timeout; readers go on reading (WAL journal).
- **PostgreSQL** locks the one row of ``audit_head`` (``SELECT … FOR UPDATE``)
  before the transaction's first statement that needs it: only reads that no
  concurrent write can change (``writing(before_lock=…)``) come first. The
  next writer waits for the commit. Under READ COMMITTED each statement after
  the lock sees every write committed before it, so the checks a write makes
  under the lock are never stale.

Errors of SQLAlchemy and the drivers are translated into the error tree here,
in :func:`translated_errors`, and nowhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DisconnectionError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import InterfaceError as SQLInterfaceError
from sqlalchemy.orm import Session

from api.store.tables import AuditHeadRow
from rules.errors import Conflict, InvalidInput, NotConfigured, Problem, StoreUnavailable

__all__ = [
    "Database",
    "check_schema",
    "head_revision",
    "make_engine",
    "migrate",
    "schema_revision",
    "translated_errors",
]

_WRITE = "sprintclear_write"
_BUSY_TIMEOUT_SECONDS = 30
_MIGRATION_LOCK = 0x5C_0A_0D_17  # pg_advisory_xact_lock key: one migration at a time


def _normalised_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise NotConfigured(f"the database URL {url!r} is not a database URL "
                            f"(e.g. sqlite:///path/to/file.sqlite3 or "
                            f"postgresql+psycopg://user@host/db)") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver that is installed
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith(
                "file:"):
            raise NotConfigured("an in-memory SQLite database would forget every record: give "
                                "a file, e.g. sqlite:///path/to/sprintclear.sqlite3")
    elif backend != "postgresql":
        raise NotConfigured(f"database {backend!r} is not supported: use a SQLite file or "
                            f"PostgreSQL")
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file (its folder is created) or a PostgreSQL database."""
    parsed = _normalised_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            assert parsed.database is not None
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": _BUSY_TIMEOUT_SECONDS,
                                                         "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(parsed)
            _ping_after_idle(engine)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise NotConfigured(f"no database driver for {parsed.drivername!r}: {exc}") from exc
    except OSError as exc:
        raise NotConfigured(f"cannot create the database folder: {exc}") from exc
    return engine


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle for longer than this is pinged before it is used."""


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle in the pool for more
    than :data:`PING_AFTER_IDLE_SECONDS` (or is new), not on every checkout as
    ``pool_pre_ping`` does: under load connections come back within milliseconds and the
    ping was a round trip per transaction (three per store-and-decide, bench/service.py).

    A connection that fails its ping is replaced (SQLAlchemy's pessimistic disconnect
    handling, by its ``checkout`` event). One that the server dropped in the last second
    is found by the statement that uses it instead: that request answers 503 (the store
    unavailable, nothing written) and the pool drops its other connections."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["sprintclear_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("sprintclear_idle_since", None)
        if since is not None and time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"the connection failed its ping: {exc}") from exc


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN (see _sqlite_begin) instead of the driver, which
    # would begin only before the first INSERT and so read outside the transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # a committed record survives a power cut
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Database errors, as the error tree: refused by a constraint, unreachable, unstorable."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict("the database refused the write: it contradicts a stored record "
                       f"({_first_line(exc.orig)})") from exc
    except DataError as exc:
        raise InvalidInput("the database cannot store a value", [
            Problem("<input>", "unstorable", _first_line(exc.orig))]) from exc
    except (OperationalError, SQLInterfaceError) as exc:
        raise StoreUnavailable(f"the database is unavailable: {_first_line(exc.orig)}") from exc


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() \
        else type(error).__name__


# ---- transactions ------------------------------------------------------------------


class Database:
    """An engine and the ways in: :meth:`reading`, :meth:`lookup` and :meth:`writing`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = engine.execution_options(**{_WRITE: True})
        self._snapshot = (engine.execution_options(isolation_level="REPEATABLE READ")
                          if self.dialect == "postgresql" else engine)
        self._autocommit = (engine.execution_options(isolation_level="AUTOCOMMIT")
                            if self.dialect == "postgresql" else engine)

    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A read-only transaction; ``snapshot`` gives every statement the same view."""
        with translated_errors(), Session(self._snapshot if snapshot else self.engine,
                                          expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def lookup(self) -> Iterator[Session]:
        """Reads outside a transaction: each statement sees the records as they are when it
        runs. For a single statement, or for rows written once and never changed (api keys'
        lookup, an injury and its athlete), where a shared snapshot adds nothing.

        On PostgreSQL the connection is in autocommit, which saves the ``BEGIN`` and the
        ``COMMIT`` round trips of :meth:`reading` (two of the five per request of a key
        check); on SQLite it is :meth:`reading`."""
        if self.dialect != "postgresql":
            with self.reading() as session:
                yield session
            return
        with translated_errors(), Session(self._autocommit, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def writing(self, before_lock: Callable[[Session], None] | None = None
                ) -> Iterator[Session]:
        """One write transaction holding the write lock; it commits only if the block ends.

        ``before_lock(session)`` runs in the transaction before the lock is taken: reads that
        need no lock (rows written once, a duplicate that a unique constraint refuses
        anyway), so that writers queue for the lock only for what must be serialised: the
        reads a concurrent write could change, the inserts and the chain's append (issue
        11 item 5). On SQLite the transaction holds the database's lock from its start."""
        with translated_errors(), Session(self._writer, expire_on_commit=False,
                                          autoflush=True) as session, session.begin():
            if before_lock is not None:
                before_lock(session)
            head = session.execute(
                select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
            ).scalar_one_or_none()
            if head is None:
                raise StoreUnavailable(
                    "the audit chain's head row is missing: the database was changed "
                    "outside the service or not migrated; run `sprintclear audit verify`")
            yield session

    @contextmanager
    def appending(self) -> Iterator[Session]:
        """A short write transaction *without* the audit chain's lock, for append-only logs
        outside the chain (the access log): reads never queue behind clinical writes."""
        with translated_errors(), Session(self.engine, expire_on_commit=False) as session, \
                session.begin():
            yield session

    def ping(self) -> None:
        with translated_errors(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


# ---- migrations ----------------------------------------------------------------------


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location",
                           str(resources.files("api").joinpath("migrations")))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration that ships with this version of sprintclear."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at (``None``: an empty database)."""
    with translated_errors(), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> str:
    """Create or upgrade the schema to ``revision``; safe to run at every start.

    On PostgreSQL the first schema of the URL's ``search_path``
    (``?options=-csearch_path%3Dname``) is created when it does not exist; a user
    who may not create it gets :class:`NotConfigured` saying what to run.
    """
    with translated_errors(), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK})
            _ensure_schema(connection)
        command.upgrade(_alembic_config(connection), revision)
    current = schema_revision(engine)
    assert current is not None
    return current


def _search_path_schemas(search_path: str) -> list[str]:
    """The names in a ``SHOW search_path`` answer, unquoted (``"$user"`` left out)."""
    names = []
    for part in search_path.split(","):
        name = part.strip()
        if name.startswith('"') and name.endswith('"') and len(name) >= 2:
            name = name[1:-1].replace('""', '"')
        if name and name != "$user":
            names.append(name)
    return names


def _ensure_schema(connection: Connection) -> None:
    """Create the schema the tables go in when ``search_path`` names none that exists."""
    if connection.execute(text("SELECT current_schema()")).scalar() is not None:
        return
    search_path = str(connection.execute(text("SHOW search_path")).scalar() or "")
    names = _search_path_schemas(search_path)
    if not names:
        raise NotConfigured(
            "the PostgreSQL search_path names no schema to create the tables in: give one in "
            "the URL, e.g. …/db?options=-csearch_path%3Dsprintclear")
    name = names[0]
    quoted = connection.dialect.identifier_preparer.quote_identifier(name)
    user = connection.execute(text("SELECT current_user")).scalar()
    try:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
    except ProgrammingError as exc:  # no CREATE privilege on the database
        raise NotConfigured(
            f"the schema {quoted} does not exist and {user} may not create it "
            f"({_first_line(exc.orig)}): run `CREATE SCHEMA {quoted} AUTHORIZATION "
            f"{connection.dialect.identifier_preparer.quote(str(user))}` as the database's "
            f"owner") from exc


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base``: an empty database)."""
    with translated_errors(), engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def check_schema(engine: Engine) -> None:
    """Refuse to serve from a database whose schema is not the one this code expects."""
    current, head = schema_revision(engine), head_revision()
    if current != head:
        raise NotConfigured(
            f"the database schema is at {current or 'nothing (empty database)'}, this "
            f"sprintclear needs {head}: start it with `sprintclear serve`, which migrates")
