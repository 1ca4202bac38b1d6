"""API keys: creating, listing and revoking them, and authenticating their holders.

Only a key's SHA-256 is stored; the key itself (``sck_…``) is returned once, at
creation. Creating and revoking are audited (``key.create``, ``key.revoke``).
"""

from __future__ import annotations

import secrets

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


def key_info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(id=row.id, name=row.name, role=row.role, created_at=row.created_at,
                      revoked_at=row.revoked_at)


class Keys(StorePart):
    """The store's API keys (part of :class:`~api.store.store.Store`)."""

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
            return key_info(row)

    def authenticate(self, key: str | None) -> Principal:
        """The holder of ``key``; ``NotAuthenticated`` if it is missing, unknown or revoked."""
        if not key:
            raise NotAuthenticated("an API key is needed: send it in the X-API-Key header")
        if len(key) > _MAX_KEY or not key.isascii():
            raise NotAuthenticated("the API key is not known")
        with self.database.reading() as session:
            row = session.execute(select(ApiKeyRow).where(
                ApiKeyRow.key_sha256 == sha256_hex(key))).scalar_one_or_none()
            if row is None:
                raise NotAuthenticated("the API key is not known")
            if row.revoked_at is not None:
                raise NotAuthenticated("the API key was revoked")
            return Principal(key_id=row.id, name=row.name, role=row.role)
