"""A stored decision as a FHIR R4 transaction Bundle (``api.fhir.export``)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.deps import Allowed, EvaluatorDep, StoreDep
from api.fhir.export import SignedReport, bundle_json, decision_bundle
from api.openapi import error_responses
from api.roles import roles_for
from api.scope import scoped_decision
from api.store import Principal

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])

FHIR_JSON = "application/fhir+json"


@router.get("/{decision_id}/fhir", response_class=Response,
            summary="A decision as a FHIR R4 transaction Bundle",
            responses={200: {"content": {FHIR_JSON: {}},
                             "description": "Bundle (type transaction): Patient, Condition, "
                                            "Observations, GuidanceResponse, CarePlan, and "
                                            "once signed Provenance and DocumentReference"},
                       **error_responses(401, 403, 404, 422)})
def decision_fhir(decision_id: str, request: Request,
                  caller: Annotated[Principal, Depends(Allowed("decision.fhir"))],
                  store: StoreDep, evaluator: EvaluatorDep) -> Response:
    """The decision, its assessment's measures, the sign-off (Provenance) and the signed
    report (DocumentReference: URL, size, SHA-1; the SHA-256 as an identifier). Clinicians
    and auditors read every decision; an insurer only a signed one (404 otherwise, as on
    every decision route: ``api.scope``); an insurer's or auditor's read is recorded in the
    access log. The athlete's name is in the Patient only for roles that may read athletes."""
    stored = scoped_decision(store, caller, decision_id)
    report = None
    if stored.report is not None:
        kept = store.get_report(decision_id)
        if kept is not None:
            report = SignedReport(
                url=str(request.url_for("report", decision_id=decision_id)),
                size=kept.info.size, sha256=kept.info.sha256, created_at=kept.info.created_at,
                sha1_base64=base64.b64encode(hashlib.sha1(kept.pdf).digest()).decode("ascii"))
    bundle = decision_bundle(
        json.loads(stored.decision_json), store.document_of(decision_id),
        protocol=evaluator.protocol, signoff=stored.signoff, report=report,
        include_name=caller.role in roles_for("athlete.read"))
    content = bundle_json(bundle)
    store.record_read(caller, action="decision.fhir", decision_id=stored.id,
                      athlete_id=stored.athlete_id, via="api")
    return Response(content=content, media_type=FHIR_JSON)
