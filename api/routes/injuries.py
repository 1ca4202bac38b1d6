"""Injury episodes and their assessments: store an assessment and decide it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.deps import Allowed, AssessmentBody, EvaluatorDep, StoreDep
from api.openapi import assessment_body, error_responses
from api.responses import decision_headers, decision_response
from api.schemas import DecisionEnvelope
from api.store import Principal
from api.store.records import AssessmentEntry, Injury

router = APIRouter(prefix="/v1/injuries", tags=["assessments"])


@router.get("/{injury_id}", summary="Read an injury episode",
            responses=error_responses(401, 403, 404))
def read_injury(injury_id: str, _caller: Annotated[Principal, Depends(Allowed("injury.read"))],
                store: StoreDep) -> Injury:
    return store.get_injury(injury_id)


@router.post(
    "/{injury_id}/assessments", status_code=201, response_class=Response,
    summary="Store an assessment and decide it",
    responses={201: {"model": DecisionEnvelope, "description": "The stored decision"},
               **error_responses(401, 403, 404, 409, 413, 422)},
    openapi_extra=assessment_body("The assessment, exactly as for /v1/evaluate; its athlete.id "
                                  "and injury region, side and date must be the episode's; "
                                  "previous may be omitted (the service fills it)"))
async def store_assessment(
        injury_id: str, caller: Annotated[Principal, Depends(Allowed("assessment.create"))],
        assessment: AssessmentBody, evaluator: EvaluatorDep, store: StoreDep,
        supersedes: Annotated[str | None, Query(
            description="The id of a stored assessment this one corrects; the corrected one "
                        "stays, marked as superseded")] = None) -> Response:
    """The assessment is kept as entered (its canonical form) and never changed; a correction
    is a new assessment that names the one it supersedes. The decision is made now, with the
    rule base in use, and kept with its full explanation.

    ``previous`` is the service's: the latest sign-off of an earlier assessment of this
    injury and that assessment's date (protocol section 2.1, ``api.signed_phase``). An
    omitted ``previous`` is filled; one that differs from the records is refused (409,
    naming the stored values). So is the athlete's name: an omitted ``athlete.name`` is filled
    from the stored athlete, a different one is refused (409)."""
    # Decided and written on the event loop, like /v1/evaluate: a few milliseconds of CPU and
    # one short transaction. In the thread pool, threads deciding and threads waiting on the
    # database convoy on the GIL (p99 ~170 ms against ~50 ms here, bench/service.py).
    assessment = store.from_records(injury_id, assessment, supersedes=supersedes)
    # The plain data is stored and answered as it is: the typed model is not needed here.
    decision = evaluator.decide_data(assessment, evaluated_at=store.now())
    headers = decision_headers(decision["decision_id"])  # built before the write commits
    stored = store.record_assessment(caller, injury_id, assessment, decision,
                                     supersedes=supersedes, check_previous=True)
    return decision_response(stored, status_code=201, headers=headers)


@router.get("/{injury_id}/assessments", summary="List an injury's assessments",
            responses=error_responses(401, 403, 404))
def list_assessments(injury_id: str,
                     _caller: Annotated[Principal, Depends(Allowed("assessment.read"))],
                     store: StoreDep) -> list[AssessmentEntry]:
    return store.list_assessments(injury_id)
