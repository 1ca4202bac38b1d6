"""FHIR resources → an assessment input (protocol section 7): the reverse of the export.

:func:`assessment_from_resources` reads a Patient, the injury's Condition and the
Observations of :data:`api.fhir.codes.MEASURES` and returns the assessment document;
:func:`assessment_from_bundle` does the same for a Bundle's JSON text (``sprintclear
import fhir``). The CDS Hooks service calls the same function with what the EHR's
prefetch or FHIR server gave.

What it reads, element by element (the export writes exactly this):

- ``athlete.id``: the Patient's identifier in the sprintclear athlete-id system, else its
  ``id``; ``athlete.name``: ``name[0].text`` (or given and family names);
- the Condition coded ``muscle-injury.<region>`` (the latest onset when there are several):
  ``injury.region`` from the code, ``injury.muscle`` from a ``bodySite`` coded
  ``muscle.<muscle>``, ``injury.side`` from a ``bodySite`` with SNOMED CT laterality,
  ``injury.date`` from ``onsetDateTime``, ``injury.bamic_grade`` from ``stage.summary``,
  ``injury.mechanism`` from the mechanism extension;
- ``assessment.date``: the latest ``effectiveDateTime`` of the measures. Only the measures
  of that day are read: an older reading is never carried into today's assessment
  (missing is not passing);
- each measure from its code (pain: LOINC 72514-3 and the ``method``), its value in the
  table's UCUM unit (no conversion), a bilateral one from its ``injured`` and
  ``uninjured`` components (an ``lsi`` component must agree with them);
- ``previous.phase``/``previous.date`` from the latest ``previous.phase`` Observation,
  ``injury.physician_review`` from the latest review Observation.

Anything it cannot map is refused with :class:`rules.errors.InvalidAssessment`, each problem
naming the resource and element (``Observation/obs-3.valueQuantity.code``). With
``strict=False`` (the CDS Hooks service, which gets the athlete's whole record) resources
and codes that are not sprintclear's are skipped instead; what is sprintclear's but wrong
is still refused. The document is then validated as any assessment is (section 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from api.fhir import codes
from api.fhir.codes import MEASURE_BY_KEY, MeasureCode
from engine.measures import limb_symmetry_index
from rules.dictionary import FieldKind
from rules.errors import InvalidAssessment, Problem

__all__ = ["Located", "assessment_from_bundle", "assessment_from_resources", "parse_bundle"]

_FINAL = {"final", "amended", "corrected"}
_DERIVED = {"GuidanceResponse", "CarePlan", "Provenance", "DocumentReference"}
"""What the export derives from the decision: skipped, since the import decides afresh."""
_SUMMARY = "the FHIR resources cannot be mapped to an assessment"
_SIDE_BY_SNOMED = {code: side for side, code in codes.LATERALITY.items()}


@dataclass(frozen=True, slots=True)
class Located:
    """A resource and how problems name it (``Observation/obs-3``, or its entry's URL)."""

    resource: Resource
    label: str


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, where: str, message: str, rule: str = "fhir_mapping") -> None:
        self.items.append(Problem(where, rule, message))

    def raise_any(self) -> None:
        if self.items:
            raise InvalidAssessment(_SUMMARY, self.items)


def parse_bundle(text: str | bytes) -> list[Located]:
    """The resources of a Bundle's JSON text, validated by the ``fhir.resources`` models."""
    try:
        bundle = Bundle.model_validate_json(text)
    except ValidationError as exc:
        raise InvalidAssessment("the file is not a valid FHIR R4 Bundle", [
            Problem(".".join(["Bundle", *(str(p) for p in error["loc"])]), "fhir_model",
                    str(error["msg"])) for error in exc.errors(include_url=False)[:20]]) from exc
    except ValueError as exc:
        raise InvalidAssessment("the file is not a valid FHIR R4 Bundle", [
            Problem("Bundle", "fhir_model", str(exc))]) from exc
    located = []
    for index, entry in enumerate(bundle.entry or []):
        if entry.resource is None:
            continue
        resource = entry.resource
        name = resource.get_resource_type()
        label = (f"{name}/{resource.id}" if resource.id
                 else f"{name} (entry {index}{', ' + entry.fullUrl if entry.fullUrl else ''})")
        located.append(Located(resource, label))
    return located


def assessment_from_bundle(text: str | bytes) -> dict[str, Any]:
    """The assessment document of a Bundle (strict: every resource must be mappable)."""
    return assessment_from_resources(parse_bundle(text), strict=True)


def _codings(concept: CodeableConcept | None) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [(c.system or "", c.code or "") for c in concept.coding or []]


def _sprintclear_code(concept: CodeableConcept | None, prefix: str) -> str | None:
    for system, code in _codings(concept):
        if system == codes.CODE_SYSTEM_URL and code.startswith(prefix):
            return code[len(prefix):]
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _measure_of(observation: Observation) -> MeasureCode | None:
    methods: list[str | None] = [code for system, code in _codings(observation.method)
                                 if system == codes.CODE_SYSTEM_URL]
    methods = methods or [None]
    for system, code in _codings(observation.code):
        for method in methods:
            measure = MEASURE_BY_KEY.get((system, code, method))
            if measure is not None:
                return measure
    return None


def _is_pain(observation: Observation) -> bool:
    return (codes.LOINC, codes.PAIN_NRS) in _codings(observation.code)


def _number(quantity: Quantity | None, measure: MeasureCode, where: str,
            problems: _Problems, unit: str | None = None) -> int | float | None:
    whole = measure.integer and unit is None
    unit = unit or measure.unit
    if quantity is None or quantity.value is None:
        problems.add(f"{where}", f"{measure.path} needs a valueQuantity in {unit}")
        return None
    if quantity.system != codes.UCUM or quantity.code != unit:
        problems.add(f"{where}.code", f"{measure.path} is recorded in UCUM '{unit}' (got "
                                      f"{quantity.system or 'no system'} "
                                      f"'{quantity.code or quantity.unit or ''}'); values are "
                                      f"not converted")
        return None
    value = Decimal(str(quantity.value))
    if whole:
        if value != value.to_integral_value():
            problems.add(f"{where}.value", f"{measure.path} must be a whole number "
                                           f"(got {value})")
            return None
        return int(value)
    return float(value)


def _value(located: Located, measure: MeasureCode, problems: _Problems) -> Any:
    observation = located.resource
    assert isinstance(observation, Observation)
    label = located.label
    if measure.kind is FieldKind.BILATERAL:
        sides: dict[str, Any] = {}
        for index, component in enumerate(observation.component or []):
            name = _sprintclear_code(component.code, "")
            where = f"{label}.component[{index}].valueQuantity"
            if name in ("injured", "uninjured"):
                sides[name] = _number(component.valueQuantity, measure, where, problems)
            elif name == "lsi":
                sides["lsi"] = _number(component.valueQuantity, measure, where, problems,
                                       unit="%")
            else:
                problems.add(f"{label}.component[{index}].code",
                             "a component of a bilateral measure is coded injured, uninjured "
                             "or lsi (sprintclear CodeSystem)")
        for side in ("injured", "uninjured"):
            if side not in sides:
                problems.add(f"{label}.component", f"{measure.path} needs the {side} side "
                                                   f"as a component")
        if any(sides.get(side) is None for side in ("injured", "uninjured")):
            return None
        if sides.get("lsi") is not None and sides["uninjured"] != 0:
            computed = limb_symmetry_index(sides["injured"], sides["uninjured"])
            if Decimal(str(sides["lsi"])) != computed:
                problems.add(f"{label}.component", f"the lsi component ({sides['lsi']} %) does "
                             f"not agree with the sides ({computed} %)")
        return {"injured": sides["injured"], "uninjured": sides["uninjured"]}
    if measure.kind is FieldKind.BOOLEAN:
        if observation.valueBoolean is None:
            problems.add(f"{label}.valueBoolean", f"{measure.path} needs a valueBoolean")
        return observation.valueBoolean
    if measure.kind is FieldKind.TEXT:
        if observation.valueString is None:
            problems.add(f"{label}.valueString", f"{measure.path} needs a valueString")
        return observation.valueString
    if measure.kind in (FieldKind.INTEGER, FieldKind.NUMBER):
        return _number(observation.valueQuantity, measure, f"{label}.valueQuantity", problems)
    prefix = {"assessment.profile": "profile.", "previous.phase": "phase.",
              "injury.physician_review": "management."}[measure.path]
    value = _sprintclear_code(observation.valueCodeableConcept, prefix)
    if value is None:
        problems.add(f"{label}.valueCodeableConcept",
                     f"{measure.path} needs a sprintclear code {prefix}…")
    return value


def _patient(patients: Sequence[Located], problems: _Problems) -> dict[str, Any]:
    if not patients:
        problems.add("Patient", "no Patient: the athlete's id comes from it", "required")
        return {}
    ids: dict[str, Located] = {}
    for located in patients:
        patient = located.resource
        assert isinstance(patient, Patient)
        athlete_id = next((i.value for i in patient.identifier or []
                           if i.system == codes.ATHLETE_ID_SYSTEM and i.value), patient.id)
        if athlete_id is None:
            problems.add(f"{located.label}.identifier", "no identifier in the system "
                         f"{codes.ATHLETE_ID_SYSTEM} and no id: the athlete cannot be named")
            continue
        ids[athlete_id] = located
    if len(ids) > 1:
        problems.add("Patient", f"more than one athlete ({', '.join(sorted(ids))}): an "
                                "assessment is about one")
        return {}
    if not ids:
        return {}
    athlete_id, located = next(iter(ids.items()))
    patient = located.resource
    assert isinstance(patient, Patient)
    athlete: dict[str, Any] = {"id": athlete_id}
    for name in patient.name or []:
        parts = [*(given for given in name.given or [] if given), name.family or ""]
        text = name.text or " ".join(parts).strip()
        if text:
            athlete["name"] = text
            break
    return athlete


def _condition(conditions: Sequence[Located], problems: _Problems, strict: bool
               ) -> dict[str, Any]:
    injuries: list[tuple[dt.date, Located, str]] = []
    for located in conditions:
        condition = located.resource
        assert isinstance(condition, Condition)
        region = _sprintclear_code(condition.code, "muscle-injury.")
        if region is None:
            if strict:
                problems.add(f"{located.label}.code", "is not a muscle injury sprintclear "
                             f"maps (a code muscle-injury.hamstring or muscle-injury.calf of "
                             f"{codes.CODE_SYSTEM_URL})")
            continue
        onset = _date(condition.onsetDateTime)
        if onset is None:
            problems.add(f"{located.label}.onsetDateTime", "the injury date is required")
            continue
        injuries.append((onset, located, region))
    if not injuries:
        problems.add("Condition", "no Condition coded muscle-injury.hamstring or "
                                  "muscle-injury.calf: the injury is required", "required")
        return {}
    onset, located, region = max(injuries, key=lambda item: item[0])
    condition = located.resource
    assert isinstance(condition, Condition)
    injury: dict[str, Any] = {"region": region, "date": onset.isoformat()}
    for index, site in enumerate(condition.bodySite or []):
        muscle = _sprintclear_code(site, "muscle.")
        if muscle is not None:
            injury["muscle"] = muscle
        for system, code in _codings(site):
            if system == codes.SNOMED and code in _SIDE_BY_SNOMED:
                injury["side"] = _SIDE_BY_SNOMED[code]
        if (muscle is None and _sprintclear_code(site, "region.") is None
                and not any(s == codes.SNOMED and c in _SIDE_BY_SNOMED
                            for s, c in _codings(site)) and strict):
            problems.add(f"{located.label}.bodySite[{index}]", "is neither a muscle, a region "
                         "nor a laterality sprintclear maps")
    if "side" not in injury:
        problems.add(f"{located.label}.bodySite", "no laterality: a bodySite coded SNOMED CT "
                     "7771000 (left) or 24028007 (right) is required")
    for stage in condition.stage or []:
        grade = _sprintclear_code(stage.summary, "bamic.")
        if grade is not None:
            injury["bamic_grade"] = grade
        elif strict:
            problems.add(f"{located.label}.stage.summary", "is not a BAMIC grade "
                                                           "(sprintclear code bamic.…)")
    for extension in condition.extension or []:
        if extension.url == codes.MECHANISM_EXTENSION:
            mechanism = _sprintclear_code(extension.valueCodeableConcept, "mechanism.")
            if mechanism is None:
                problems.add(f"{located.label}.extension",
                             "the mechanism needs a sprintclear code mechanism.…")
            else:
                injury["mechanism"] = mechanism
    return injury


def assessment_from_resources(resources: Iterable[Located], *, strict: bool = True
                              ) -> dict[str, Any]:
    """The assessment document the resources describe (see the module for the mapping).

    Raises ``InvalidAssessment`` naming each resource and element that cannot be mapped.
    The document is not yet validated against the data dictionary: decide it (or call
    ``engine.assessment.parse_assessment``) to do that.
    """
    problems = _Problems()
    patients, conditions = [], []
    readings: list[tuple[Located, MeasureCode, dt.date]] = []
    for located in resources:
        resource = located.resource
        if isinstance(resource, Patient):
            patients.append(located)
        elif isinstance(resource, Condition):
            conditions.append(located)
        elif isinstance(resource, Observation):
            measure = _measure_of(resource)
            if measure is None:
                if strict and _is_pain(resource):
                    problems.add(f"{located.label}.method", "a pain score (LOINC 72514-3) needs "
                                 "its context as a method coded pain.… (sprintclear "
                                 "CodeSystem)")
                elif strict:
                    shown = ", ".join(f"{s}|{c}" for s, c in _codings(resource.code)) or "none"
                    problems.add(f"{located.label}.code", f"is not a measure sprintclear maps "
                                 f"(codes: {shown})")
                continue
            if resource.status not in _FINAL:
                if strict:
                    problems.add(f"{located.label}.status", f"is {resource.status}: only final, "
                                 "amended or corrected results are read")
                continue
            date = _date(resource.effectiveDateTime)
            if date is None:
                problems.add(f"{located.label}.effectiveDateTime",
                             f"{measure.path} needs the date it was measured")
                continue
            readings.append((located, measure, date))
        elif strict and resource.get_resource_type() not in _DERIVED:
            problems.add(located.label, f"a {resource.get_resource_type()} is not read by the "
                         "import (Patient, Condition and Observations only)")
    document: dict[str, Any] = {"athlete": _patient(patients, problems),
                                "injury": _condition(conditions, problems, strict)}
    _readings(document, readings, problems)
    problems.raise_any()
    return {group: members for group, members in document.items() if members}


_EPISODE = ("previous.phase", "injury.physician_review")


def _readings(document: dict[str, Any], readings: list[tuple[Located, MeasureCode, dt.date]],
              problems: _Problems) -> None:
    measures = [r for r in readings if r[1].path not in _EPISODE]
    if not measures:
        problems.add("Observation", "no measure of the assessment: its date is the date of "
                                    "its measures", "required")
        return
    day = max(date for _, _, date in measures)
    assessment: dict[str, Any] = {"date": day.isoformat()}
    document["assessment"] = assessment
    seen: dict[str, str] = {}
    for located, measure, date in measures:
        if date != day:
            continue  # an older reading is not today's (missing is not passing)
        if measure.path in seen:
            problems.add(f"{located.label}.code", f"{measure.path} is given twice on {day} "
                         f"(also {seen[measure.path]}): which one counts is not guessed")
            continue
        seen[measure.path] = located.label
        value = _value(located, measure, problems)
        observation = located.resource
        assert isinstance(observation, Observation)
        if "assessor" not in assessment:
            performer = next((p.display for p in observation.performer or [] if p.display),
                             None)
            if performer:
                assessment["assessor"] = performer
        if value is None:
            continue
        group, name = measure.path.split(".", 1)
        document.setdefault(group, {})[name] = value
    for path in _EPISODE:
        latest = [r for r in readings if r[1].path == path and r[2] <= day]
        if not latest:
            continue
        located, measure, date = max(latest, key=lambda r: r[2])
        value = _value(located, measure, problems)
        if value is None:
            continue
        if path == "previous.phase":
            document["previous"] = {"phase": value, "date": date.isoformat()}
        else:
            observation = located.resource
            assert isinstance(observation, Observation)
            review: dict[str, Any] = {"date": date.isoformat(), "management": value}
            by = next((p.display for p in observation.performer or [] if p.display), None)
            if by:
                review["by"] = by
            document["injury"]["physician_review"] = review
