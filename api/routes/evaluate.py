"""``POST /v1/evaluate``: decide an assessment without storing it (what-if)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import Allowed, AssessmentBody, EvaluatorDep
from api.openapi import assessment_body, error_responses
from api.store import Principal
from engine.decision import Decision

router = APIRouter(prefix="/v1", tags=["decisions"])


@router.post(
    "/evaluate", summary="Decide an assessment without storing it",
    response_class=Response,
    responses={200: {"model": Decision, "description": "The decision, fully explained"},
               **error_responses(401, 403, 413, 422)},
    openapi_extra=assessment_body("One assessment document (protocol section 7)"))
async def evaluate(_caller: Annotated[Principal, Depends(Allowed("evaluate"))],
                   assessment: AssessmentBody, evaluator: EvaluatorDep) -> Response:
    """The decision, byte for byte what `sprintclear evaluate --json` prints; nothing is kept."""
    decision = evaluator.decide(assessment)
    return Response(content=decision.to_json(), media_type="application/json")
