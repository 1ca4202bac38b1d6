"""The CDS Hooks 2.0 service ``sprintclear-rts`` for the ``patient-view`` hook.

:data:`DISCOVERY` is what ``GET /cds-services`` answers. A hook request
(:class:`HookRequest`) carries the patient's id and, in ``prefetch``, the Patient, the
Conditions and the Observations (each a resource or a searchset Bundle). What the prefetch
lacks is fetched from the request's ``fhirServer`` with its ``fhirAuthorization`` bearer
token; without either the service cannot decide and :class:`DataUnavailable` names the
queries it needs (HTTP 412, as CDS Hooks says).

The resources become an assessment with :func:`api.fhir.importing.assessment_from_resources`
(the import's code, lenient: resources that are not sprintclear's are skipped). When
sprintclear's own store knows the injury episode, its last sign-off is the signed phase
(``previous``, protocol section 2.1), and a different one from the record system is
refused; otherwise the record system's ``previous.phase`` Observation counts. The
evaluator decides, and :func:`cards` turns the decision into cards: first what is in force
(the signed phase, when the EHR has a ``previous.phase`` Observation) and the
recommendation, cleared or not (``info``, or ``warning`` when not cleared to sprint); each
red flag (``critical``); the holds and the criteria that block the next gate
(``warning``); the cautions (``info``). Each card links to the decision page when the
store holds the same assessment, else to the athlete's page, and offers coded
``overrideReasons``. An assessment that cannot be built is one ``warning`` card naming
each resource and element.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any, Literal

import httpx
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.fhir import codes
from api.fhir.importing import Located
from api.store.records import Timeline
from rules.errors import InvalidAssessment, InvalidInput, Problem

__all__ = ["DISCOVERY", "PREFETCH", "SERVICE_ID", "CardRegistry", "DataUnavailable",
           "FeedbackRequest", "HookRequest", "cards", "error_cards", "gather_resources",
           "previous_problems", "signed_on_record"]

SERVICE_ID = "sprintclear-rts"
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": ("Condition?patient={{context.patientId}}&code="
                   f"{codes.CODE_SYSTEM_URL}|muscle-injury.hamstring,"
                   f"{codes.CODE_SYSTEM_URL}|muscle-injury.calf"),
    "observations": "Observation?patient={{context.patientId}}&_sort=-date&_count=500",
}
"""What the service needs, as CDS Hooks prefetch templates."""

DISCOVERY: dict[str, Any] = {"services": [{
    "hook": "patient-view",
    "id": SERVICE_ID,
    "title": "sprintclear return-to-sprint clearance",
    "description": ("Decides the return-to-sprint phase after a hamstring or calf muscle injury "
                    "(protocol sprintclear-rts) from the athlete's latest Observations and "
                    "injury Condition: phase, clearance, red flags, holds, cautions."),
    "prefetch": PREFETCH,
}]}

OVERRIDE_REASONS = ("override.clinical-judgement", "override.data-not-current",
                    "override.already-addressed")
_MAX_PAGES = 10


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FhirAuthorization(_Open):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None


class HookContext(_Open):
    userId: str | None = None
    patientId: str = Field(min_length=1, max_length=64)


class HookRequest(_Open):
    """A CDS Hooks 2.0 request for ``patient-view`` (fields as the specification names them)."""

    hook: Literal["patient-view"]
    hookInstance: str
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: HookContext
    prefetch: dict[str, Any] | None = None


class OverrideReason(_Open):
    reason: dict[str, Any] | None = None
    userComment: str | None = Field(default=None, max_length=2000)


class FeedbackItem(_Open):
    card: str = Field(min_length=1, max_length=64)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str = Field(min_length=1, max_length=40)


class FeedbackRequest(_Open):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


class DataUnavailable(Exception):
    """The prefetch lacks data and there is no FHIR server (or it failed): HTTP 412."""

    def __init__(self, message: str, needed: Mapping[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.needed = dict(needed)


def _query(template: str, patient_id: str) -> str:
    return template.replace("{{context.patientId}}", patient_id)


def _resources(value: Any, key: str) -> list[Located]:
    """The resources of one prefetch value: a resource, or a Bundle of them."""
    if value is None:
        return []
    if not isinstance(value, dict) or "resourceType" not in value:
        raise InvalidAssessment("the prefetch is not FHIR", [
            Problem(f"prefetch.{key}", "fhir_model", "must be a FHIR resource or Bundle")])
    try:
        model = get_fhir_model_class(str(value["resourceType"]))
        resource = model.model_validate(value)
    except (KeyError, ValueError, ValidationError) as exc:
        raise InvalidAssessment("the prefetch is not valid FHIR R4", [
            Problem(f"prefetch.{key}", "fhir_model", str(exc).splitlines()[0])]) from exc
    if isinstance(resource, Bundle):
        located = []
        for index, entry in enumerate(resource.entry or []):
            if isinstance(entry.resource, Resource):
                inner = entry.resource
                name = inner.get_resource_type()
                label = f"{name}/{inner.id}" if inner.id else f"prefetch.{key}.entry[{index}]"
                if name != "OperationOutcome":
                    located.append(Located(inner, label))
        return located
    if not isinstance(resource, Resource):  # pragma: no cover - every model is a Resource
        raise InvalidAssessment("the prefetch is not FHIR", [
            Problem(f"prefetch.{key}", "fhir_model", "must be a FHIR resource or Bundle")])
    name = resource.get_resource_type()
    return [Located(resource, f"{name}/{resource.id}" if resource.id else f"prefetch.{key}")]


def _fetch(client: httpx.Client, base: str, query: str, token: str) -> Any:
    """GET one query from the EHR's FHIR server; a searchset's pages are joined."""
    url: str | None = f"{base.rstrip('/')}/{query}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    first: dict[str, Any] | None = None
    for _ in range(_MAX_PAGES):
        if url is None:
            break
        response = client.get(url, headers=headers)
        response.raise_for_status()
        page = response.json()
        if first is None:
            first = page
        elif isinstance(page, dict):
            first.setdefault("entry", []).extend(page.get("entry") or [])
        links = page.get("link") or [] if isinstance(page, dict) else []
        url = next((str(link["url"]) for link in links
                    if link.get("relation") == "next" and link.get("url")), None)
    return first


def gather_resources(request: HookRequest, *, transport: httpx.BaseTransport | None = None
                     ) -> list[Located]:
    """The resources of the prefetch, with what is missing fetched from the FHIR server."""
    prefetch = request.prefetch or {}
    patient_id = request.context.patientId
    missing = {key: _query(template, patient_id) for key, template in PREFETCH.items()
               if prefetch.get(key) is None}
    fetched: dict[str, Any] = {}
    if missing:
        if not request.fhirServer or request.fhirAuthorization is None:
            raise DataUnavailable("the prefetch lacks what the service needs and no FHIR "
                                  "server with an access token was given", missing)
        try:
            with httpx.Client(transport=transport, timeout=10.0) as client:
                for key, query in missing.items():
                    fetched[key] = _fetch(client, request.fhirServer, query,
                                          request.fhirAuthorization.access_token)
        except (httpx.HTTPError, ValueError) as exc:
            raise DataUnavailable(f"the FHIR server {request.fhirServer} did not answer the "
                                  f"queries: {exc}", missing) from exc
    located: list[Located] = []
    for key in PREFETCH:
        value = prefetch.get(key) if key not in missing else fetched.get(key)
        located.extend(_resources(value, key))
    return located


# ---- cards -------------------------------------------------------------------------------


class CardRegistry:
    """The cards recently given, so feedback can name the decision a card was about."""

    def __init__(self, size: int = 10_000) -> None:
        self._cards: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def remember(self, card: str, about: dict[str, Any]) -> None:
        with self._lock:
            self._cards[card] = about
            self._cards.move_to_end(card)
            while len(self._cards) > self._size:
                self._cards.popitem(last=False)

    def about(self, card: str) -> dict[str, Any] | None:
        with self._lock:
            return self._cards.get(card)


@dataclass(frozen=True, slots=True)
class CardLink:
    label: str
    url: str


def _coding(code: str) -> dict[str, str]:
    return {"system": codes.CODE_SYSTEM_URL, "code": code, "display": codes.display(code)}


def _summary(text: str) -> str:
    return text if len(text) < 140 else text[:138] + "…"


def _card(key: str, decision: Mapping[str, Any], *, indicator: str, summary: str, detail: str,
          link: CardLink | None, source: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{codes.CANONICAL_BASE}/decision/"
                                                  f"{decision['decision_id']}/card/{key}")),
        "summary": _summary(summary), "detail": detail, "indicator": indicator,
        "source": source,
        "overrideReasons": [_coding(code) for code in OVERRIDE_REASONS],
    }
    if link is not None:
        card["links"] = [{"label": link.label, "url": link.url, "type": "absolute"}]
    return card


def cards(decision: Mapping[str, Any], *, link: CardLink | None) -> list[dict[str, Any]]:
    """The cards of a decision (see the module), what is in force first."""
    rulebase = decision["rulebase"]
    source = {"label": f"sprintclear ({rulebase['protocol']} {rulebase['protocol_version']})",
              "topic": _coding("muscle-injury-assessment")}
    phase = decision["phase"]
    previous = decision.get("previous") or {}
    signed = (f"In force: {previous['phase']}, signed for the assessment of "
              f"{previous['date']}." if previous.get("phase")
              else "No signed phase on record for this injury.")
    cleared = ("cleared to play" if decision["cleared_to_play"] else
               "cleared to sprint" if decision["cleared_to_sprint"] else "not cleared to sprint")
    plan = decision.get("plan") or {}
    lines = [signed, "",
             f"Recommendation of the rule base (not yet signed): **{phase['name']}** "
             f"({phase['id']}), {cleared}."]
    if plan.get("max_velocity_pct") is not None:
        lines.append(f"Running up to {plan['max_velocity_pct']} % of max velocity"
                     + (f" ({plan['max_velocity_mps']} m/s)" if plan.get("max_velocity_mps")
                        else "") + ".")
    if plan.get("reassess_by"):
        lines.append(f"Re-assess by {plan['reassess_by']}.")
    result = [_card("phase", decision, indicator="info",
                    summary=f"Recommendation: {phase['name']} — {cleared}",
                    detail="\n".join(lines), link=link, source=source)]
    for flag in decision.get("red_flags") or []:
        result.append(_card(f"red_flag/{flag['id']}", decision, indicator="critical",
                            summary=f"{flag['id']}: {flag['message']}",
                            detail=f"{flag['message']}\n\nEffect: {flag.get('effect', '')}",
                            link=link, source=source))
    for hold in decision.get("holds") or []:
        missing = ", ".join(hold.get("missing") or [])
        result.append(_card(f"hold/{hold['id']}", decision, indicator="warning",
                            summary=f"{hold['id']}: {hold['message']}",
                            detail=f"{hold['message']}\n\nEffect: {hold.get('effect', '')}"
                                   + (f"\n\nNot recorded: {missing}" if missing else ""),
                            link=link, source=source))
    blocking = decision.get("blocking_details") or []
    if blocking:
        result.append(_card("blocking", decision, indicator="warning",
                            summary="Blocking the next gate: "
                                    + ", ".join(item["id"] for item in blocking),
                            detail="\n".join(f"- {item['needs']}" for item in blocking),
                            link=link, source=source))
    for caution in decision.get("cautions") or []:
        result.append(_card(f"caution/{caution['id']}", decision, indicator="info",
                            summary=f"{caution['id']}: {caution['message']}",
                            detail=caution["message"], link=link, source=source))
    return result


def signed_on_record(timeline: Timeline, document: Mapping[str, Any]) -> dict[str, str] | None:
    """The last signed phase of this injury episode in sprintclear's own records (protocol
    section 2.1): the latest sign-off of another, not superseded assessment of the same
    injury (region, side, date) dated on or before this one, as ``{"phase", "date"}``."""
    injury = document.get("injury") or {}
    day = (document.get("assessment") or {}).get("date")
    if day is None:
        return None
    signed: list[tuple[str, str, str]] = []
    for episode in timeline.injuries:
        known = episode.injury
        if (known.region, known.side, known.date) != (
                injury.get("region"), injury.get("side"), injury.get("date")):
            continue
        for entry in episode.assessments:
            if (entry.signoff is not None and entry.superseded_by is None
                    and entry.assessment_date <= day):
                signed.append((entry.assessment_date, entry.created_at,
                               entry.signoff.signed_phase))
    if not signed:
        return None
    date, _, phase = max(signed)
    return {"phase": phase, "date": date}


def previous_problems(document: dict[str, Any], recorded: dict[str, str] | None
                      ) -> list[Problem]:
    """Put sprintclear's own signed phase in ``document`` (section 2.1: the service fills
    ``previous`` from its records); a different one from the record system is a problem."""
    if recorded is None:
        return []
    given = document.get("previous")
    if given is None:
        document["previous"] = dict(recorded)
        return []
    if given != recorded:
        return [Problem("previous.phase", "signed_phase",
                        f"the record system gives {given.get('phase')} signed for "
                        f"{given.get('date')}, sprintclear's sign-offs {recorded['phase']} "
                        f"for {recorded['date']}: the signed phase must be the one on record "
                        f"(protocol section 2.1)")]
    return []


def error_cards(problems: list[Problem], *, hook_instance: str) -> list[dict[str, Any]]:
    """One warning card saying why no decision could be made, naming each problem."""
    detail = "\n".join(f"- {problem}" for problem in problems)
    return [{
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{codes.CANONICAL_BASE}/hook/"
                                                  f"{hook_instance}/not-decided")),
        "summary": "sprintclear could not decide: the record does not make an assessment",
        "detail": "Missing is not passing: nothing is cleared.\n\n" + detail,
        "indicator": "warning",
        "source": {"label": "sprintclear", "topic": _coding("muscle-injury-assessment")},
    }]


def parse_hook_request(data: Any) -> HookRequest:
    """The request body as a :class:`HookRequest`; ``InvalidInput`` names what is wrong."""
    try:
        return HookRequest.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("the CDS Hooks request is not valid", [
            Problem(".".join(str(p) for p in error["loc"]) or "<body>", error["type"],
                    str(error["msg"])) for error in exc.errors(include_url=False)]) from exc


def parse_feedback(data: Any) -> FeedbackRequest:
    """The feedback body as a :class:`FeedbackRequest`; ``InvalidInput`` names what is wrong."""
    try:
        return FeedbackRequest.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("the CDS Hooks feedback is not valid", [
            Problem(".".join(str(p) for p in error["loc"]) or "<body>", error["type"],
                    str(error["msg"])) for error in exc.errors(include_url=False)]) from exc
