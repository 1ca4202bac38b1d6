"""Databases of a test's own, on every backend the run has.

SQLite always; PostgreSQL too, at ``SPRINTCLEAR_TEST_DATABASE_URL`` when that
is set (``.ci/run`` sets it; then a server that cannot be reached fails the
tests), otherwise at :data:`DEFAULT_TEST_DATABASE_URL` when a quick probe
reaches it (the PostgreSQL tests are skipped, saying why, when it does not).
``SPRINTCLEAR_TEST_DATABASE_URL=`` (empty) runs SQLite only. A PostgreSQL
database here is a schema of its own on that server, created for the test (or
session) and dropped at its end, so no test depends on what an earlier run
left there, and none leaves anything.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.store.database import make_engine

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
"""The server the tests use when no URL is given (trust authentication, database ``test``)."""
_PROBE_TIMEOUT_SECONDS = 2


def _unreachable(url: str) -> str | None:
    """Why the PostgreSQL server at ``url`` cannot be used (``None``: it answers)."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=_PROBE_TIMEOUT_SECONDS) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()
        return first[0] if first else type(exc).__name__
    return None


def _postgres_backend() -> tuple[str | None, str | None]:
    """The PostgreSQL test URL, and why it is skipped (``None``: it runs)."""
    given = os.environ.get("SPRINTCLEAR_TEST_DATABASE_URL")
    if given is not None:
        return (given or None), None  # given: used as it is; empty: no PostgreSQL
    reason = _unreachable(DEFAULT_TEST_DATABASE_URL)
    if reason is None:
        return DEFAULT_TEST_DATABASE_URL, None
    shown = make_url(DEFAULT_TEST_DATABASE_URL).render_as_string(hide_password=True)
    return None, (f"PostgreSQL at {shown} is not reachable ({reason}); set "
                  f"SPRINTCLEAR_TEST_DATABASE_URL to test against another server")


TEST_DATABASE_URL, POSTGRES_SKIP_REASON = _postgres_backend()
BACKENDS: list[Any] = ["sqlite"]
"""The ``params`` of a backend fixture: ``"sqlite"``, and ``"postgresql"`` (skipped with the
reason when the default server cannot be reached)."""
if TEST_DATABASE_URL:
    BACKENDS.append("postgresql")
elif POSTGRES_SKIP_REASON:
    BACKENDS.append(pytest.param("postgresql", marks=pytest.mark.skip(
        reason=POSTGRES_SKIP_REASON)))


def require_postgres() -> str:
    """The PostgreSQL test URL; skips the calling test (saying why) when there is none."""
    if TEST_DATABASE_URL is None:
        pytest.skip(POSTGRES_SKIP_REASON or "SPRINTCLEAR_TEST_DATABASE_URL is empty: "
                    "PostgreSQL tests are off")
    return TEST_DATABASE_URL


def postgres_url(schema: str) -> str:
    """The test server's URL with ``search_path`` set to ``schema``."""
    assert TEST_DATABASE_URL is not None
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@contextmanager
def own_schema(prefix: str) -> Iterator[str]:
    """A new, empty schema on the PostgreSQL test server, dropped (with its content) at the end."""
    assert TEST_DATABASE_URL is not None
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def empty_database(backend: str, tmp_path: Path, name: str) -> Iterator[str]:
    """The URL of a database with nothing in it: a new SQLite file, or a new schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    with own_schema(f"sprintclear_{name}") as schema:
        yield postgres_url(schema)
