"""A decision as a FHIR R4 transaction Bundle, built with ``fhir.resources`` (R4B models).

:func:`decision_bundle` takes the decision JSON (protocol section 8), the canonical
assessment it was made from (section 7), the protocol, and — from the store — the
clinician's sign-off and the signed report, and returns a ``Bundle`` of type
``transaction`` whose entries are, in order:

==================  ===========================================================================
Patient             the athlete: ``identifier`` in the sprintclear athlete-id system; ``name``
                    (and the sport and position Observations) only when ``include_name``
                    (the caller may see who the athlete is)
Condition           the injury: ``code`` muscle injury of the region, ``bodySite`` the muscle
                    (or region) and the laterality (SNOMED CT), ``stage`` the BAMIC grade and
                    site, ``onsetDateTime`` the injury date, the mechanism as an extension
Provenance          (signed decisions) the sign-off: accept or override, reason, who, when, a
                    verification signature, the signed phase; ``target`` the GuidanceResponse
Observation × n     one per measure recorded (:data:`api.fhir.codes.MEASURES`): pain scores
                    LOINC 72514-3 with the context as ``method``; bilateral measures one
                    Observation with ``injured``, ``uninjured`` and ``lsi`` components
GuidanceResponse    the rule base's recommendation: ``status`` success or data-required (with
                    ``dataRequirement``), ``moduleCanonical`` the protocol and version,
                    ``identifier`` the decision id and rule base version, ``reasonReference``
                    the Observations that decided, ``outputParameters`` a contained Parameters
                    with the phase, clearance, red flags, holds and cautions
CarePlan            allowed activities, restricted ones with ``doNotPerform``, the velocity
                    ceiling, ``period.end`` the re-assessment date
DocumentReference   (when a signed report exists) the PDF: URL, size, SHA-1 (FHIR's hash) and
                    the footer's SHA-256 as an identifier
==================  ===========================================================================

Entry ``fullUrl``s are ``urn:uuid:`` UUIDs derived from the decision id, so the same
decision always gives the same Bundle; each resource that has identifiers carries its UUID
as one (``urn:ietf:rfc:3986``) and is created with ``ifNoneExist``, so a Bundle sent twice
creates nothing twice. A decision and an assessment that do not belong
together (different ``input_sha256``) are refused with :class:`rules.errors.InvalidInput`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.condition import Condition, ConditionStage
from fhir.resources.R4B.datarequirement import DataRequirement, DataRequirementCodeFilter
from fhir.resources.R4B.documentreference import (
    DocumentReference,
    DocumentReferenceContent,
    DocumentReferenceContext,
)
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.guidanceresponse import GuidanceResponse
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.parameters import Parameters, ParametersParameter
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.signature import Signature

from api.fhir import codes
from api.fhir.codes import MEASURES, MeasureCode
from api.store.records import Signoff
from engine.assessment import parse_assessment
from engine.decision import FORMAT
from engine.measures import limb_symmetry_index, to_decimal
from rules.dictionary import FieldKind
from rules.errors import InvalidInput, Problem
from rules.protocol import Protocol

__all__ = ["SignedReport", "bundle_json", "decision_bundle", "observation_urls"]


@dataclass(frozen=True, slots=True)
class SignedReport:
    """The signed PDF of a decision: where to fetch it, its size and hashes."""

    url: str
    size: int
    sha1_base64: str
    """SHA-1 of the PDF, base64 (what FHIR's ``Attachment.hash`` holds)."""
    sha256: str
    """SHA-256 of the PDF, hex (what the report's footer and the audit trail show)."""
    created_at: str


def _urn(decision_id: str, part: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL,
                                        f"{codes.CANONICAL_BASE}/decision/{decision_id}/{part}"))


def _sc(code: str, display: str | None = None) -> Coding:
    """A coding of the sprintclear CodeSystem (the code must be declared)."""
    return Coding(system=codes.CODE_SYSTEM_URL, code=code,
                  display=display if display is not None else codes.display(code))


def _concept(code: str, text: str | None = None) -> CodeableConcept:
    coding = _sc(code)
    return CodeableConcept(coding=[coding], text=text or coding.display)


def _as_written(value: str) -> Any:
    """A FHIR date, dateTime, instant or base64Binary as its JSON text: the models parse it
    (their type hints say ``datetime``/``bytes``, what they hold once parsed)."""
    return value


def _decimal(value: Any) -> Decimal:
    return to_decimal(value)


def _quantity(value: Any, unit: str) -> Quantity:
    return Quantity(value=_decimal(value), unit=unit, system=codes.UCUM, code=unit)


def _measure_code(measure: MeasureCode) -> CodeableConcept:
    coding = Coding(system=measure.system, code=measure.code, display=measure.display)
    return CodeableConcept(coding=[coding], text=measure.label)


def observation_urls(decision_id: str, document: Mapping[str, Any]) -> dict[str, str]:
    """Field path → the ``fullUrl`` of its Observation, for the measures the document holds."""
    urls = {}
    for path in MEASURES:
        group, name = path.split(".", 1)
        if (document.get(group) or {}).get(name) is not None:
            urls[path] = _urn(decision_id, f"Observation/{path}")
    return urls


def _observation(measure: MeasureCode, value: Any, *, patient: str, condition: str,
                 date: str, assessor: str | None) -> Observation:
    extra: dict[str, Any] = {}
    effective = date
    if measure.method is not None:
        extra["method"] = _concept(measure.method)
    if measure.kind is FieldKind.BILATERAL:
        assert measure.unit is not None
        extra["component"] = [
            ObservationComponent(code=_concept("injured"),
                                 valueQuantity=_quantity(value["injured"], measure.unit)),
            ObservationComponent(code=_concept("uninjured"),
                                 valueQuantity=_quantity(value["uninjured"], measure.unit)),
            ObservationComponent(code=_concept("lsi"), valueQuantity=_quantity(
                limb_symmetry_index(value["injured"], value["uninjured"]), "%")),
        ]
    elif measure.kind is FieldKind.BOOLEAN:
        extra["valueBoolean"] = value
    elif measure.kind is FieldKind.TEXT:
        extra["valueString"] = value
    elif measure.kind in (FieldKind.INTEGER, FieldKind.NUMBER):
        assert measure.unit is not None
        extra["valueQuantity"] = _quantity(value, measure.unit)
    elif measure.kind is FieldKind.CHOICE:
        prefix = {"assessment.profile": "profile", "previous.phase": "phase"}[measure.path]
        extra["valueCodeableConcept"] = _concept(f"{prefix}.{value}")
    elif measure.kind is FieldKind.REVIEW:
        extra["valueCodeableConcept"] = _concept(f"management.{value['management']}")
        effective = value["date"]
        if value.get("by"):
            extra["performer"] = [Reference(display=value["by"])]
    if measure.kind is not FieldKind.REVIEW and assessor:
        extra["performer"] = [Reference(display=assessor)]
    category = (Coding(system=codes.OBSERVATION_CATEGORY, code="social-history",
                       display="Social History") if measure.path.startswith("athlete.")
                else Coding(system=codes.OBSERVATION_CATEGORY, code="exam", display="Exam"))
    return Observation(
        status="final", category=[CodeableConcept(coding=[category])],
        code=_measure_code(measure), subject=Reference(reference=patient),
        focus=[Reference(reference=condition)], effectiveDateTime=_as_written(effective),
        **extra)


def _patient(document: Mapping[str, Any], include_name: bool) -> Patient:
    athlete = document["athlete"]
    names = ([HumanName(text=athlete["name"])]
             if include_name and athlete.get("name") else None)
    return Patient(identifier=[Identifier(system=codes.ATHLETE_ID_SYSTEM, value=athlete["id"])],
                   name=names)


def _condition(document: Mapping[str, Any], patient: str) -> Condition:
    injury = document["injury"]
    region, side = injury["region"], injury["side"]
    site = (f"muscle.{injury['muscle']}" if injury.get("muscle") else f"region.{region}")
    laterality = codes.LATERALITY[side]
    body_site = [_concept(site), CodeableConcept(
        coding=[Coding(system=codes.SNOMED, code=laterality,
                       display=codes.SNOMED_CODES[laterality])], text=side)]
    stage = None
    if injury.get("bamic_grade"):
        stage = [ConditionStage(summary=_concept(f"bamic.{injury['bamic_grade']}"),
                                type=_concept("bamic"))]
    extension = None
    if injury.get("mechanism"):
        extension = [Extension(url=codes.MECHANISM_EXTENSION,
                               valueCodeableConcept=_concept(f"mechanism.{injury['mechanism']}"))]
    return Condition(
        extension=extension,
        clinicalStatus=CodeableConcept(coding=[Coding(system=codes.CONDITION_CLINICAL,
                                                      code="active", display="Active")]),
        category=[CodeableConcept(coding=[Coding(system=codes.CONDITION_CATEGORY,
                                                 code="problem-list-item",
                                                 display="Problem List Item")])],
        code=_concept(f"muscle-injury.{region}"), bodySite=body_site, stage=stage,
        subject=Reference(reference=patient), onsetDateTime=injury["date"])


def _deciding_fields(decision: Mapping[str, Any], protocol: Protocol) -> list[str]:
    """The fields read by what decided: the blocking criteria and the safety rules that fired;
    at the last phase (nothing blocks) every criterion of the injury's region."""
    paths: list[str] = []
    blocking = decision.get("blocking") or []
    if blocking:
        for criterion_id in blocking:
            criterion = protocol.criterion_by_id.get(criterion_id)
            if criterion is not None:
                paths.extend(criterion.field_paths())
    else:
        region = decision["injury"]["region"]
        for criterion in protocol.criteria:
            if criterion.applies_to(region):
                paths.extend(criterion.field_paths())
    fired = {item["id"] for key in ("red_flags", "holds", "cautions")
             for item in decision.get(key) or []}
    for rule in protocol.safety_rules:
        if rule.id in fired:
            for condition in rule.conditions:
                paths.extend(condition.field_paths())
    return list(dict.fromkeys(paths))


def _missing_fields(decision: Mapping[str, Any]) -> list[str]:
    missing: list[str] = []
    for detail in decision.get("blocking_details") or []:
        missing.extend(detail.get("missing") or [])
    missing.extend(item["field"] for item in decision.get("missing_screening") or [])
    return [path for path in dict.fromkeys(missing) if path in MEASURES]


def _data_requirement(path: str) -> DataRequirement:
    measure = MEASURES[path]
    filters = [DataRequirementCodeFilter(path="code", code=[
        Coding(system=measure.system, code=measure.code, display=measure.display)])]
    if measure.method is not None:
        filters.append(DataRequirementCodeFilter(path="method", code=[_sc(measure.method)]))
    return DataRequirement(type="Observation", codeFilter=filters)


def _rule_coding(rule_id: str) -> Coding | None:
    return _sc(rule_id) if codes.declared_code(rule_id) else None


def _rule_parameter(name: str, item: Mapping[str, Any]) -> ParametersParameter:
    parts = []
    coding = _rule_coding(item["id"])
    parts.append(ParametersParameter(name="id", valueCoding=coding) if coding is not None
                 else ParametersParameter(name="id", valueString=item["id"]))
    for key in ("message", "effect"):
        if item.get(key):
            parts.append(ParametersParameter(name=key, valueString=str(item[key])))
    for field in item.get("missing") or []:
        parts.append(ParametersParameter(name="missing", valueString=field))
    return ParametersParameter(name=name, part=parts)


def _phase_coding(phase: Mapping[str, Any]) -> Coding:
    return _sc(f"phase.{phase['id']}", phase.get("name"))


def _output(decision: Mapping[str, Any]) -> Parameters:
    parameters = [
        ParametersParameter(name="phase", valueCoding=_phase_coding(decision["phase"])),
        ParametersParameter(name="criteria_phase",
                            valueCoding=_phase_coding(decision["criteria_phase"])),
        ParametersParameter(name="cleared_to_sprint",
                            valueBoolean=decision["cleared_to_sprint"]),
        ParametersParameter(name="cleared_to_play", valueBoolean=decision["cleared_to_play"]),
    ]
    parameters += [_rule_parameter("red_flag", item) for item in decision.get("red_flags") or []]
    parameters += [_rule_parameter("hold", item) for item in decision.get("holds") or []]
    parameters += [_rule_parameter("caution", item) for item in decision.get("cautions") or []]
    for held in decision.get("held_by") or []:
        parameters.append(ParametersParameter(name="held_by", part=[
            ParametersParameter(name="id", valueString=held["id"]),
            ParametersParameter(name="ends", valueString=str(held.get("ends") or ""))]))
    for criterion_id in decision.get("blocking") or []:
        coding = _rule_coding(criterion_id)
        parameters.append(ParametersParameter(name="blocking", valueCoding=coding)
                          if coding else ParametersParameter(name="blocking",
                                                             valueString=criterion_id))
    for criterion_id in decision.get("carried_forward") or []:
        parameters.append(ParametersParameter(name="carried_forward", valueString=criterion_id))
    return Parameters(id="output", parameter=parameters)


def _guidance(decision: Mapping[str, Any], protocol: Protocol, *, patient: str,
              observations: Mapping[str, str], signoff: Signoff | None) -> GuidanceResponse:
    rulebase = decision["rulebase"]
    missing = _missing_fields(decision)
    blocked_by_missing = any(detail.get("status") == "not_assessed"
                             for detail in decision.get("blocking_details") or [])
    status = "data-required" if missing or blocked_by_missing \
        or decision.get("missing_screening") else "success"
    reasons = [Reference(reference=observations[path])
               for path in _deciding_fields(decision, protocol) if path in observations]
    phase = decision["phase"]
    recommendation = (f"Recommendation of the rule base ({rulebase['protocol']} "
                      f"{rulebase['protocol_version']}): {phase['name']} ({phase['id']}).")
    if signoff is None:
        in_force = "Not signed by a clinician: this recommendation is not in force."
    else:
        verb = "accepted" if signoff.action == "accept" else "overrode"
        in_force = (f"In force: {signoff.signed_phase}, signed by {signoff.clinician} "
                    f"({verb} the recommendation) at {signoff.signed_at}; see the Provenance.")
    return GuidanceResponse(
        contained=[_output(decision)],
        identifier=[Identifier(system=codes.DECISION_ID_SYSTEM, value=decision["decision_id"]),
                    Identifier(system=codes.RULEBASE_SYSTEM, value=rulebase["version"])],
        moduleCanonical=(f"{codes.PROTOCOL_CANONICAL}/{rulebase['protocol']}"
                         f"|{rulebase['protocol_version']}"),
        status=status, subject=Reference(reference=patient),
        occurrenceDateTime=decision["assessment"]["date"],
        reasonReference=reasons or None,
        note=[Annotation(text=in_force), Annotation(text=recommendation)],
        outputParameters=Reference(reference="#output"),
        dataRequirement=[_data_requirement(path) for path in missing] or None)


def _activity(protocol: Protocol, activity_id: str, *, allowed: bool) -> CarePlanActivity:
    code = f"activity.{activity_id}"
    activity = protocol.activity_by_id.get(activity_id)
    name = activity.name if activity is not None else activity_id
    concept = (_concept(code, name) if codes.declared_code(code)
               else CodeableConcept(text=name))
    return CarePlanActivity(detail=CarePlanActivityDetail(
        code=concept, status="not-started" if allowed else "on-hold",
        doNotPerform=not allowed))


def _care_plan(decision: Mapping[str, Any], protocol: Protocol, *, patient: str,
               condition: str, guidance: str, signoff: Signoff | None) -> CarePlan:
    plan = decision.get("plan") or {}
    activities = [_activity(protocol, a, allowed=True)
                  for a in decision.get("allowed_activities") or []]
    activities += [_activity(protocol, a, allowed=False)
                   for a in decision.get("restricted_activities") or []]
    ceiling = []
    if plan.get("max_velocity_pct") is not None:
        ceiling.append(("%", plan["max_velocity_pct"]))
    if plan.get("max_velocity_mps") is not None:
        ceiling.append(("m/s", plan["max_velocity_mps"]))
    for unit, value in ceiling:
        activities.append(CarePlanActivity(detail=CarePlanActivityDetail(
            code=_concept("plan.max_velocity"), status="not-started",
            quantity=_quantity(value, unit),
            description=f"running velocity ceiling ({plan.get('basis') or 'phase'})")))
    # the recommendation's plan; what is in force is the signed phase (the Provenance)
    status = "draft" if signoff is None else ("active" if signoff.action == "accept"
                                              else "revoked")
    return CarePlan(
        status=status, intent="proposal", subject=Reference(reference=patient),
        title=f"Plan of the recommendation: {decision['phase']['name']}",
        addresses=[Reference(reference=condition)],
        supportingInfo=[Reference(reference=guidance)],
        period=Period(start=decision["assessment"]["date"], end=plan.get("reassess_by")),
        activity=activities or None)


def _provenance(signoff: Signoff, *, guidance: str, care_plan: str) -> Provenance:
    action = f"signoff.{signoff.action}"
    clinician = Reference(display=signoff.clinician)
    return Provenance(
        extension=[Extension(url=codes.SIGNED_PHASE_EXTENSION,
                             valueCoding=_sc(f"phase.{signoff.signed_phase}"))],
        target=[Reference(reference=guidance), Reference(reference=care_plan)],
        recorded=_as_written(signoff.signed_at), activity=_concept(action),
        reason=[CodeableConcept(text=signoff.reason)] if signoff.reason else None,
        agent=[ProvenanceAgent(type=CodeableConcept(coding=[Coding(
            system=codes.PROVENANCE_AGENT_TYPE, code="verifier", display="Verifier")]),
            who=clinician)],
        signature=[Signature(type=[Coding(system=codes.SIGNATURE_TYPE,
                                          code="1.2.840.10065.1.12.1.5",
                                          display="Verification Signature")],
                             when=_as_written(signoff.signed_at), who=clinician)])


def _document(report: SignedReport, *, patient: str, guidance: str) -> DocumentReference:
    return DocumentReference(
        status="current", docStatus="final", type=_concept("report.signed"),
        identifier=[Identifier(system=codes.REPORT_SHA256_SYSTEM, value=report.sha256)],
        subject=Reference(reference=patient), date=_as_written(report.created_at),
        content=[DocumentReferenceContent(attachment=Attachment(
            contentType="application/pdf", url=report.url, size=report.size,
            hash=_as_written(report.sha1_base64), title="Signed clearance report"))],
        context=DocumentReferenceContext(related=[Reference(reference=guidance)]))


_URI: Final = "urn:ietf:rfc:3986"


def _entry(url: str, resource: Resource, request: BundleEntryRequest | None = None
           ) -> BundleEntry:
    """An entry; a resource with identifiers also carries its ``urn:uuid`` as one and is
    created only if none has it (``ifNoneExist``), so sending the Bundle again duplicates
    nothing (a Provenance has no identifier: it is created each time)."""
    kind = resource.get_resource_type()
    if request is None:
        request = BundleEntryRequest(method="POST", url=kind)
        if "identifier" in type(resource).model_fields:
            current = getattr(resource, "identifier", None) or []
            resource.identifier = [*current, Identifier(system=_URI, value=url)]  # type: ignore[attr-defined]
            request = BundleEntryRequest(method="POST", url=kind,
                                         ifNoneExist=f"identifier={_URI}|{url}")
    return BundleEntry(fullUrl=url, resource=resource, request=request)


def decision_bundle(decision: Mapping[str, Any], document: Mapping[str, Any], *,
                    protocol: Protocol, signoff: Signoff | None = None,
                    report: SignedReport | None = None, include_name: bool = True) -> Bundle:
    """The decision and its assessment as a FHIR transaction Bundle (see the module).

    ``decision`` is a decision of format ``sprintclear-decision/2`` (section 8);
    ``document`` its assessment (section 7; it is parsed again, and its SHA-256 must be the
    decision's ``input_sha256``). Raises ``InvalidInput`` naming ``format`` or
    ``input_sha256`` otherwise, ``InvalidAssessment`` for an invalid document.
    """
    if decision.get("format") != FORMAT:
        raise InvalidInput("the decision cannot be exported to FHIR", [
            Problem("format", "decision_format",
                    f"is {decision.get('format') or 'sprintclear-decision/1'}: the FHIR export "
                    f"maps {FORMAT} decisions (protocol 2027.1); earlier decisions stay "
                    f"readable as JSON and in their signed reports")])
    assessment = parse_assessment(dict(document))
    if assessment.input_sha256 != decision.get("input_sha256"):
        raise InvalidInput("the assessment is not the one this decision was made from", [
            Problem("input_sha256", "mismatch",
                    f"the assessment's SHA-256 is {assessment.input_sha256}, the decision's "
                    f"input_sha256 is {decision.get('input_sha256')}")])
    document = assessment.document
    decision_id = decision["decision_id"]
    patient, condition = _urn(decision_id, "Patient"), _urn(decision_id, "Condition")
    guidance, care_plan = _urn(decision_id, "GuidanceResponse"), _urn(decision_id, "CarePlan")
    observations = observation_urls(decision_id, document)
    date = document["assessment"]["date"]
    assessor = document["assessment"].get("assessor")

    athlete_id = document["athlete"]["id"]
    entries = [
        _entry(patient, _patient(document, include_name), BundleEntryRequest(
            method="PUT", url=f"Patient?identifier={codes.ATHLETE_ID_SYSTEM}|{athlete_id}")),
        _entry(condition, _condition(document, patient)),
    ]
    if signoff is not None:  # what is in force comes first
        entries.append(_entry(_urn(decision_id, "Provenance"),
                              _provenance(signoff, guidance=guidance, care_plan=care_plan)))
    for path, url in observations.items():
        group, name = path.split(".", 1)
        if group == "athlete" and not include_name:
            continue  # sport and position identify the athlete as a name does
        value: Any = document[group][name]
        if path == "previous.phase":
            value = document["previous"]["phase"]
        observation = _observation(MEASURES[path], value, patient=patient,
                                   condition=condition, date=date, assessor=assessor)
        if path == "previous.phase":
            observation.effectiveDateTime = _as_written(document["previous"]["date"])
        entries.append(_entry(url, observation))
    entries.append(_entry(guidance, _guidance(decision, protocol, patient=patient,
                                              observations=observations, signoff=signoff)))
    entries.append(_entry(care_plan, _care_plan(decision, protocol, patient=patient,
                                                 condition=condition, guidance=guidance,
                                                 signoff=signoff)))
    if report is not None:
        entries.append(_entry(_urn(decision_id, "DocumentReference"),
                              _document(report, patient=patient, guidance=guidance)))
    return Bundle(type="transaction", entry=entries)


def bundle_json(bundle: Bundle) -> str:
    """The Bundle as JSON text (no empty elements)."""
    return bundle.model_dump_json(exclude_none=True, indent=2)
