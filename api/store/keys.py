"""API keys: creating, listing and revoking them, and authenticating their holders.

Only a key's SHA-256 is stored; the key itself (``sck_…``) is returned once, at
creation. Creating and revoking are audited (``key.create``, ``key.revoke``).
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import select

from api.roles import Role
from api.store.canonical import sha256_hex
from api.store.records import ApiKeyInfo, NewApiKey, Principal
from api.store.tables import ApiKeyRow
from api.store.transaction import StorePart, new_id, stamp
from rules.errors import Conflict, InvalidInput, NotAuthenticated, Problem

__all__ = ["KEY_PREFIX", "Keys", "key_info"]

KEY_PREFIX = "sck_"
_MAX_KEY = 256

KEY_CACHE_SECONDS = 2.0
"""How long a process trusts a key it has looked up before it asks the database again.

A key revoked through a store is refused by that store at once (the revocation empties
its cache); the service's other worker processes, and a service whose key was revoked
with ``sprintclear keys revoke``, refuse it within this time. Looking the key up on every
request was a fifth of the CPU of ``POST /v1/evaluate`` (bench/service.py, issue 11)."""
_KEY_CACHE_SIZE = 1024


def key_info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(id=row.id, name=row.name, role=row.role, created_at=row.created_at,
                      revoked_at=row.revoked_at)


class Keys(StorePart):
    """The store's API keys (part of :class:`~api.store.store.Store`)."""

    _known_keys: dict[str, tuple[Principal, float]]
    """Keys looked up lately, by SHA-256: who holds them, and when (``time.monotonic``)."""
    _key_generation: list[int]
    """One counter, bumped by every revocation of this store: a lookup that started before
    a revocation committed is not remembered (it may have read the key unrevoked)."""

    def create_key(self, actor: Principal, *, role: str, name: str) -> NewApiKey:
        """A new random key; only its SHA-256 is stored, the key itself is returned once."""
        problems = []
        if role not in {r.value for r in Role}:
            problems.append(Problem("role", "choice", "must be one of "
                                    f"{', '.join(r.value for r in Role)} (got {role!r})"))
        cleaned = name.strip()
        if not cleaned or len(cleaned) > 200 or "\x00" in cleaned:
            problems.append(Problem("name", "length",
                                    "must be 1–200 characters, without NUL characters"))
        if problems:
            raise InvalidInput("the key request is not valid", problems)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        at = stamp(self.now())
        row = ApiKeyRow(id=new_id("key"), key_sha256=sha256_hex(key), name=cleaned, role=role,
                        created_at=at, revoked_at=None)
        with self.transaction(actor, at) as tx:
            tx.session.add(row)
            tx.audit("key.create", f"key/{row.id}",
                     {"key_id": row.id, "name": row.name, "role": row.role}, record=row)
        return NewApiKey(key=key, info=key_info(row))

    def list_keys(self) -> list[ApiKeyInfo]:
        with self.database.reading() as session:
            rows = session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at,
                                                              ApiKeyRow.id)).scalars()
            return [key_info(row) for row in rows]

    def revoke_key(self, actor: Principal, key_id: str) -> ApiKeyInfo:
        with self.transaction(actor) as tx:
            row = tx.get(ApiKeyRow, key_id, "API key")
            if row.revoked_at is not None:
                raise Conflict(f"API key {key_id} was already revoked at {row.revoked_at}")
            row.revoked_at = tx.at
            tx.audit("key.revoke", f"key/{row.id}",
                     {"key_id": row.id, "name": row.name, "role": row.role})
            revoked = key_info(row)
        # after the commit: from now on this store refuses it, and a lookup that read the
        # key before the commit does not put it back (the generation it started in is over)
        self._key_generation[0] += 1
        self._known_keys.clear()
        return revoked

    def authenticate(self, key: str | None) -> Principal:
        """The holder of ``key``; ``NotAuthenticated`` if it is missing, unknown or revoked.

        A key found is trusted for :data:`KEY_CACHE_SECONDS` without asking the database
        again; an unknown or revoked key is looked up every time."""
        if not key:
            raise NotAuthenticated("an API key is needed: send it in the X-API-Key header")
        if len(key) > _MAX_KEY or not key.isascii():
            raise NotAuthenticated("the API key is not known")
        digest = sha256_hex(key)
        now = time.monotonic()
        known = self._known_keys.get(digest)
        if known is not None and now - known[1] < KEY_CACHE_SECONDS:
            return known[0]
        generation = self._key_generation[0]
        with self.database.lookup() as session:  # one statement: no transaction needed
            row = session.execute(select(ApiKeyRow).where(
                ApiKeyRow.key_sha256 == digest)).scalar_one_or_none()
            if row is None:
                raise NotAuthenticated("the API key is not known")
            if row.revoked_at is not None:
                raise NotAuthenticated("the API key was revoked")
            principal = Principal(key_id=row.id, name=row.name, role=row.role)
        if generation == self._key_generation[0]:
            if len(self._known_keys) >= _KEY_CACHE_SIZE:
                self._known_keys.clear()
            self._known_keys[digest] = (principal, now)
        return principal
