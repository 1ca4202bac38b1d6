"""API keys: create (the key is shown once), list, revoke. Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import Allowed, RawBody, StoreDep
from api.openapi import body, error_responses
from api.schemas import KeyIn, parse_body
from api.store import Principal
from api.store.records import ApiKeyInfo, NewApiKey

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.post("", status_code=201, summary="Create an API key (shown once)",
             responses=error_responses(401, 403, 413, 422), openapi_extra=body(KeyIn))
def create_key(caller: Annotated[Principal, Depends(Allowed("key.manage"))], raw: RawBody,
               store: StoreDep) -> NewApiKey:
    """A random key carrying one role; only its SHA-256 is stored, so it cannot be shown
    again."""
    new = parse_body(KeyIn, raw, "key request")
    return store.create_key(caller, role=new.role, name=new.name)


@router.get("", summary="List the API keys (never the keys themselves)",
            responses=error_responses(401, 403))
def list_keys(_caller: Annotated[Principal, Depends(Allowed("key.manage"))],
              store: StoreDep) -> list[ApiKeyInfo]:
    return store.list_keys()


@router.post("/{key_id}/revoke", summary="Revoke an API key",
             responses=error_responses(401, 403, 404, 409))
def revoke_key(key_id: str, caller: Annotated[Principal, Depends(Allowed("key.manage"))],
               store: StoreDep) -> ApiKeyInfo:
    """The key is refused at once by this worker and within ``KEY_CACHE_SECONDS`` (2 s) by
    the service's other workers; it stays listed, with when it was revoked."""
    return store.revoke_key(caller, key_id)
