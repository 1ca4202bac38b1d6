"""Stored assessments, read back as they were entered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import Allowed, StoreDep
from api.openapi import error_responses
from api.store import Principal
from api.store.records import AssessmentRecord

router = APIRouter(prefix="/v1/assessments", tags=["assessments"])


@router.get("/{assessment_id}", summary="Read a stored assessment",
            responses=error_responses(401, 403, 404))
def read_assessment(assessment_id: str,
                    _caller: Annotated[Principal, Depends(Allowed("assessment.read"))],
                    store: StoreDep) -> AssessmentRecord:
    """The canonical input document, with its decision summary, sign-off and corrections."""
    return store.get_assessment(assessment_id)
