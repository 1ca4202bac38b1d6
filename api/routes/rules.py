"""``GET /v1/rules``: the rule catalogue the service decides with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import Allowed, EvaluatorDep
from api.openapi import error_responses
from api.store import Principal

router = APIRouter(prefix="/v1", tags=["rules"])


@router.get("/rules", summary="The rule catalogue: criteria, safety rules, activities",
            responses=error_responses(401, 403))
def rules(_caller: Annotated[Principal, Depends(Allowed("rules.read"))],
          evaluator: EvaluatorDep) -> dict[str, Any]:
    """Every phase, gate, criterion (with its parts, thresholds, rationale and sources), safety
    rule, profile and activity of the protocol in use, with the rule base version that every
    decision made under it records."""
    protocol = evaluator.protocol
    return {"rulebase": {"version": evaluator.version, "protocol": protocol.id,
                         "protocol_version": protocol.version, "title": protocol.title,
                         "protocol_sha256": protocol.content_hash},
            **protocol.model_dump(mode="json")}
