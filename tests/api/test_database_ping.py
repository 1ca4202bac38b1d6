"""PostgreSQL connections are pinged before use only after PING_AFTER_IDLE_SECONDS idle
(api.store.database): one the server dropped while idle is replaced, not an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from api.store import Store
from api.store import database as database_module
from tests.database_support import (
    TEST_DATABASE_URL,
    own_schema,
    postgres_url,
    require_postgres,
)


@pytest.fixture
def postgres_store() -> Iterator[Store]:
    require_postgres()
    with own_schema("ping") as schema:
        store = Store.open(postgres_url(schema), migrate_schema=True)
        try:
            yield store
        finally:
            store.close()


def _backend_pid(store: Store) -> int:
    with store.database.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    """From a connection of another engine (the store's pool holds only the victim)."""
    assert TEST_DATABASE_URL is not None
    admin = database_module.make_engine(TEST_DATABASE_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_a_connection_dropped_while_idle_is_replaced(postgres_store: Store,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pid = _backend_pid(postgres_store)
    _terminate(pid)  # the server drops the pooled connection while it is idle
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # idle "long"
    assert postgres_store.list_athletes() == []  # pinged, replaced, answered
    assert _backend_pid(postgres_store) != pid


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pings = []
    dialect = postgres_store.database.engine.dialect
    original = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda c: pings.append(1) or original(c))
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 60.0)
    postgres_store.list_athletes()
    postgres_store.list_athletes()
    postgres_store.list_athletes()
    assert pings == []  # the pool's connection came back a moment ago each time
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    postgres_store.list_athletes()
    assert pings == [1]
