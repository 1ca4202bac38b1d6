"""The codes of the FHIR mapping: systems, the measure table, and the shipped CodeSystem.

Every code the export writes comes from one of four places (issue 12):

- **LOINC** (``http://loinc.org``): pain scores, 72514-3 *Pain severity - 0-10
  verbal numeric rating [Score] - Reported*, with the context (rest, walking,
  palpation …) as the Observation's ``method``;
- **SNOMED CT** (``http://snomed.info/sct``): the laterality of the injured side
  (7771000 *Left*, 24028007 *Right*);
- **UCUM** (``http://unitsofmeasure.org``): every quantity's unit (N, cm, deg,
  {reps}, m/s, %, m, {score}, {sessions}, {injuries});
- the **sprintclear CodeSystem** (:data:`CODE_SYSTEM_URL`), shipped as
  ``api/fhir/data/CodeSystem-sprintclear.json`` and published at its canonical URL:
  every measure without a LOINC code (its code is the data dictionary's path, protocol
  section 7), the phases, BAMIC grades, muscles, mechanisms, criteria and safety rules of
  the default protocol, the activities, and the codes of sign-off and CDS feedback.

:data:`MEASURES` is the mapping table, measure path → code → unit; the export, the
import, the CDS Hooks service and the README's table all read it. ``python -m
api.fhir.codes`` prints the CodeSystem built from the dictionary and the default protocol;
a test checks the shipped file is that text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from fhir.resources.R4B.codesystem import CodeSystem, CodeSystemConcept

from rules.dictionary import (
    BAMIC_GRADES,
    CALF_MUSCLES,
    HAMSTRING_MUSCLES,
    INPUT_FIELDS,
    MECHANISMS,
    PHASE_IDS,
    PROFILE_IDS,
    REGIONS,
    REVIEW_MANAGEMENT,
    FieldKind,
    InputField,
)
from rules.loading import default_protocol

__all__ = [
    "CANONICAL_BASE",
    "CODE_SYSTEM_URL",
    "LOINC",
    "LOINC_CODES",
    "MEASURES",
    "SNOMED",
    "SNOMED_CODES",
    "UCUM",
    "UCUM_UNITS",
    "MeasureCode",
    "build_code_system",
    "code_system",
    "code_system_text",
    "declared_code",
    "display",
    "mapping_table",
]

CANONICAL_BASE: Final = "https://sprintclear.org/fhir"
"""The canonical base of everything sprintclear publishes in FHIR."""
CODE_SYSTEM_URL: Final = f"{CANONICAL_BASE}/CodeSystem/sprintclear"
CODE_SYSTEM_VERSION: Final = "2027.1"
ATHLETE_ID_SYSTEM: Final = f"{CANONICAL_BASE}/NamingSystem/athlete-id"
DECISION_ID_SYSTEM: Final = f"{CANONICAL_BASE}/NamingSystem/decision-id"
RULEBASE_SYSTEM: Final = f"{CANONICAL_BASE}/NamingSystem/rulebase-version"
REPORT_SHA256_SYSTEM: Final = f"{CANONICAL_BASE}/NamingSystem/report-sha256"
MECHANISM_EXTENSION: Final = f"{CANONICAL_BASE}/StructureDefinition/injury-mechanism"
SIGNED_PHASE_EXTENSION: Final = f"{CANONICAL_BASE}/StructureDefinition/signed-phase"
PROTOCOL_CANONICAL: Final = f"{CANONICAL_BASE}/PlanDefinition"
"""``{PROTOCOL_CANONICAL}/{protocol id}|{protocol version}`` is a GuidanceResponse's module."""

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
SIGNATURE_TYPE: Final = "urn:iso-astm:E1762-95:2013"
PROVENANCE_AGENT_TYPE: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"

PAIN_NRS: Final = "72514-3"
LOINC_CODES: Final[dict[str, str]] = {
    PAIN_NRS: "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
"""Every LOINC code the mapping writes, with its display."""

SNOMED_CODES: Final[dict[str, str]] = {
    "7771000": "Left (qualifier value)",
    "24028007": "Right (qualifier value)",
}
"""Every SNOMED CT code the mapping writes. Body-site codes of the muscles are not in it:
they could not be checked against a SNOMED release here, so the muscles are coded in the
sprintclear CodeSystem (a terminologist may add SNOMED codings beside them)."""
LATERALITY: Final[dict[str, str]] = {"left": "7771000", "right": "24028007"}

# Codes of other HL7 systems the mapping writes (the test of declared codes reads this).
HL7_CODES: Final[dict[str, frozenset[str]]] = {
    SIGNATURE_TYPE: frozenset({"1.2.840.10065.1.12.1.5"}),
    PROVENANCE_AGENT_TYPE: frozenset({"verifier"}),
    OBSERVATION_CATEGORY: frozenset({"exam", "social-history"}),
    CONDITION_CLINICAL: frozenset({"active"}),
    CONDITION_CATEGORY: frozenset({"problem-list-item"}),
}

_UNIT_BY_DICTIONARY_UNIT: Final[dict[str, str]] = {
    "N": "N", "cm": "cm", "°": "deg", "reps": "{reps}", "m/s": "m/s", "%": "%", "m": "m",
    "NRS": "{score}", "0–2": "{score}", "0–100": "{score}",
}
_UNIT_BY_PATH: Final[dict[str, str]] = {
    "training.full_team_sessions": "{sessions}",
    "injury.previous_same_site": "{injuries}",
}
UCUM_UNITS: Final[frozenset[str]] = frozenset(
    {*_UNIT_BY_DICTIONARY_UNIT.values(), *_UNIT_BY_PATH.values()})
"""Every UCUM unit the mapping writes (annotations in braces are UCUM's unity with a name)."""

NATIVE_PATHS: Final[frozenset[str]] = frozenset({
    "athlete.id", "athlete.name", "injury.region", "injury.muscle", "injury.side",
    "injury.date", "injury.mechanism", "injury.bamic_grade", "assessment.date",
    "assessment.assessor", "previous.date"})
"""Fields that are elements of Patient, Condition or every Observation, not Observations
(``previous.date`` is the ``effectiveDateTime`` of the ``previous.phase`` Observation)."""


@dataclass(frozen=True, slots=True)
class MeasureCode:
    """How one field of the data dictionary is an Observation.

    ``system``/``code`` is the Observation's code; ``method`` (pain scores) the code of
    its context in the sprintclear CodeSystem; ``unit`` the UCUM unit of its quantity (of
    each side, for bilateral measures); ``kind`` the dictionary's kind of value.
    """

    path: str
    label: str
    system: str
    code: str
    display: str
    method: str | None
    unit: str | None
    kind: FieldKind
    integer: bool

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What identifies the measure in an Observation: (system, code, method code)."""
        return self.system, self.code, self.method


def _unit(field: InputField) -> str | None:
    if field.path in _UNIT_BY_PATH:
        return _UNIT_BY_PATH[field.path]
    if field.unit is None:
        return None
    return _UNIT_BY_DICTIONARY_UNIT[field.unit]


def _measure(field: InputField) -> MeasureCode:
    integer = field.kind is FieldKind.INTEGER or field.integer
    if field.group == "pain":
        return MeasureCode(field.path, field.label, LOINC, PAIN_NRS, LOINC_CODES[PAIN_NRS],
                           field.path, _unit(field), field.kind, integer)
    return MeasureCode(field.path, field.label, CODE_SYSTEM_URL, field.path, field.label, None,
                       _unit(field), field.kind, integer)


MEASURES: Final[dict[str, MeasureCode]] = {
    field.path: _measure(field) for field in INPUT_FIELDS if field.path not in NATIVE_PATHS}
"""Field path → its Observation code, method and unit: every field that is an Observation."""

MEASURE_BY_KEY: Final[dict[tuple[str, str, str | None], MeasureCode]] = {
    measure.key: measure for measure in MEASURES.values()}

BILATERAL_COMPONENTS: Final[dict[str, str]] = {
    "injured": "Injured side", "uninjured": "Uninjured side",
    "lsi": "Limb symmetry index (injured ÷ uninjured × 100, one decimal, half up)"}


# ---- the CodeSystem -----------------------------------------------------------------------


def _label(text: str) -> str:
    return text.replace("_", " ")


def _concepts() -> list[tuple[str, str, str | None]]:
    """(code, display, definition) of every concept, in a stable order."""
    protocol = default_protocol()
    concepts: list[tuple[str, str, str | None]] = []
    for field in INPUT_FIELDS:
        if field.path in NATIVE_PATHS:
            continue
        definition = f"{field.label}: protocol section 7, field {field.path}"
        if field.group == "pain":
            definition = (f"Context of a pain score (LOINC {PAIN_NRS}, NRS 0–10): "
                          f"{field.label.lower()}; protocol section 7, field {field.path}")
        concepts.append((field.path, field.label, definition))
    concepts += [(name, display, None) for name, display in BILATERAL_COMPONENTS.items()]
    concepts += [(f"muscle-injury.{region}", f"{region.title()} muscle injury", None)
                 for region in REGIONS]
    concepts += [(f"region.{region}", f"{region.title()} muscle group", None)
                 for region in REGIONS]
    concepts += [(f"muscle.{muscle}", _label(muscle).capitalize(), None)
                 for muscle in (*HAMSTRING_MUSCLES, *CALF_MUSCLES)]
    concepts += [(f"bamic.{grade}", f"BAMIC grade {grade}", None) for grade in BAMIC_GRADES]
    concepts.append(("bamic", "British Athletics Muscle Injury Classification", None))
    concepts += [(f"mechanism.{m}", f"Injured while {m}" if m != "other" else "Other mechanism",
                  None) for m in MECHANISMS]
    concepts += [(f"management.{m}", f"{m.capitalize()} management", None)
                 for m in REVIEW_MANAGEMENT]
    concepts += [(f"profile.{p}", f"{p.capitalize()} profile", None) for p in PROFILE_IDS]
    phase_names = {phase.id: phase.name for phase in protocol.phases}
    concepts += [(f"phase.{p}", phase_names[p], None) for p in PHASE_IDS]
    concepts += [(criterion.id, criterion.name, f"Criterion of gate {criterion.gate}")
                 for criterion in protocol.criteria]
    concepts += [(rule_id, name, "Safety rule (protocol section 4)")
                 for rule_id, name in protocol.rule_names.items()]
    concepts += [(f"activity.{activity.id}", activity.name, None)
                 for activity in protocol.activities]
    concepts += [
        ("muscle-injury-assessment", "Muscle injury assessment", None),
        ("plan.max_velocity", "Running velocity ceiling of the plan", None),
        ("plan.reassess", "Re-assessment by this date", None),
        ("signoff.accept", "Recommendation accepted by the clinician", None),
        ("signoff.override", "Recommendation overridden by the clinician", None),
        ("report.signed", "Signed clearance report (PDF/A-3b)", None),
        ("override.clinical-judgement", "Clinical judgement differs", None),
        ("override.data-not-current", "The data shown is not current", None),
        ("override.already-addressed", "Already addressed with the athlete", None),
    ]
    return concepts


def build_code_system() -> CodeSystem:
    """The sprintclear CodeSystem, built from the data dictionary and the default protocol."""
    return CodeSystem(
        id="sprintclear", url=CODE_SYSTEM_URL, version=CODE_SYSTEM_VERSION,
        name="SprintclearCodes", title="sprintclear codes", status="active",
        experimental=False, publisher="sprintclear", caseSensitive=True, content="complete",
        description=("Measures of the sprintclear-rts protocol without a LOINC code (the code "
                     "is the data dictionary's field path), pain contexts, phases, BAMIC "
                     "grades, muscles, criteria, safety rules and activities."),
        concept=[CodeSystemConcept(code=code, display=display, definition=definition)
                 for code, display, definition in _concepts()])


def code_system_text() -> str:
    """The CodeSystem as the shipped file holds it (indented JSON, trailing newline)."""
    data = json.loads(build_code_system().model_dump_json(exclude_none=True))
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@cache
def code_system() -> CodeSystem:
    """The shipped CodeSystem (``api/fhir/data/CodeSystem-sprintclear.json``)."""
    text = resources.files("api.fhir.data").joinpath("CodeSystem-sprintclear.json").read_text(
        "utf-8")
    return CodeSystem.model_validate_json(text)


@cache
def _declared() -> dict[str, str]:
    return {concept.code: concept.display or "" for concept in code_system().concept or []
            if concept.code}


def declared_code(code: str) -> bool:
    """Whether the shipped CodeSystem declares ``code``."""
    return code in _declared()


def display(code: str) -> str:
    """The display of a declared sprintclear code (KeyError for an undeclared one)."""
    return _declared()[code]


def mapping_table() -> str:
    """The README's table of :data:`MEASURES`: measure → Observation code → method → value
    and its UCUM unit (Markdown; a test keeps the README's copy equal to it)."""
    rows = ["| measure | Observation code | method | value (UCUM unit) |", "|---|---|---|---|"]
    for m in MEASURES.values():
        code = f"LOINC `{m.code}`" if m.system == LOINC else f"sprintclear `{m.code}`"
        method = f"`{m.method}`" if m.method else ""
        if m.kind is FieldKind.BILATERAL:
            value = f"components `injured`, `uninjured` (`{m.unit}`), `lsi` (`%`)"
        elif m.kind is FieldKind.BOOLEAN:
            value = "valueBoolean"
        elif m.kind is FieldKind.TEXT:
            value = "valueString"
        elif m.path == "previous.phase":
            value = ("valueCodeableConcept (`phase.…`, with `effectiveDateTime` = "
                     "`previous.date`)")
        elif m.kind is FieldKind.CHOICE:
            value = "valueCodeableConcept (`profile.…`)"
        elif m.kind is FieldKind.REVIEW:
            value = ("valueCodeableConcept (`management.…`), `effectiveDateTime` = review "
                     "date, `performer` = by")
        else:
            value = f"valueQuantity (`{m.unit}`)"
        rows.append(f"| `{m.path}` | {code} | {method} | {value} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped file
    print(code_system_text(), end="")
