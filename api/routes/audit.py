"""The audit trail: read it, and verify the whole chain; and the access log of reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Allowed, StoreDep
from api.openapi import error_responses
from api.store import Principal
from api.store.access import AccessLogFilters, Page
from api.store.records import AccessLogPage, AuditEntry

router = APIRouter(prefix="/v1/audit", tags=["audit"])
access_router = APIRouter(prefix="/v1/access-log", tags=["audit"])

_WHEN = r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+Z)?$"


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


@access_router.get("", summary="Read the access log: who read which decision or report",
                   responses=error_responses(401, 403, 422))
def access_log(
        _caller: Annotated[Principal, Depends(Allowed("access.read"))], store: StoreDep,
        role: Annotated[Literal["insurer", "auditor"] | None, Query(
            description="Reads by this role only")] = None,
        key: Annotated[str | None, Query(max_length=64, description="Reads by this API key "
                                         "(its id)")] = None,
        athlete: Annotated[str | None, Query(max_length=64, description="Reads of this "
                                             "athlete's decisions")] = None,
        decision: Annotated[str | None, Query(max_length=64, description="Reads of this "
                                              "decision and its report")] = None,
        action: Annotated[Literal["decision.read", "report.read"] | None, Query()] = None,
        since: Annotated[str | None, Query(pattern=_WHEN, description="From this date or "
                                           "store time (UTC)")] = None,
        until: Annotated[str | None, Query(pattern=_WHEN, description="Up to this date "
                                           "(included) or store time")] = None,
        after: Annotated[int, Query(ge=0, le=2**62, description="Entries after this id")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AccessLogPage:
    """Every read of a decision (``decision.read``) or of its report (``report.read``) by an
    insurer or an auditor, through the API or the pages: who (key, name, role), when, which
    decision and athlete, oldest first; ``next_after`` continues. Append-only: read only."""
    return store.access_log(
        AccessLogFilters(role=role, key_id=key, athlete_id=athlete, decision_id=decision,
                         action=action, since=since, until=until),
        Page(after=after, limit=limit))
