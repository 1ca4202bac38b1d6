"""Databases of a test's own, on every backend the run has.

SQLite always; PostgreSQL too when ``SPRINTCLEAR_TEST_DATABASE_URL`` is set
(``.ci/run`` sets it). A PostgreSQL database here is a schema of its own on
that server, created for the test (or session) and dropped at its end, so no
test depends on what an earlier run left there, and none leaves anything.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.store.database import make_engine

TEST_DATABASE_URL = os.environ.get("SPRINTCLEAR_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]


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
