"""The protocol schema: phases, gates, criteria, safety rules, activities.

A protocol is data. The default one ships as ``rules/data/default_protocol.json``
and encodes ``shared/spec/protocol.md``; a clinic may load its own file that
changes thresholds or adds criteria and activities. Every file is validated
here when it is loaded, and every problem names the entry it is in
(``criteria.C302.parts.0.threshold: ...``).

A criterion is a list of *conditions* (its parts). A condition reads one
*measure* of the assessment and compares it with a threshold:

``value``        the field as entered (``pain.rest``)
``lsi``          limb symmetry index of a bilateral field, injured ÷ uninjured × 100
``asymmetry``    |injured − uninjured| ÷ max(injured, uninjured) × 100
``deficit``      100 − LSI
``injured``      the injured side of a bilateral field
``ratio``        ``field`` ÷ ``denominator`` × 100
``sum``          the sum of ``fields``

Safety rules use the same conditions, combined with ``any`` / ``all``, plus
measures of the case rather than of a test: ``days_since_injury``,
``bamic_grade`` (the number), ``bamic_site`` (the letter), ``region``, and,
for cautions only, ``phase`` (the decided phase) and ``phase_advance``
(decided phase number − ``previous.phase`` number).
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.dictionary import (
    BAMIC_GRADES,
    FIELDS_BY_PATH,
    MUSCLES_BY_REGION,
    PHASE_IDS,
    PROFILE_IDS,
    REGIONS,
    FieldKind,
    InputField,
)
from rules.errors import Problem

Operator = Literal[">=", ">", "<=", "<", "=="]
Region = Literal["both", "hamstring", "calf"]

TEST_MEASURES = frozenset({"value", "lsi", "asymmetry", "deficit", "injured", "ratio", "sum"})
CASE_MEASURES = frozenset({"days_since_injury", "bamic_grade", "bamic_site", "region"})
DECIDED_MEASURES = frozenset({"phase", "phase_advance"})
Measure = Literal[
    "value", "lsi", "asymmetry", "deficit", "injured", "ratio", "sum",
    "days_since_injury", "bamic_grade", "bamic_site", "region",
    "phase", "phase_advance",
]
PERCENT_MEASURES = frozenset({"lsi", "asymmetry", "deficit", "ratio"})

OPERATOR_SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileLimit(_Strict):
    """A threshold taken from the assessment's profile (``L``, the exercise pain limit)."""

    profile: Literal["exercise_pain_limit"]


class CaseValue(_Strict):
    """A threshold computed for the case: the usual minimum days to sprint (R5)."""

    case: Literal["sprint_day_floor"]


Threshold = bool | int | float | str | ProfileLimit | CaseValue


class Condition(_Strict):
    """One measurable part: a measure of the assessment against a threshold."""

    measure: Measure = "value"
    field: str | None = None
    fields: tuple[str, ...] | None = None
    denominator: str | None = None
    op: Operator
    threshold: Threshold
    label: str | None = Field(
        default=None, description="How the clinician names this part, e.g. 'isometric 90/90 LSI'"
    )

    def field_paths(self) -> tuple[str, ...]:
        """The input fields this condition reads."""
        paths: list[str] = []
        if self.field:
            paths.append(self.field)
        if self.denominator:
            paths.append(self.denominator)
        if self.fields:
            paths.extend(self.fields)
        return tuple(paths)


class AnyOf(_Strict):
    any: tuple[Trigger, ...] = Field(min_length=1)


class AllOf(_Strict):
    all: tuple[Trigger, ...] = Field(min_length=1)


Trigger = Annotated[Condition | AnyOf | AllOf, Field(union_mode="left_to_right")]
AnyOf.model_rebuild()
AllOf.model_rebuild()


def trigger_conditions(trigger: Trigger) -> list[Condition]:
    """Every condition in a trigger tree, depth first."""
    if isinstance(trigger, Condition):
        return [trigger]
    children = trigger.any if isinstance(trigger, AnyOf) else trigger.all
    return [condition for child in children for condition in trigger_conditions(child)]


class Source(_Strict):
    """A reference: a seed document (by title) or a piece of literature."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["seed", "literature", "convention"]
    short: str = Field(min_length=1, description="How tables cite it: 'Schmitt 2012', 'S003'")
    citation: str = Field(min_length=1, description="Full title / reference")


class Phase(_Strict):
    number: int = Field(ge=1, le=6)
    id: str
    name: str
    summary: str


class Gate(_Strict):
    id: str = Field(pattern=r"^G[1-5]$")
    name: str

    @property
    def number(self) -> int:
        return int(self.id[1])


class Profile(_Strict):
    id: str
    exercise_pain_limit: int = Field(ge=0, le=10, description="L, NRS 0–10")
    description: str
    sources: tuple[str, ...] = ()


class Criterion(_Strict):
    id: str = Field(pattern=r"^C[1-5][0-9]{2}$")
    gate: str = Field(pattern=r"^G[1-5]$")
    name: str
    region: Region = "both"
    parts: tuple[Condition, ...] = Field(min_length=1)
    min_assessed: int | None = Field(
        default=None,
        ge=1,
        description=(
            "How many parts must be assessed for the criterion to be met "
            "(default: all of them). Any assessed part that fails makes it unmet."
        ),
    )
    rationale: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)

    @property
    def gate_number(self) -> int:
        return int(self.gate[1])

    def field_paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for part in self.parts for p in part.field_paths()))

    def applies_to(self, region: str) -> bool:
        return self.region in ("both", region)


class Effect(_Strict):
    kind: Literal["refer", "cap", "flare", "caution"]
    cap: str | None = Field(default=None, description="phase id the phase is capped at")

    @property
    def is_red_flag(self) -> bool:
        return self.kind != "caution"


class SafetyRule(_Strict):
    id: str = Field(pattern=r"^R[0-9]{1,2}$")
    name: str
    trigger: Trigger
    effect: Effect
    message: str = Field(min_length=1)
    rationale: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)

    @cached_property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(trigger_conditions(self.trigger))

    @property
    def reads_decided_phase(self) -> bool:
        return any(c.measure in DECIDED_MEASURES for c in self.conditions)


class Activity(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    from_phase: str
    sources: tuple[str, ...] = Field(min_length=1)


class SprintDayFloors(_Strict):
    """Usual minimum days from injury to sprint, for R5 [convention]."""

    by_grade: dict[str, int] = Field(description="BAMIC grade number → days")
    intratendinous: int = Field(ge=0, description="any grade with site c")
    extra_days_by_muscle: dict[str, int] = Field(default_factory=dict)
    extra_days_unknown_muscle: dict[str, int] = Field(
        default_factory=dict, description="region → days added when the muscle is not given"
    )
    sources: tuple[str, ...] = ()


class MaintenanceItem(_Strict):
    text: str
    sources: tuple[str, ...] = ()


class Protocol(_Strict):
    """A complete, validated protocol."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.:/-]{1,80}$")
    title: str
    version: str
    description: str = ""
    phases: tuple[Phase, ...]
    gates: tuple[Gate, ...]
    profiles: tuple[Profile, ...]
    criteria: tuple[Criterion, ...]
    safety_rules: tuple[SafetyRule, ...]
    activities: tuple[Activity, ...]
    sprint_day_floors: SprintDayFloors
    maintenance: tuple[MaintenanceItem, ...] = ()
    sources: tuple[Source, ...]

    @model_validator(mode="after")
    def _check_semantics(self) -> Protocol:
        problems = _semantic_problems(self)
        if problems:
            raise _SemanticProblems(problems)
        return self

    # ---- lookups -----------------------------------------------------------

    @cached_property
    def phase_by_id(self) -> dict[str, Phase]:
        return {phase.id: phase for phase in self.phases}

    @cached_property
    def phase_by_number(self) -> dict[int, Phase]:
        return {phase.number: phase for phase in self.phases}

    @cached_property
    def gate_by_id(self) -> dict[str, Gate]:
        return {gate.id: gate for gate in self.gates}

    @cached_property
    def profile_by_id(self) -> dict[str, Profile]:
        return {profile.id: profile for profile in self.profiles}

    @cached_property
    def criterion_by_id(self) -> dict[str, Criterion]:
        return {criterion.id: criterion for criterion in self.criteria}

    @cached_property
    def source_by_id(self) -> dict[str, Source]:
        return {source.id: source for source in self.sources}

    def clearance(self, phase_number: int) -> tuple[bool, bool]:
        """(cleared to sprint, cleared to play) at a phase: phase ≥ sprint, phase = play (§2)."""
        return (phase_number >= self.phase_by_id["sprint"].number,
                phase_number >= self.phase_by_id["play"].number)

    def activities_at(self, phase_number: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(allowed, not yet allowed) activity ids at a phase, in catalogue order (§6)."""
        allowed = tuple(a.id for a in self.activities if allowed_at(a.from_phase, phase_number))
        restricted = tuple(a.id for a in self.activities
                           if not allowed_at(a.from_phase, phase_number))
        return allowed, restricted

    def criteria_of_gate(self, gate_id: str) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.gate == gate_id)

    def canonical_json(self) -> str:
        """The protocol as canonical JSON: sorted keys, no whitespace, UTF-8 text."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON: the same content gives the same hash."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def allowed_at(from_phase: str, phase_number: int) -> bool:
    """Protocol §6: an activity is allowed at its own phase and every later one."""
    return PHASE_IDS.index(from_phase) + 1 <= phase_number


class _SemanticProblems(ValueError):
    """Carries the problems out of the pydantic validator (translated in loading.py)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


# ---- semantic checks ---------------------------------------------------------

_NUMERIC_KINDS = {FieldKind.INTEGER, FieldKind.NUMBER}


def _semantic_problems(protocol: Protocol) -> list[Problem]:
    problems: list[Problem] = []

    def add(where: str, rule: str, message: str) -> None:
        problems.append(Problem(where, rule, message))

    # phases: the six of the clinical contract, numbered 1..6 in order
    if tuple(p.id for p in protocol.phases) != PHASE_IDS or [
        p.number for p in protocol.phases
    ] != list(range(1, 7)):
        add("phases", "phases", "must be exactly " + ", ".join(
            f"{n} {pid}" for n, pid in enumerate(PHASE_IDS, 1)))
    if tuple(g.id for g in protocol.gates) != ("G1", "G2", "G3", "G4", "G5"):
        add("gates", "gates", "must be exactly G1, G2, G3, G4, G5 in order")
    missing_profiles = set(PROFILE_IDS) - {p.id for p in protocol.profiles}
    if missing_profiles:
        add("profiles", "required", "missing profile(s): " + ", ".join(sorted(missing_profiles)))
    _duplicates(add, "profiles", [p.id for p in protocol.profiles])

    source_ids = {s.id for s in protocol.sources}
    _duplicates(add, "sources", [s.id for s in protocol.sources])

    def check_sources(where: str, sources: tuple[str, ...]) -> None:
        for source in sources:
            if source not in source_ids:
                add(f"{where}.sources", "unknown_source", f"unknown source '{source}'")

    for profile in protocol.profiles:
        check_sources(f"profiles.{profile.id}", profile.sources)

    # criteria
    _duplicates(add, "criteria", [c.id for c in protocol.criteria])
    for criterion in protocol.criteria:
        where = f"criteria.{criterion.id}"
        if criterion.id[1] != criterion.gate[1]:
            add(f"{where}.gate", "gate", f"a C{criterion.id[1]}xx criterion belongs to "
                f"G{criterion.id[1]}, not {criterion.gate}")
        if criterion.min_assessed is not None and criterion.min_assessed > len(criterion.parts):
            add(f"{where}.min_assessed", "range",
                f"cannot exceed the number of parts ({len(criterion.parts)})")
        for index, part in enumerate(criterion.parts):
            part_where = f"{where}.parts.{index}"
            if part.measure not in TEST_MEASURES:
                add(f"{part_where}.measure", "measure",
                    f"a criterion reads test results; '{part.measure}' is only for safety rules")
                continue
            _check_condition(add, part_where, part)
        check_sources(where, criterion.sources)

    # safety rules
    _duplicates(add, "safety_rules", [r.id for r in protocol.safety_rules])
    for rule in protocol.safety_rules:
        where = f"safety_rules.{rule.id}"
        if rule.effect.kind in ("refer", "cap"):
            if rule.effect.cap not in PHASE_IDS:
                add(f"{where}.effect.cap", "phase", "a refer or cap effect needs a phase id to "
                    "cap at: " + ", ".join(PHASE_IDS))
        elif rule.effect.cap is not None:
            add(f"{where}.effect.cap", "phase", f"a {rule.effect.kind} effect takes no cap")
        if rule.reads_decided_phase and rule.effect.kind != "caution":
            add(f"{where}.effect.kind", "effect",
                "a rule that reads the decided phase can only be a caution "
                "(it cannot change the phase it reads)")
        for index, condition in enumerate(rule.conditions):
            _check_condition(add, f"{where}.trigger.{index}", condition)
        check_sources(where, rule.sources)

    # activities
    _duplicates(add, "activities", [a.id for a in protocol.activities])
    for activity in protocol.activities:
        if activity.from_phase not in PHASE_IDS:
            add(f"activities.{activity.id}.from_phase", "phase",
                f"unknown phase '{activity.from_phase}'; one of " + ", ".join(PHASE_IDS))
        check_sources(f"activities.{activity.id}", activity.sources)

    # R5 floors
    floors = protocol.sprint_day_floors
    for grade in sorted({g[0] for g in BAMIC_GRADES}):
        if grade not in floors.by_grade:
            add("sprint_day_floors.by_grade", "required", f"no floor for grade {grade}")
    for key, days in floors.by_grade.items():
        if key not in {g[0] for g in BAMIC_GRADES}:
            add(f"sprint_day_floors.by_grade.{key}", "unknown", "not a BAMIC grade number (0–4)")
        if days < 0:
            add(f"sprint_day_floors.by_grade.{key}", "range", "must be 0 or more days")
    all_muscles = {m for muscles in MUSCLES_BY_REGION.values() for m in muscles}
    for muscle in floors.extra_days_by_muscle:
        if muscle not in all_muscles:
            add(f"sprint_day_floors.extra_days_by_muscle.{muscle}", "unknown", "unknown muscle")
    for region in floors.extra_days_unknown_muscle:
        if region not in REGIONS:
            add(f"sprint_day_floors.extra_days_unknown_muscle.{region}", "unknown",
                "unknown region")
    check_sources("sprint_day_floors", floors.sources)
    for index, item in enumerate(protocol.maintenance):
        check_sources(f"maintenance.{index}", item.sources)
    return problems


def _duplicates(add: Any, where: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            add(f"{where}.{item}", "duplicate", f"'{item}' is defined more than once")
        seen.add(item)


def _check_condition(add: Any, where: str, condition: Condition) -> None:
    measure, threshold, op = condition.measure, condition.threshold, condition.op

    def need_field(path: str | None, attribute: str, kinds: set[FieldKind]) -> InputField | None:
        if path is None:
            add(f"{where}.{attribute}", "required", f"the '{measure}' measure needs '{attribute}'")
            return None
        spec = FIELDS_BY_PATH.get(path)
        if spec is None:
            add(f"{where}.{attribute}", "unknown_field", f"unknown input field '{path}'")
            return None
        if spec.kind not in kinds:
            wanted = " or ".join(sorted(k.value for k in kinds))
            add(f"{where}.{attribute}", "field_kind",
                f"'{path}' is {spec.kind.value}; the '{measure}' measure needs {wanted}")
            return None
        return spec

    def need_number(low: float | None = None, high: float | None = None) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            add(f"{where}.threshold", "threshold_type", f"must be a number (got {threshold!r})")
            return
        if (low is not None and threshold < low) or (high is not None and threshold > high):
            add(f"{where}.threshold", "range",
                f"must be between {low} and {high} (got {threshold})")

    if measure == "value":
        spec = need_field(condition.field, "field",
                          {FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.BOOLEAN})
        if spec is not None:
            if spec.kind is FieldKind.BOOLEAN:
                if not isinstance(threshold, bool) or op != "==":
                    add(where, "threshold_type",
                        f"'{spec.path}' is true/false: use op '==' with true or false")
            elif isinstance(threshold, ProfileLimit):
                pass
            else:
                need_number(spec.minimum, spec.maximum)
    elif measure in ("lsi", "asymmetry", "deficit", "injured"):
        spec = need_field(condition.field, "field", {FieldKind.BILATERAL})
        if measure == "injured" and spec is not None:
            need_number(spec.minimum, spec.maximum)
        elif measure != "injured":
            need_number(-1000, 1000)
    elif measure == "ratio":
        need_field(condition.field, "field", _NUMERIC_KINDS)
        need_field(condition.denominator, "denominator", _NUMERIC_KINDS)
        need_number(0, 1000)
    elif measure == "sum":
        if not condition.fields:
            add(f"{where}.fields", "required", "the 'sum' measure needs 'fields'")
        else:
            for path in condition.fields:
                need_field(path, "fields", _NUMERIC_KINDS)
        need_number()
    elif measure == "days_since_injury":
        if not isinstance(threshold, CaseValue):
            need_number(0, 10000)
    elif measure == "bamic_grade":
        need_number(0, 4)
    elif measure == "bamic_site":
        if threshold not in ("a", "b", "c") or op != "==":
            add(where, "threshold_type", "bamic_site compares with '==' to 'a', 'b' or 'c'")
    elif measure == "region":
        if threshold not in REGIONS or op != "==":
            add(where, "threshold_type", "region compares with '==' to 'hamstring' or 'calf'")
    elif measure == "phase":
        if threshold not in PHASE_IDS:
            add(f"{where}.threshold", "phase", "must be a phase id: " + ", ".join(PHASE_IDS))
    elif measure == "phase_advance":
        need_number(-5, 5)

    if isinstance(threshold, ProfileLimit) and measure != "value":
        add(f"{where}.threshold", "threshold_type",
            "a profile limit applies to a 'value' measure only")
    if isinstance(threshold, CaseValue) and measure != "days_since_injury":
        add(f"{where}.threshold", "threshold_type",
            "the sprint day floor applies to 'days_since_injury' only")
    if measure not in ("value", "lsi", "asymmetry", "deficit", "injured", "ratio", "sum") and (
        condition.field or condition.fields or condition.denominator
    ):
        add(where, "field", f"the '{measure}' measure reads no input field")
    if isinstance(threshold, str) and measure not in ("bamic_site", "region", "phase"):
        add(f"{where}.threshold", "threshold_type", f"must not be text (got {threshold!r})")
