"""Stored decisions: read one with its explanation, sign it off, download its signed report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import Allowed, RawBody, ReportsDep, StoreDep
from api.openapi import body, error_responses
from api.responses import decision_response
from api.schemas import DecisionEnvelope, SignoffIn, parse_body
from api.store import Principal
from api.store.records import Signoff

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])


@router.get("/{decision_id}", response_class=Response,
            summary="Read a decision with its full explanation",
            responses={200: {"model": DecisionEnvelope, "description": "The stored decision"},
                       **error_responses(401, 403, 404)})
def read_decision(decision_id: str,
                  _caller: Annotated[Principal, Depends(Allowed("decision.read"))],
                  store: StoreDep) -> Response:
    """The decision exactly as it was made (criteria, blocking criteria, red flags, cautions,
    activities, the fired-rule trace, the rule base version and protocol), with its sign-off,
    its report, and the correction that superseded its assessment, if any."""
    return decision_response(store.get_decision(decision_id))


@router.post("/{decision_id}/signoff", status_code=201, summary="Accept or override a decision",
             responses=error_responses(401, 403, 404, 409, 413, 422),
             openapi_extra=body(SignoffIn))
def sign_off(decision_id: str, caller: Annotated[Principal, Depends(Allowed("decision.signoff"))],
             raw: RawBody, store: StoreDep) -> Signoff:
    """The clinician accepts the recommended phase, or overrides it with another phase and a
    reason (mandatory), optionally listing the red flags, holds and cautions acknowledged
    (``acknowledged``, recorded with it). The recommendation is never changed. A sign-off
    is final: a second one is refused (409), and so is signing the decision of a superseded
    assessment."""
    new = parse_body(SignoffIn, raw, "sign-off")
    return store.sign_off(caller, decision_id, action=new.action, phase=new.phase,
                          reason=new.reason, acknowledged=new.acknowledged)


@router.get("/{decision_id}/report.pdf", response_class=Response,
            summary="The signed PDF report of a signed-off decision",
            responses={200: {"content": {"application/pdf": {}},
                             "description": "PDF/A-3b, signed with the clinic's key"},
                       **error_responses(401, 403, 404, 409, 503)})
def report(decision_id: str, caller: Annotated[Principal, Depends(Allowed("report.read"))],
           store: StoreDep, reports: ReportsDep) -> Response:
    """Made on the first request after the sign-off, then kept: every later request gets the
    same bytes (the ``X-Report-SHA256`` header is their SHA-256, also in the audit trail).
    409 before a clinician has signed the decision off; 503 if no signing key is set."""
    kept = reports.report(store, caller, decision_id)
    return Response(content=kept.pdf, media_type="application/pdf", headers={
        "X-Report-SHA256": kept.info.sha256,
        "Content-Disposition": f'inline; filename="sprintclear-{decision_id}.pdf"'})
