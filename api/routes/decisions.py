"""Stored decisions: read one with its explanation, sign it off, issue and download its report."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Response

from api.deps import Allowed, EvaluatorDep, RawBody, ReportsDep, StoreDep
from api.openapi import body, error_responses
from api.responses import decision_response
from api.schemas import DecisionEnvelope, SignoffIn, SignoffResult, parse_body
from api.scope import scoped_decision
from api.store import Principal
from api.store.records import ReportInfo
from api.store.signoffs import signoff_problems
from engine.confirmation import confirm_above_problems
from engine.decision import read_decision as decision_of
from rules.errors import InvalidInput

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])


@router.get("/{decision_id}", response_class=Response,
            summary="Read a decision with its full explanation",
            responses={200: {"model": DecisionEnvelope, "description": "The stored decision"},
                       **error_responses(401, 403, 404)})
def read_decision(decision_id: str,
                  caller: Annotated[Principal, Depends(Allowed("decision.read"))],
                  store: StoreDep) -> Response:
    """The decision exactly as it was made (criteria, blocking criteria, red flags, cautions,
    activities, the fired-rule trace, the rule base version and protocol), with its sign-off,
    its report, and the correction that superseded its assessment, if any. Insurers see
    signed decisions only (404 otherwise); an insurer's or auditor's read is recorded in
    the access log."""
    stored = scoped_decision(store, caller, decision_id)
    response = decision_response(stored)
    store.record_read(caller, action="decision.read", decision_id=stored.id,
                      athlete_id=stored.athlete_id, via="api")
    return response


@router.post("/{decision_id}/signoff", status_code=201, summary="Accept or override a decision",
             responses=error_responses(401, 403, 404, 409, 413, 422),
             openapi_extra=body(SignoffIn))
def sign_off(decision_id: str, caller: Annotated[Principal, Depends(Allowed("decision.signoff"))],
             raw: RawBody, store: StoreDep, reports: ReportsDep,
             evaluator: EvaluatorDep) -> SignoffResult:
    """The clinician accepts the recommended phase, or overrides it with another phase and a
    reason (mandatory), optionally listing the red flags, holds and cautions acknowledged
    (``acknowledged``, recorded with it). The recommendation is never changed. A sign-off
    is final: a second one is refused (409), and so is signing the decision of a superseded
    assessment.

    An override to a phase **above** the recommendation needs a second, explicit
    confirmation, as the decision page asks for: ``confirm_above`` set to the signed phase's
    id. Without it the answer is 422 naming ``confirm_above`` and saying what the override
    clears (clearances granted, activities allowed, holds and red flags set aside); nothing
    is stored.

    When the service has a signing key, the signed report is issued now, attributed to this
    clinician (``report``); if it cannot be, the sign-off still stands and ``report_problem``
    says why (issue it with ``POST /v1/decisions/{id}/report``)."""
    new = parse_body(SignoffIn, raw, "sign-off")
    stored = store.get_decision(decision_id)  # 404 before anything else
    if stored.signoff is None and stored.superseded_by is None:  # else the store's 409
        problems = signoff_problems(stored.summary.phase.id, new.action, new.phase, new.reason)
        problems += confirm_above_problems(decision_of(stored.decision_json),
                                           evaluator.protocol, new.action, new.phase,
                                           new.confirm_above)
        if problems:
            raise InvalidInput("the sign-off is not valid", problems)
    signoff = store.sign_off(caller, decision_id, action=new.action, phase=new.phase,
                             reason=new.reason, acknowledged=new.acknowledged)
    issued, problem = reports.after_signoff(store, caller, decision_id)
    return SignoffResult(**signoff.model_dump(), report=issued.info if issued else None,
                         report_problem=problem)


@router.post("/{decision_id}/report", status_code=201,
             summary="Issue the signed report of a signed-off decision",
             responses=error_responses(401, 403, 404, 409, 503))
def issue_report(decision_id: str,
                 caller: Annotated[Principal, Depends(Allowed("decision.signoff"))],
                 store: StoreDep, reports: ReportsDep) -> ReportInfo:
    """Render, sign and keep the report of a decision signed off without one (signing was not
    configured then, or failed), attributed to this clinician in the audit trail. 409 before
    the sign-off or when the report exists; 503 if no signing key is set."""
    return reports.issue(store, caller, decision_id).info


@router.get("/{decision_id}/report.pdf", response_class=Response,
            summary="Download the signed PDF report of a decision",
            responses={200: {"content": {"application/pdf": {}},
                             "description": "PDF/A-3b, signed with the clinic's key"},
                       **error_responses(401, 403, 404, 409)})
def report(decision_id: str, caller: Annotated[Principal, Depends(Allowed("report.read"))],
           store: StoreDep, reports: ReportsDep) -> Response:
    """The report as it was issued, the same bytes every time (the ``X-Report-SHA256`` header
    is their SHA-256, also in the audit trail). Only reads: a download creates no report and
    no audit entry; an insurer's or auditor's download is recorded in the access log. 409
    when the decision was not signed off; 404 when its report was not issued (and, for an
    insurer, when the decision is not signed)."""
    stored = scoped_decision(store, caller, decision_id)
    kept = reports.read(store, stored.id)
    response = Response(content=kept.pdf, media_type="application/pdf", headers={
        "X-Report-SHA256": kept.info.sha256,
        "Content-Disposition": f'inline; filename="sprintclear-{quote(stored.id)}.pdf"'})
    store.record_read(caller, action="report.read", decision_id=stored.id,
                      athlete_id=stored.athlete_id, via="api")
    return response
