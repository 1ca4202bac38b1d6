"""The protocol schema: phases, gates, criteria, red flags, holds, cautions, the plan.

A protocol is data. The default one ships as ``rules/data/default_protocol.json``
and encodes ``shared/spec/protocol.md`` (version 2027.1); a clinic may load its
own file that changes thresholds, floors and plan figures, or adds criteria,
safety rules and activities. Every file is validated here when it is loaded,
and every problem names the entry it is in
(``criteria.C302.parts.0.threshold: ...``).

**Conditions.** A criterion is a list of *conditions* (its parts); a safety
rule has a *trigger*, conditions combined with ``any`` / ``all``. A condition
reads one *measure* of the assessment and compares it with a threshold:

``value``        the field as entered (``pain.rest``; a choice such as ``injury.muscle``)
``lsi``          limb symmetry index of a bilateral field, injured ÷ uninjured × 100
``asymmetry``    |injured − uninjured| ÷ max(injured, uninjured) × 100
``deficit``      100 − LSI (the LSI rounded first, section 3.1)
``injured``      the injured side of a bilateral field
``ratio``        ``field`` ÷ ``denominator`` × 100 (``field`` may be ``x.injured``)
``sum``          the sum of ``fields``
``times``        ``field`` compared with ``threshold × denominator``, exactly (R14)
``first_of``     the first of ``first_of``'s measures whose inputs are all recorded: one
                 quantity measured in more than one way, each with its ``basis``
                 (running speed, measured or self-rated: section 3)

plus measures of the case rather than of a test: ``days_since_injury``,
``bamic_grade`` (the number), ``bamic_site`` (the letter), ``region``; and, for
cautions only, ``phase`` (the decided phase). Operators are exact (section 3):
``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=``, and ``absent`` / ``present``
(whether the value is recorded at all; never unknown).

Kinds of data that 2027.1 needed, each usable by a clinic's own protocol:

- ``fallback``: a condition used when this condition's inputs are not all
  recorded — a reference with a fallback threshold (C407: ≥ 90 % of the
  pre-injury Nordic force when that is given, otherwise ≥ 256 N);
- ``zero_reference: "passes"``: a ratio whose reference is 0 passes (C504);
- ``attestation`` on a criterion: measured parts decide when they can, and a
  clinician's attestation otherwise, recorded as the finding's ``basis``
  (C504: ``measured`` or ``attested``);
- ``basis`` on a measure: which way a quantity was measured (C201, C301);
- ``if_missing`` on a trigger condition: what an unrecorded value counts as
  (by default it is unknown, and a trigger that cannot be settled is "not
  checked", never passed);
- ``carries_forward`` on a gate: its criteria may be carried forward below the
  signed phase (section 2.1);
- holds with phase caps of three kinds: a fixed ``cap`` while a trigger holds
  (R5 play floor), ``signed_step`` (R6: one phase per signed review) and
  ``screening`` (R13: the screening table of section 4.3).
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.dictionary import (
    BAMIC_GRADES,
    PHASE_IDS,
    PROFILE_IDS,
    READABLE_FIELDS,
    REGIONS,
    FieldKind,
    InputField,
)
from rules.errors import Problem

Operator = Literal[">=", ">", "<=", "<", "==", "!=", "absent", "present"]
Region = Literal["both", "hamstring", "calf"]

TEST_MEASURES = frozenset({"value", "lsi", "asymmetry", "deficit", "injured", "ratio", "sum",
                           "times", "first_of"})
CASE_MEASURES = frozenset({"days_since_injury", "bamic_grade", "bamic_site", "region"})
DECIDED_MEASURES = frozenset({"phase"})
Measure = Literal[
    "value", "lsi", "asymmetry", "deficit", "injured", "ratio", "sum", "times", "first_of",
    "days_since_injury", "bamic_grade", "bamic_site", "region", "phase",
]
PERCENT_MEASURES = frozenset({"lsi", "asymmetry", "deficit", "ratio"})
PRESENCE_OPERATORS = frozenset({"absent", "present"})

OPERATOR_SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠",
                    "absent": "not recorded", "present": "recorded"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileLimit(_Strict):
    """A threshold taken from the assessment's profile (``L``, the exercise pain limit)."""

    profile: Literal["exercise_pain_limit"]


class CaseValue(_Strict):
    """A threshold computed for the case: the days-from-injury floors of R5 (section 4.5)."""

    case: Literal["sprint_day_floor", "play_day_floor"]


Threshold = bool | int | float | str | ProfileLimit | CaseValue


class MeasureSpec(_Strict):
    """What a condition reads: one measure of the assessment (see the module docstring)."""

    measure: Measure = "value"
    field: str | None = None
    fields: tuple[str, ...] | None = None
    denominator: str | None = None
    first_of: tuple[MeasureSpec, ...] | None = Field(
        default=None, description="for measure 'first_of': the ways of measuring, preferred first")
    basis: str | None = Field(default=None, pattern=r"^[a-z][a-z_]{0,39}$",
                              description="which way the quantity was measured: 'measured', "
                                          "'self_rated', 'attested'; recorded in the finding")
    label: str | None = Field(
        default=None, description="How the clinician names this part, e.g. 'isometric 90/90 LSI'")

    def field_paths(self) -> tuple[str, ...]:
        """The input fields this measure reads (all alternatives of a ``first_of``)."""
        paths: list[str] = []
        if self.field:
            paths.append(self.field)
        if self.denominator:
            paths.append(self.denominator)
        if self.fields:
            paths.extend(self.fields)
        for alternative in self.first_of or ():
            paths.extend(alternative.field_paths())
        return tuple(dict.fromkeys(paths))


class Condition(MeasureSpec):
    """One measurable part: a measure of the assessment against a threshold."""

    op: Operator
    threshold: Threshold | None = None
    zero_reference: Literal["passes"] | None = Field(
        default=None, description="ratio only: a reference (denominator) of 0 makes the part pass")
    fallback: Condition | None = Field(
        default=None, description="used instead when this condition's inputs are not all recorded")
    if_missing: bool | None = Field(
        default=None, description="triggers only: what an unrecorded value counts as (default: "
                                  "unknown, so the trigger may be 'not checked')")

    def field_paths(self) -> tuple[str, ...]:
        paths = list(super().field_paths())
        if self.fallback is not None:
            paths.extend(self.fallback.field_paths())
        return tuple(dict.fromkeys(paths))


class AnyOf(_Strict):
    any: tuple[Trigger, ...] = Field(min_length=1)


class AllOf(_Strict):
    all: tuple[Trigger, ...] = Field(min_length=1)


Trigger = Annotated[Condition | AnyOf | AllOf, Field(union_mode="left_to_right")]
MeasureSpec.model_rebuild()
Condition.model_rebuild()
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
    carries_forward: bool = Field(
        default=True, description="section 2.1: a criterion of this gate that is not assessed "
                                  "counts as passed (carried_forward) below the signed phase")

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
    attestation: Condition | None = Field(
        default=None,
        description="When the parts can neither fail nor pass for lack of data, this "
                    "condition decides: passes → met, fails → unmet, unrecorded → not "
                    "assessed; its basis is recorded (C504)")
    rationale: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)

    @property
    def gate_number(self) -> int:
        return int(self.gate[1])

    def field_paths(self) -> tuple[str, ...]:
        paths = [p for part in self.parts for p in part.field_paths()]
        if self.attestation is not None:
            paths.extend(self.attestation.field_paths())
        return tuple(dict.fromkeys(paths))

    def applies_to(self, region: str) -> bool:
        return self.region in ("both", region)


class Note(_Strict):
    """A sentence added to a rule's message when its condition holds."""

    when: Trigger
    text: str = Field(min_length=1)


class RedFlagEffect(_Strict):
    kind: Literal["refer", "cap", "flare"]
    cap: str | None = Field(default=None, description="phase id the phase is capped at "
                                                      "(refer and cap)")


class RedFlag(_Strict):
    """Section 4.1: clinical danger now; it lowers the phase while its trigger holds."""

    id: str = Field(pattern=r"^R[0-9]{1,2}$")
    name: str
    trigger: Trigger
    effect: RedFlagEffect
    message: str = Field(min_length=1, description="may name what was found: {found}")
    notes: tuple[Note, ...] = ()
    ends: str = Field(min_length=1, description="what ends it, for held_by; may use "
                                                "{reassess_by}")
    rationale: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)

    @cached_property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(trigger_conditions(self.trigger))


class HoldEffect(_Strict):
    kind: Literal["cap", "signed_step", "screening"]
    cap: str | None = Field(default=None, description="kind cap: the phase id it caps at")
    until_days: CaseValue | None = Field(
        default=None, description="kind cap: the floor whose date ends the hold "
                                  "(injury date + that many days)")
    steps: int = Field(default=1, ge=0, le=5, description="signed_step: phases above the "
                                                          "signed phase on a later day")
    same_day_steps: int = Field(default=0, ge=0, le=5, description="signed_step: phases above "
                                                                   "the signed phase the same day")
    unsigned_cap: str | None = Field(default=None, description="signed_step: the cap without a "
                                                               "signed phase on record")


class Hold(_Strict):
    """Section 4.2: the process is not complete (a review, a sign-off, a screen, time)."""

    id: str = Field(pattern=r"^R[0-9]{1,2}$")
    name: str
    trigger: Trigger | None = Field(default=None, description="kind cap only; the other "
                                                              "kinds always apply")
    effect: HoldEffect
    message: str = Field(min_length=1)
    notes: tuple[Note, ...] = ()
    ends: str = Field(min_length=1, description="what ends it: may use {until}, {missing}")
    ends_same_day: str | None = Field(default=None, description="signed_step: what ends it "
                                                                "when the signed phase is of today")
    rationale: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)

    @cached_property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(trigger_conditions(self.trigger)) if self.trigger is not None else ()


class Caution(_Strict):
    """Section 4.4: the clinician must look; it changes nothing."""

    id: str = Field(pattern=r"^R[0-9]{1,2}$")
    name: str
    trigger: Trigger
    message: str = Field(min_length=1)
    notes: tuple[Note, ...] = ()
    rationale: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)

    @cached_property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(trigger_conditions(self.trigger))

    @property
    def reads_decided_phase(self) -> bool:
        return any(c.measure in DECIDED_MEASURES for c in self.conditions)


SafetyRule = RedFlag | Hold | Caution


class ScreeningField(_Strict):
    """Section 4.3: a field that must be recorded to be in ``from_phase`` or above."""

    field: str
    from_phase: str
    region: Region = "both"


class Activity(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    from_phase: str
    region: Region = "both"
    sources: tuple[str, ...] = Field(min_length=1)


class MaintenanceItem(_Strict):
    text: str
    region: Region = "both"
    sources: tuple[str, ...] = ()


class FloorDays(_Strict):
    """Days that apply to a case when ``when`` holds (unknown counts as not holding)."""

    when: Trigger
    days: int = Field(ge=0, le=365)
    label: str = Field(min_length=1)


class DayFloors(_Strict):
    """Section 4.5: days from injury before ``sprint`` (caution) and ``train`` (hold)."""

    sprint_by_grade: dict[str, int] = Field(description="BAMIC grade number → days")
    unknown_grade: str = Field(description="the grade whose floor an unknown grade uses")
    minimums: tuple[FloorDays, ...] = Field(
        default=(), description="the sprint floor is at least these days when they apply "
                                "(site c or tendon involvement: 28)")
    extra_days: tuple[FloorDays, ...] = Field(
        default=(), description="days added when they apply (soleus, R7, R12)")
    play_after_sprint: int = Field(ge=0, le=365, description="play floor = sprint floor + this")
    sources: tuple[str, ...] = ()


class Surveillance(_Strict):
    """Section 6: re-tests after the play decision."""

    weeks: tuple[int, ...] = Field(min_length=1)
    then_every_months: int = Field(ge=1, le=24)
    tests: str = Field(min_length=1)
    sources: tuple[str, ...] = ()


class Plan(_Strict):
    """Section 6, the plan: running ceiling, volume, when to re-assess."""

    velocity_ceiling_pct: dict[str, int] = Field(description="phase id → % of max velocity")
    running_speed: MeasureSpec = Field(description="the max pain-free speed, % of max, "
                                                   "with its basis")
    pre_injury_velocity: str = Field(description="field of the pre-injury max velocity (m/s)")
    volume_from_phase: str
    volume_last_7_days: tuple[str, ...] = Field(min_length=1)
    volume_targets: tuple[str, ...] = ()
    volume_hold_cautions: tuple[str, ...] = Field(
        default=(), description="cautions that hold the volume (R14)")
    reassess_days: dict[str, int] = Field(description="phase id → days (play: the first "
                                                      "surveillance date)")
    red_flag_reassess_days: int = Field(ge=1, le=30)
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
    red_flags: tuple[RedFlag, ...]
    holds: tuple[Hold, ...]
    cautions: tuple[Caution, ...]
    screening: tuple[ScreeningField, ...]
    activities: tuple[Activity, ...]
    day_floors: DayFloors
    maintenance: tuple[MaintenanceItem, ...] = ()
    surveillance: Surveillance
    plan: Plan
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

    @cached_property
    def activity_by_id(self) -> dict[str, Activity]:
        return {activity.id: activity for activity in self.activities}

    @property
    def safety_rules(self) -> tuple[SafetyRule, ...]:
        """Red flags, holds and cautions, in that order (R5 is both a hold and a caution)."""
        return (*self.red_flags, *self.holds, *self.cautions)

    @cached_property
    def rule_names(self) -> dict[str, str]:
        """Rule id → name; for R5 (a hold and a caution) the hold's name."""
        names: dict[str, str] = {}
        for rule in self.safety_rules:
            names.setdefault(rule.id, rule.name)
        return names

    def clearance(self, phase_number: int) -> tuple[bool, bool]:
        """(cleared to sprint, cleared to play) at a phase: phase ≥ sprint, phase = play (§2)."""
        return (phase_number >= self.phase_by_id["sprint"].number,
                phase_number >= self.phase_by_id["play"].number)

    def activities_at(self, phase_number: int, region: str | None = None
                      ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(allowed, not yet allowed) activity ids at a phase, in catalogue order (§6).

        With ``region``, only the activities of that region or of both are listed.
        """
        chosen = [a for a in self.activities if region is None or a.region in ("both", region)]
        allowed = tuple(a.id for a in chosen if allowed_at(a.from_phase, phase_number))
        restricted = tuple(a.id for a in chosen if not allowed_at(a.from_phase, phase_number))
        return allowed, restricted

    def maintenance_for(self, region: str) -> tuple[MaintenanceItem, ...]:
        """The maintenance programme of a region (§6)."""
        return tuple(m for m in self.maintenance if m.region in ("both", region))

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


def _region_of(condition: Condition) -> frozenset[str] | None:
    """The region a ``region`` condition admits (``None``: it is not one); the validator
    allows ``region`` only with ``==``."""
    if condition.measure != "region" or condition.op != "==" or \
            condition.threshold not in REGIONS:
        return None
    return frozenset({str(condition.threshold)})


def _trigger_reads(trigger: Trigger, regions: frozenset[str] | None
                   ) -> list[tuple[str, frozenset[str] | None]]:
    """(field, the regions the trigger reads it for) for every field of a trigger tree.

    The regions are those a ``region`` condition beside it in an ``all`` admits
    (R8: ``region == hamstring`` and the Nordic LSI); ``None`` when nothing in the
    tree narrows them: the trigger reads the field whatever the region."""
    if isinstance(trigger, Condition):
        return [(path, regions) for path in trigger.field_paths()]
    if isinstance(trigger, AllOf):
        for child in trigger.all:
            if isinstance(child, Condition) and (narrowed := _region_of(child)) is not None:
                regions = narrowed if regions is None else regions & narrowed
        children: tuple[Trigger, ...] = trigger.all
    else:
        children = trigger.any
    return [read for child in children for read in _trigger_reads(child, regions)]


def field_regions(protocol: Protocol) -> dict[str, frozenset[str]]:
    """The injury regions each test field of the assessment belongs to, read from the protocol.

    A field of the measure groups (pain, signs, function, running, strength,
    flexibility, hop, technique, sprint, training, readiness, exposure) belongs
    to the regions of what asks for it: the criteria that read it (their
    ``region``; ``both`` is both), the screening entries of section 4.3 (their
    ``region``), and the conditions of triggers, notes and floors that a
    ``region`` condition narrows to one region (R8 reads the Nordic LSI for a
    hamstring injury only). A trigger that reads a field whatever the region
    (R1 reads ``signs.dvt_suspected`` for any injury) fires on what was recorded
    but does not ask for it, so it does not widen the field's regions.

    So ``strength.nordic_n`` (C304, C407, R8) is ``{"hamstring"}``,
    ``flexibility.knee_to_wall_cm`` (C313) and ``signs.dvt_suspected`` (a calf
    screen) are ``{"calf"}``, and ``hop.single_cm`` (C310 calf, C404 both) is both.
    A field nothing region-specific asks for — and every field of the athlete,
    the injury, the session and the signed phase, which describe the case
    rather than test it — is both. Returns ``{path: frozenset of region ids}``
    for every path a condition may read (``READABLE_FIELDS``). The assessment
    form shows a field for the regions it belongs to.
    """
    both = frozenset(REGIONS)

    def widen(region: str) -> frozenset[str]:
        return both if region == "both" else frozenset({region})

    asked: dict[str, set[str]] = {}

    def ask(path: str, regions: frozenset[str] | None) -> None:
        if regions is not None:
            asked.setdefault(path.rsplit(".", 1)[0] if path not in READABLE_FIELDS
                             else path, set()).update(regions)

    for criterion in protocol.criteria:
        for path in criterion.field_paths():
            ask(path, widen(criterion.region))
    for screen in protocol.screening:
        ask(screen.field, widen(screen.region))
    triggers: list[Trigger] = []
    for rule in protocol.safety_rules:
        if rule.trigger is not None:
            triggers.append(rule.trigger)
        triggers.extend(note.when for note in rule.notes)
    floors = protocol.day_floors
    triggers.extend(floor.when for floor in (*floors.minimums, *floors.extra_days))
    for trigger in triggers:
        for path, narrowed in _trigger_reads(trigger, None):
            ask(path, narrowed)
    case_groups = {"athlete", "injury", "assessment", "previous"}
    return {path: both if spec.group in case_groups or path not in asked
            else frozenset(asked[path])
            for path, spec in READABLE_FIELDS.items()}


class _SemanticProblems(ValueError):
    """Carries the problems out of the pydantic validator (translated in loading.py)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


# ---- semantic checks ---------------------------------------------------------

_NUMERIC_KINDS = {FieldKind.INTEGER, FieldKind.NUMBER}
_GRADE_NUMBERS = sorted({g[0] for g in BAMIC_GRADES})
_PHASES_TEXT = ", ".join(PHASE_IDS)


def _semantic_problems(protocol: Protocol) -> list[Problem]:
    problems: list[Problem] = []

    def add(where: str, rule: str, message: str) -> None:
        problems.append(Problem(where, rule, message))

    def need_phase(where: str, value: str | None) -> None:
        if value not in PHASE_IDS:
            add(where, "phase", f"must be a phase id: {_PHASES_TEXT} (got {value!r})")

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
            _check_condition(add, f"{where}.parts.{index}", part, context="criterion")
        if criterion.attestation is not None:
            _check_condition(add, f"{where}.attestation", criterion.attestation,
                             context="criterion")
        check_sources(where, criterion.sources)

    # red flags, holds, cautions: ids unique within each table (R5 is a hold and a caution)
    _duplicates(add, "red_flags", [r.id for r in protocol.red_flags])
    _duplicates(add, "holds", [r.id for r in protocol.holds])
    _duplicates(add, "cautions", [r.id for r in protocol.cautions])
    flag_and_hold_ids = [r.id for r in protocol.red_flags] + [r.id for r in protocol.holds]
    _duplicates(add, "red_flags", flag_and_hold_ids)
    for flag in protocol.red_flags:
        where = f"red_flags.{flag.id}"
        if flag.effect.kind in ("refer", "cap"):
            need_phase(f"{where}.effect.cap", flag.effect.cap)
        elif flag.effect.cap is not None:
            add(f"{where}.effect.cap", "phase", "a flare effect takes no cap")
        _check_trigger(add, where, flag.trigger, flag.notes)
        check_sources(where, flag.sources)
    for hold in protocol.holds:
        where = f"holds.{hold.id}"
        effect = hold.effect
        if effect.kind == "cap":
            need_phase(f"{where}.effect.cap", effect.cap)
            if hold.trigger is None:
                add(f"{where}.trigger", "required", "a cap hold needs a trigger")
        elif hold.trigger is not None:
            add(f"{where}.trigger", "trigger", f"a {effect.kind} hold takes no trigger: it "
                                               "always applies")
        if effect.kind == "signed_step":
            need_phase(f"{where}.effect.unsigned_cap", effect.unsigned_cap)
        if hold.trigger is not None:
            _check_trigger(add, where, hold.trigger, hold.notes)
        check_sources(where, hold.sources)
    if sum(h.effect.kind == "screening" for h in protocol.holds) > 1:
        add("holds", "screening", "at most one hold reads the screening table")
    for caution in protocol.cautions:
        where = f"cautions.{caution.id}"
        _check_trigger(add, where, caution.trigger, caution.notes, decided=True)
        check_sources(where, caution.sources)
    for caution_id in protocol.plan.volume_hold_cautions:
        if caution_id not in {c.id for c in protocol.cautions}:
            add("plan.volume_hold_cautions", "unknown", f"no caution '{caution_id}'")

    # screening (section 4.3)
    seen_screening: set[tuple[str, str]] = set()
    for index, item in enumerate(protocol.screening):
        where = f"screening.{index}"
        need_phase(f"{where}.from_phase", item.from_phase)
        if item.field not in READABLE_FIELDS:
            add(f"{where}.field", "unknown_field", f"unknown input field '{item.field}'")
        if (item.field, item.region) in seen_screening:
            add(f"{where}.field", "duplicate", f"'{item.field}' is listed more than once")
        seen_screening.add((item.field, item.region))

    # activities
    _duplicates(add, "activities", [a.id for a in protocol.activities])
    for activity in protocol.activities:
        if activity.from_phase not in PHASE_IDS:
            add(f"activities.{activity.id}.from_phase", "phase",
                f"unknown phase '{activity.from_phase}'; one of {_PHASES_TEXT}")
        check_sources(f"activities.{activity.id}", activity.sources)
    for index, maintenance in enumerate(protocol.maintenance):
        check_sources(f"maintenance.{index}", maintenance.sources)

    # R5 floors (section 4.5)
    floors = protocol.day_floors
    for grade in _GRADE_NUMBERS:
        if grade not in floors.sprint_by_grade:
            add("day_floors.sprint_by_grade", "required", f"no floor for grade {grade}")
    for key, days in floors.sprint_by_grade.items():
        if key not in _GRADE_NUMBERS:
            add(f"day_floors.sprint_by_grade.{key}", "unknown", "not a BAMIC grade number (0–4)")
        if not 0 <= days <= 365:
            add(f"day_floors.sprint_by_grade.{key}", "range", "must be 0–365 days")
    if floors.unknown_grade not in floors.sprint_by_grade:
        add("day_floors.unknown_grade", "unknown", "must be one of the grades of sprint_by_grade")
    for name in ("minimums", "extra_days"):
        for index, item in enumerate(getattr(floors, name)):
            _check_trigger(add, f"day_floors.{name}.{index}.when", item.when, ())
    check_sources("day_floors", floors.sources)
    check_sources("surveillance", protocol.surveillance.sources)

    # the plan (section 6)
    plan = protocol.plan
    for phase_id in PHASE_IDS:
        if phase_id not in plan.velocity_ceiling_pct:
            add("plan.velocity_ceiling_pct", "required", f"no ceiling for {phase_id}")
        if phase_id != "play" and phase_id not in plan.reassess_days:
            add("plan.reassess_days", "required", f"no re-assessment interval for {phase_id}")
    for key, value in plan.velocity_ceiling_pct.items():
        need_phase(f"plan.velocity_ceiling_pct.{key}", key)
        if not 0 <= value <= 100:
            add(f"plan.velocity_ceiling_pct.{key}", "range", "must be 0–100 %")
    for key, value in plan.reassess_days.items():
        need_phase(f"plan.reassess_days.{key}", key)
        if not 1 <= value <= 60:
            add(f"plan.reassess_days.{key}", "range", "must be 1–60 days")
    need_phase("plan.volume_from_phase", plan.volume_from_phase)
    _check_measure(add, "plan.running_speed", plan.running_speed)
    for path in (plan.pre_injury_velocity, *plan.volume_last_7_days, *plan.volume_targets):
        _field_of_kind(add, "plan", path, "field", _NUMERIC_KINDS, "plan")
    check_sources("plan", plan.sources)

    return problems


def _duplicates(add: Any, where: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            add(f"{where}.{item}", "duplicate", f"'{item}' is defined more than once")
        seen.add(item)


def _check_trigger(add: Any, where: str, trigger: Trigger, notes: tuple[Note, ...],
                   decided: bool = False) -> None:
    for index, condition in enumerate(trigger_conditions(trigger)):
        context = "caution" if decided else "trigger"
        _check_condition(add, f"{where}.trigger.{index}", condition, context=context)
    for index, note in enumerate(notes):
        for part, condition in enumerate(trigger_conditions(note.when)):
            _check_condition(add, f"{where}.notes.{index}.when.{part}", condition,
                             context="caution" if decided else "trigger")


def _field_of_kind(add: Any, where: str, path: str | None, attribute: str,
                   kinds: set[FieldKind], measure: str) -> InputField | None:
    if path is None:
        add(f"{where}.{attribute}", "required", f"the '{measure}' measure needs '{attribute}'")
        return None
    spec = READABLE_FIELDS.get(path)
    if spec is None and path.endswith((".injured", ".uninjured")):
        parent = READABLE_FIELDS.get(path.rpartition(".")[0])
        if parent is not None and parent.kind is FieldKind.BILATERAL:
            spec = parent
            if kinds & _NUMERIC_KINDS:
                return spec
    if spec is None:
        add(f"{where}.{attribute}", "unknown_field", f"unknown input field '{path}'")
        return None
    if spec.kind not in kinds:
        wanted = " or ".join(sorted(k.value for k in kinds))
        add(f"{where}.{attribute}", "field_kind",
            f"'{path}' is {spec.kind.value}; the '{measure}' measure needs {wanted}")
        return None
    return spec


def _check_measure(add: Any, where: str, spec: MeasureSpec) -> None:
    """A measure without its comparison (the plan's running speed, first_of alternatives)."""
    measure = spec.measure
    if measure == "value":
        _field_of_kind(add, where, spec.field, "field", _NUMERIC_KINDS, measure)
    elif measure in ("lsi", "asymmetry", "deficit", "injured"):
        _field_of_kind(add, where, spec.field, "field", {FieldKind.BILATERAL}, measure)
    elif measure in ("ratio", "times"):
        _field_of_kind(add, where, spec.field, "field", _NUMERIC_KINDS, measure)
        _field_of_kind(add, where, spec.denominator, "denominator", _NUMERIC_KINDS, measure)
    elif measure == "sum":
        if not spec.fields:
            add(f"{where}.fields", "required", "the 'sum' measure needs 'fields'")
        for path in spec.fields or ():
            _field_of_kind(add, where, path, "fields", _NUMERIC_KINDS, measure)
    elif measure == "first_of":
        if not spec.first_of:
            add(f"{where}.first_of", "required", "the 'first_of' measure needs its alternatives")
        for index, alternative in enumerate(spec.first_of or ()):
            if alternative.measure == "first_of":
                add(f"{where}.first_of.{index}", "measure", "alternatives cannot nest")
            else:
                _check_measure(add, f"{where}.first_of.{index}", alternative)
    else:
        add(f"{where}.measure", "measure", f"'{measure}' cannot be used here: it is not a "
                                           "measure of a test")
    if measure != "first_of" and spec.first_of:
        add(f"{where}.first_of", "measure", "only the 'first_of' measure takes alternatives")


def _check_condition(add: Any, where: str, condition: Condition, *, context: str) -> None:
    """``context``: ``criterion`` (test measures only), ``trigger``, or ``caution`` (may
    also read the decided phase)."""
    measure, threshold, op = condition.measure, condition.threshold, condition.op
    presence = op in PRESENCE_OPERATORS

    def need_number(low: float | None = None, high: float | None = None) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            add(f"{where}.threshold", "threshold_type", f"must be a number (got {threshold!r})")
            return
        if (low is not None and threshold < low) or (high is not None and threshold > high):
            add(f"{where}.threshold", "range",
                f"must be between {low} and {high} (got {threshold})")

    if context == "criterion" and measure not in TEST_MEASURES:
        add(f"{where}.measure", "measure",
            f"a criterion reads test results; '{measure}' is only for safety rules")
        return
    if measure in DECIDED_MEASURES and context != "caution":
        add(f"{where}.measure", "measure", "only a caution may read the decided phase (a rule "
                                           "cannot change the phase it reads)")
        return
    if condition.if_missing is not None and context == "criterion":
        add(f"{where}.if_missing", "if_missing", "a criterion never treats a missing value as "
                                                 "anything but not assessed")
    if condition.zero_reference is not None and measure != "ratio":
        add(f"{where}.zero_reference", "zero_reference", "applies to the 'ratio' measure only")
    if presence:
        if threshold is not None:
            add(f"{where}.threshold", "threshold_type", f"'{op}' takes no threshold")
        if measure in ("value", "bamic_grade", "bamic_site"):
            if measure == "value":
                _field_of_kind(add, where, condition.field, "field",
                               {k for k in FieldKind}, measure)
        else:
            add(f"{where}.op", "op", f"'{op}' applies to a recorded field or the BAMIC grade")
    elif threshold is None:
        add(f"{where}.threshold", "required", "a comparison needs a threshold")
    elif measure == "value":
        spec = _field_of_kind(add, where, condition.field, "field",
                              {FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.BOOLEAN,
                               FieldKind.CHOICE}, measure)
        if spec is not None:
            if spec.kind is FieldKind.BOOLEAN:
                if not isinstance(threshold, bool) or op not in ("==", "!="):
                    add(where, "threshold_type",
                        f"'{spec.path}' is true/false: use op '==' or '!=' with true or false")
            elif spec.kind is FieldKind.CHOICE:
                if threshold not in spec.choices or op not in ("==", "!="):
                    add(where, "threshold_type", f"'{spec.path}' is a choice: use op '==' or "
                        f"'!=' with one of {', '.join(spec.choices)}")
            elif isinstance(threshold, ProfileLimit):
                pass
            else:
                need_number(spec.minimum, spec.maximum)
    elif measure in ("lsi", "asymmetry", "deficit", "injured"):
        spec = _field_of_kind(add, where, condition.field, "field", {FieldKind.BILATERAL},
                              measure)
        if measure == "injured" and spec is not None:
            need_number(spec.minimum, spec.maximum)
        elif measure != "injured":
            need_number(-1000, 1000)
    elif measure in ("ratio", "times"):
        _check_measure(add, where, condition)
        need_number(0, 1000)
    elif measure == "sum":
        _check_measure(add, where, condition)
        need_number()
    elif measure == "first_of":
        _check_measure(add, where, condition)
        need_number(0, 1000)
    elif measure == "days_since_injury":
        if not isinstance(threshold, CaseValue):
            need_number(0, 10000)
    elif measure == "bamic_grade":
        need_number(0, 4)
    elif measure == "bamic_site":
        if threshold not in ("a", "b", "c") or op not in ("==", "!="):
            add(where, "threshold_type", "bamic_site compares with '==' to 'a', 'b' or 'c'")
    elif measure == "region":
        if threshold not in REGIONS or op != "==":
            add(where, "threshold_type", "region compares with '==' to 'hamstring' or 'calf'")
    elif measure == "phase" and threshold not in PHASE_IDS:
        add(f"{where}.threshold", "phase", f"must be a phase id: {_PHASES_TEXT}")

    if isinstance(threshold, ProfileLimit) and measure != "value":
        add(f"{where}.threshold", "threshold_type",
            "a profile limit applies to a 'value' measure only")
    if isinstance(threshold, CaseValue) and measure != "days_since_injury":
        add(f"{where}.threshold", "threshold_type",
            "a day floor applies to 'days_since_injury' only")
    if measure not in TEST_MEASURES and (
        condition.field or condition.fields or condition.denominator
    ):
        add(where, "field", f"the '{measure}' measure reads no input field")
    if isinstance(threshold, str) and measure not in ("bamic_site", "region", "phase", "value"):
        add(f"{where}.threshold", "threshold_type", f"must not be text (got {threshold!r})")
    if condition.fallback is not None:
        if context != "criterion":
            add(f"{where}.fallback", "fallback", "a fallback belongs to a criterion's part")
        else:
            _check_condition(add, f"{where}.fallback", condition.fallback, context=context)
