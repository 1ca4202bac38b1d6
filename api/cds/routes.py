"""CDS Hooks 2.0 endpoints: discovery, the ``patient-view`` service, and its feedback.

==========================================  ===================================================
``GET /cds-services``                       discovery: the service, its hook and prefetch
``POST /cds-services/sprintclear-rts``      a ``patient-view`` call → ``{"cards": [...]}``;
                                            412 with the queries needed when the prefetch
                                            lacks data and no FHIR server was given
``POST /cds-services/sprintclear-rts/       what the clinician did with the cards, recorded
feedback``                                  in the audit trail as feedback (never a sign-off)
==========================================  ===================================================

The two POSTs need the EHR's JWT (``api.cds.auth``): 401 without a valid one.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import jwt
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from api.cds.auth import CdsClient, load_jwks, verify_client
from api.cds.service import (
    DISCOVERY,
    SERVICE_ID,
    CardLink,
    CardRegistry,
    DataUnavailable,
    cards,
    error_cards,
    gather_resources,
    parse_feedback,
    parse_hook_request,
    previous_problems,
    signed_on_record,
)
from api.deps import EvaluatorDep, RawBody, SettingsDep, StoreDep
from api.errors import problem_details
from api.fhir.importing import assessment_from_resources
from api.store import Principal
from rules.errors import InvalidAssessment, InvalidInput, NotFound, Problem

# Not in the OpenAPI document: an EHR finds the service by CDS Hooks discovery, and the
# request and card shapes are the CDS Hooks 2.0 specification's.
router = APIRouter(tags=["cds-hooks"], include_in_schema=False)

_HOOK = f"/cds-services/{SERVICE_ID}"


def _jwks(request: Request, settings: SettingsDep) -> jwt.PyJWKSet | None:
    state = request.app.state
    cached = getattr(state, "cds_jwks", None)
    if cached is None or cached[0] != settings.cds_jwks_file:
        state.cds_jwks = (settings.cds_jwks_file, load_jwks(settings.cds_jwks_file))
    jwks: jwt.PyJWKSet | None = state.cds_jwks[1]
    return jwks


def _registry(request: Request) -> CardRegistry:
    registry: CardRegistry | None = getattr(request.app.state, "cds_cards", None)
    if registry is None:
        registry = request.app.state.cds_cards = CardRegistry()
    return registry


def _transport(request: Request) -> httpx.BaseTransport | None:
    """The HTTP transport for the EHR's FHIR server (tests may set one; default the network)."""
    transport: httpx.BaseTransport | None = getattr(request.app.state, "cds_transport", None)
    return transport


def _client(request: Request, settings: SettingsDep,
            authorization: Annotated[str | None, Header()] = None) -> CdsClient:
    audiences = [str(request.url).split("?", 1)[0]]
    if settings.cds_audience:
        base = settings.cds_audience.rstrip("/")
        audiences.append(base + request.url.path.removeprefix("/cds-services"))
    return verify_client(authorization, jwks=_jwks(request, settings), audiences=audiences)


ClientDep = Annotated[CdsClient, Depends(_client)]


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the {what} is not valid JSON", [
            Problem("<body>", "json", f"is not valid JSON ({exc})")]) from exc


@router.get("/cds-services", summary="CDS Hooks discovery")
def discovery() -> dict[str, Any]:
    """The CDS services of sprintclear (CDS Hooks 2.0 discovery): one ``patient-view``
    service, ``sprintclear-rts``, with the prefetch templates it uses."""
    return DISCOVERY


def _on_record(store: Any, document: dict[str, Any]) -> dict[str, str] | None:
    athlete_id = (document.get("athlete") or {}).get("id")
    if not athlete_id:
        return None
    try:
        timeline = store.timeline(athlete_id)
    except NotFound:
        return None
    return signed_on_record(timeline, document)


def _link(request: Request, store: Any, decision: dict[str, Any]) -> CardLink | None:
    """The decision page when the store holds this very assessment, else the athlete's page."""
    athlete_id = decision["athlete"]["id"]
    try:
        entries, _ = store.decision_log(athlete_id=athlete_id, limit=50)
    except NotFound:  # pragma: no cover - the log of an unknown athlete is empty
        entries = []
    base = str(request.base_url).rstrip("/")
    for entry in entries:
        if entry.input_sha256 == decision["input_sha256"]:
            return CardLink("Decision page", f"{base}/decisions/{entry.decision.id}")
    if entries:
        return CardLink("Athlete page", f"{base}/athletes/{athlete_id}")
    return None


@router.post(_HOOK, summary="CDS Hooks patient-view: the athlete's phase as cards")
def patient_view(request: Request, client: ClientDep, raw: RawBody, store: StoreDep,
                 evaluator: EvaluatorDep) -> Any:
    """Decide from the prefetch (or the EHR's FHIR server) and answer cards; see
    ``api.cds.service``. 412 names the queries needed when the data cannot be had."""
    hook = parse_hook_request(_json(raw, "CDS Hooks request"))
    try:
        located = gather_resources(hook, transport=_transport(request))
    except DataUnavailable as exc:
        # a problem details object (as every error of the service), with the prefetch
        # templates filled for this patient as an extension member
        details = problem_details(412, exc.message, [
            Problem(f"prefetch.{key}", "required", f"needed: {query}")
            for key, query in exc.needed.items()]).marshal()
        return JSONResponse(status_code=412, media_type="application/problem+json",
                            content={**details, "prefetch": exc.needed})
    try:
        document = assessment_from_resources(located, strict=False)
        problems = previous_problems(document, _on_record(store, document))
        if problems:
            raise InvalidAssessment("the signed phase is not the one on record", problems)
        decision = evaluator.decide_data(document)
    except InvalidAssessment as exc:
        return {"cards": error_cards(list(exc.problems), hook_instance=hook.hookInstance)}
    answer = cards(decision, link=_link(request, store, decision))
    registry = _registry(request)
    for card in answer:
        registry.remember(card["uuid"], {
            "decision_id": decision["decision_id"], "athlete_id": decision["athlete"]["id"],
            "input_sha256": decision["input_sha256"], "phase": decision["phase"]["id"],
            "hook_instance": hook.hookInstance, "summary": card["summary"]})
    return {"cards": answer}


@router.post(f"{_HOOK}/feedback", summary="CDS Hooks feedback: cards accepted or overridden")
def feedback(request: Request, client: ClientDep, raw: RawBody, store: StoreDep
             ) -> dict[str, Any]:
    """Each item becomes an audit entry ``cds.feedback`` (with the decision the card was
    about, when the service still knows it). Feedback is never a sign-off."""
    body = parse_feedback(_json(raw, "CDS Hooks feedback"))
    registry = _registry(request)
    items = []
    for item in body.feedback:
        reason = item.overrideReason
        items.append((item.card, {
            "card": item.card, "outcome": item.outcome,
            "outcome_timestamp": item.outcomeTimestamp,
            "override_reason": reason.reason if reason else None,
            "user_comment": reason.userComment if reason else None,
            "accepted_suggestions": [s.get("id") for s in item.acceptedSuggestions or []],
            "about": registry.about(item.card),
            "client": {"iss": client.issuer, "sub": client.subject, "jti": client.token_id},
            "kind": "feedback (not a sign-off)"}))
    actor = Principal(key_id=None, name=f"CDS client {client.subject} ({client.issuer})",
                      role="cds_client")
    if "\\u0000" in json.dumps([actor.name, items]):  # no database keeps a NUL in text
        raise InvalidInput("the CDS Hooks feedback is not valid", [
            Problem("feedback", "nul", "must not contain NUL characters")])
    entries = store.record_cds_feedback(actor, items)
    return {"recorded": [entry.seq for entry in entries]}
