"""API keys as the service checks them: a key found is trusted for KEY_CACHE_SECONDS
(api.store.keys), a revocation takes effect at once in the store that made it and
within that time in every other process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from api.store import Principal, Store
from api.store import keys as keys_module
from rules.errors import NotAuthenticated

ADMIN = Principal(key_id=None, name="admin", role="admin")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr(keys_module.time, "monotonic", clock)
    return clock


def test_a_key_revoked_in_this_store_is_refused_at_once(store: Store, clock: _Clock) -> None:
    new = store.create_key(ADMIN, role="clinician", name="Dr A")
    assert store.authenticate(new.key).name == "Dr A"
    store.revoke_key(ADMIN, new.info.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        store.authenticate(new.key)


def test_a_key_revoked_elsewhere_is_refused_once_its_lookup_is_old(
        store: Store, database_url: str, clock: _Clock) -> None:
    """Another worker (another Store on the same database) revokes the key: this one
    trusts its lookup for KEY_CACHE_SECONDS at most, then asks the database again."""
    new = store.create_key(ADMIN, role="clinician", name="Dr A")
    assert store.authenticate(new.key).role == "clinician"
    other = Store.open(database_url)
    try:
        other.revoke_key(ADMIN, new.info.id)
        with pytest.raises(NotAuthenticated, match="revoked"):
            other.authenticate(new.key)
    finally:
        other.close()
    clock.now += keys_module.KEY_CACHE_SECONDS - 0.01
    assert store.authenticate(new.key).name == "Dr A"  # within the window
    clock.now += 0.02
    with pytest.raises(NotAuthenticated, match="revoked"):
        store.authenticate(new.key)


def test_unknown_and_revoked_keys_are_never_trusted_from_memory(store: Store,
                                                               clock: _Clock) -> None:
    with pytest.raises(NotAuthenticated, match="not known"):
        store.authenticate("sck_nobody")
    new = store.create_key(ADMIN, role="insurer", name="Insurer")
    store.revoke_key(ADMIN, new.info.id)
    for _ in range(2):
        with pytest.raises(NotAuthenticated, match="revoked"):
            store.authenticate(new.key)


def test_a_lookup_racing_a_revocation_does_not_keep_the_key(store: Store,
                                                            clock: _Clock) -> None:
    """Regression (review): a lookup that read the key before a revocation of this store
    committed, and remembered it after the revocation emptied the cache, kept the key
    trusted for KEY_CACHE_SECONDS by the very store that revoked it."""
    new = store.create_key(ADMIN, role="clinician", name="Dr A")
    original = store.database.lookup

    @contextmanager
    def racing_lookup() -> Iterator[Any]:
        with original() as session:
            yield session  # the row is read here, not revoked yet
        store.database.lookup = original  # type: ignore[method-assign]
        store.revoke_key(ADMIN, new.info.id)  # another request commits the revocation

    store.database.lookup = racing_lookup  # type: ignore[method-assign]
    assert store.authenticate(new.key).name == "Dr A"  # read before the revocation
    with pytest.raises(NotAuthenticated, match="revoked"):
        store.authenticate(new.key)
