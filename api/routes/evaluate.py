"""``POST /v1/evaluate``: decide an assessment without storing it (what-if)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import Allowed, AssessmentBody, EvaluatorDep, StoreDep
from api.openapi import assessment_body, error_responses
from api.store import Principal
from api.store.transaction import future_date_problem
from engine.decision import Decision  # the response's documented model

router = APIRouter(prefix="/v1", tags=["decisions"])

NOTE_HEADER = "X-Sprintclear-Note"


@router.post(
    "/evaluate", summary="Decide an assessment without storing it",
    response_class=Response,
    responses={200: {"model": Decision, "description": "The decision, fully explained"},
               **error_responses(401, 403, 413, 422)},
    openapi_extra=assessment_body("One assessment document (protocol section 7)"))
async def evaluate(_caller: Annotated[Principal, Depends(Allowed("evaluate"))],
                   assessment: AssessmentBody, evaluator: EvaluatorDep,
                   store: StoreDep) -> Response:
    """The decision, byte for byte what `sprintclear evaluate --json` prints; nothing is kept.

    A date after today (server time, one day of tolerance) is decided as a what-if, which
    the service would not store; the ``X-Sprintclear-Note`` header says so."""
    text = evaluator.decision_text(assessment)  # no typed model: the same bytes, sooner
    now = store.now()
    future = [p for field, value in (("injury.date", assessment.document["injury"]["date"]),
                                     ("assessment.date",
                                      assessment.document["assessment"]["date"]))
              if (p := future_date_problem(field, str(value), now)) is not None]
    headers = ({NOTE_HEADER: "what-if: " + "; ".join(f"{p.field} {p.message.split(':')[0]}"
                                                      for p in future)
                + ": decided, but the service would not store it"} if future else None)
    return Response(content=text, media_type="application/json",
                    headers=headers)
