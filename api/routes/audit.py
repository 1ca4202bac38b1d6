"""The audit trail: read it, and verify the whole chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.deps import Allowed, StoreDep
from api.openapi import error_responses
from api.store import Principal
from api.store.records import AuditEntry

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/verify", summary="Check the whole audit chain and the records it vouches for",
            responses=error_responses(401, 403))
def verify(_caller: Annotated[Principal, Depends(Allowed("audit.read"))],
           store: StoreDep) -> dict[str, Any]:
    """``intact`` is true when every entry's hash, every link to its predecessor, the chain
    head, and every stored record match; otherwise ``problems`` names each break (``edited``,
    ``deleted``, ``inserted``, ``reordered``) by entry number, first one first. Record the
    ``head`` hash elsewhere to anchor the chain."""
    return store.verify_audit().as_dict()


@router.get("/entries", summary="Read the audit trail", responses=error_responses(401, 403, 422))
def entries(_caller: Annotated[Principal, Depends(Allowed("audit.read"))], store: StoreDep,
            after: Annotated[int, Query(ge=0, le=2**62, description="Entries after this number")
                             ] = 0,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditEntry]:
    """Who did what when, in order, with the hashes that chain the entries."""
    return store.audit_entries(after=after, limit=limit)
