"""PostgreSQL with a schema of its own (``?options=-csearch_path%3Dname``), as the README shows.

A schema that does not exist yet is created by the first migration; a user who
may not create it gets one line saying what to run, from the store and from
``sprintclear``, and nothing is created.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from database_support import postgres_url, require_postgres
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.store import Store
from api.store.database import _search_path_schemas, make_engine
from rules.errors import NotConfigured
from sprintclear.cli import main


def _schema_exists(admin_url: str, schema: str) -> bool:
    engine = make_engine(admin_url)
    try:
        with engine.connect() as connection:
            return bool(connection.execute(
                text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"),
                {"s": schema}).scalar())
    finally:
        engine.dispose()


def _admin(admin_url: str, statement: str) -> None:
    engine = make_engine(admin_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def missing_schema() -> Iterator[tuple[str, str]]:
    """The admin URL and the name of a schema that does not exist (dropped at the end)."""
    admin_url = require_postgres()
    schema = f"sprintclear_new_{uuid.uuid4().hex[:10]}"
    yield admin_url, schema
    _admin(admin_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_missing_schema_is_created_and_migrated(missing_schema: tuple[str, str]) -> None:
    admin_url, schema = missing_schema
    assert not _schema_exists(admin_url, schema)
    store = Store.open(postgres_url(schema), migrate_schema=True)
    try:
        store.check_schema()
        engine = store.database.engine
        with engine.connect() as connection:
            tables = set(connection.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema}).scalars())
    finally:
        store.close()
    assert {"athletes", "decisions", "audit_entries", "alembic_version"} <= tables


def test_a_user_who_may_not_create_it_is_told_what_to_run(
        missing_schema: tuple[str, str]) -> None:
    admin_url, schema = missing_schema
    role = f"sprintclear_weak_{uuid.uuid4().hex[:8]}"
    _admin(admin_url, f'CREATE ROLE "{role}" LOGIN')
    try:
        weak = make_url(postgres_url(schema)).set(username=role).render_as_string(
            hide_password=False)
        with pytest.raises(NotConfigured) as refused:
            Store.open(weak, migrate_schema=True)
        message = str(refused.value)
        assert "\n" not in message
        assert f'the schema "{schema}" does not exist' in message
        assert f'CREATE SCHEMA "{schema}" AUTHORIZATION' in message

        result = CliRunner().invoke(main, ["keys", "create", "--role", "admin", "--name",
                                           "Clinic IT", "--database-url", weak])
        assert result.exit_code == 3, result.output
        assert result.stderr.strip() == f"sprintclear: {message}"
        assert "Traceback" not in result.output
    finally:
        _admin(admin_url, f'DROP ROLE "{role}"')
    assert not _schema_exists(admin_url, schema)


@pytest.mark.parametrize(("shown", "names"), [
    ('"$user", public', ["public"]),
    ("sprintclear", ["sprintclear"]),
    ('"My ""odd"" schema", public', ['My "odd" schema', "public"]),
    ("", []),
])
def test_search_path_names_are_read_as_postgresql_shows_them(shown: str,
                                                             names: list[str]) -> None:
    assert _search_path_schemas(shown) == names
