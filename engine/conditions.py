"""Evaluating the protocol's conditions against one assessment.

A condition has three outcomes: passed (``True``), failed (``False``) or
not assessed (``None``, a value it needs is missing). Missing is never
passing:

- a criterion is ``unmet`` as soon as one assessed part fails; otherwise
  ``not_assessed`` if fewer parts are assessed than it needs (all of them,
  unless the protocol sets ``min_assessed``); otherwise ``met``; and
  ``not_applicable`` when it belongs to the other region;
- a safety trigger combines its conditions with three-valued logic (``any``
  is true if one part is true, false only if every part is false), so a
  missing value can neither raise nor silence a red flag; an unknown trigger
  is reported as "not checked".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from engine.assessment import Assessment, Bilateral
from engine.measures import (
    asymmetry,
    deficit,
    limb_symmetry_index,
    percentage,
    round_percentage,
    to_decimal,
)
from rules.dictionary import FIELDS_BY_PATH
from rules.protocol import (
    AllOf,
    AnyOf,
    CaseValue,
    Condition,
    Criterion,
    ProfileLimit,
    Protocol,
    Trigger,
)

Status = Literal["met", "unmet", "not_assessed", "not_applicable"]
STATUSES: tuple[Status, ...] = ("met", "unmet", "not_assessed", "not_applicable")
PASSING_STATUSES = frozenset({"met", "not_applicable"})


@dataclass(frozen=True, slots=True)
class Case:
    """What the conditions of one assessment are evaluated against."""

    assessment: Assessment
    protocol: Protocol
    exercise_pain_limit: int
    sprint_day_floor: int | None
    decided_phase: int | None = None

    @classmethod
    def of(cls, assessment: Assessment, protocol: Protocol) -> Case:
        profile = protocol.profile_by_id[assessment.profile]
        return cls(
            assessment=assessment,
            protocol=protocol,
            exercise_pain_limit=profile.exercise_pain_limit,
            sprint_day_floor=sprint_day_floor(protocol, assessment),
        )

    @property
    def previous_phase(self) -> int | None:
        previous = self.assessment.previous_phase
        return None if previous is None else self.protocol.phase_by_id[previous].number


def sprint_day_floor(protocol: Protocol, assessment: Assessment) -> int | None:
    """R5's usual minimum days from injury to sprint; ``None`` when the grade is unknown."""
    grade, site = assessment.bamic_grade_number, assessment.bamic_site
    if grade is None:
        return None
    floors = protocol.sprint_day_floors
    days = floors.by_grade[str(grade)]
    if site == "c":
        days = max(days, floors.intratendinous)
    muscle = assessment.muscle
    if muscle is not None:
        days += floors.extra_days_by_muscle.get(muscle, 0)
    else:
        days += floors.extra_days_unknown_muscle.get(assessment.region, 0)
    return days


@dataclass(frozen=True, slots=True)
class PartResult:
    """The outcome of one condition: the value it measured against its threshold."""

    condition: Condition
    outcome: bool | None
    value: Any
    """What was compared: a Decimal for percentages (already rounded), else the raw value."""
    threshold: Any
    """The threshold with profile limits and case values resolved."""
    missing: tuple[str, ...]
    """Input fields the condition needed that were not assessed."""
    inputs: tuple[tuple[str, Any], ...]
    """The raw input values the condition read, by field path."""

    @property
    def assessed(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: Criterion
    status: Status
    parts: tuple[PartResult, ...]

    @property
    def passed(self) -> bool:
        return self.status in PASSING_STATUSES

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(path for part in self.parts for path in part.missing))


@dataclass(frozen=True, slots=True)
class TriggerResult:
    outcome: bool | None
    parts: tuple[PartResult, ...]
    missing: tuple[str, ...]
    """The missing inputs that could still change the outcome (empty when it is known)."""
    reasons: tuple[PartResult, ...] = ()
    """When triggered: the parts that make it true (not the parts of a branch that failed)."""


def evaluate_criterion(criterion: Criterion, case: Case) -> CriterionResult:
    parts = tuple(evaluate_condition(part, case) for part in criterion.parts)
    status: Status
    if not criterion.applies_to(case.assessment.region):
        status = "not_applicable"
    elif any(part.outcome is False for part in parts):
        status = "unmet"
    elif sum(part.assessed for part in parts) < (criterion.min_assessed or len(parts)):
        status = "not_assessed"
    else:
        status = "met"
    return CriterionResult(criterion, status, parts)


def evaluate_trigger(trigger: Trigger, case: Case) -> TriggerResult:
    """Three-valued: ``any`` is true if one part is, ``all`` false if one part is."""
    if isinstance(trigger, Condition):
        part = evaluate_condition(trigger, case)
        return TriggerResult(part.outcome, (part,), part.missing,
                             (part,) if part.outcome else ())
    children = [evaluate_trigger(child, case) for child in
                (trigger.any if isinstance(trigger, AnyOf) else trigger.all)]
    outcomes = [child.outcome for child in children]
    parts = tuple(part for child in children for part in child.parts)
    decisive = not isinstance(trigger, AllOf)  # the outcome one child settles on its own
    outcome: bool | None
    if decisive in outcomes:
        outcome = decisive
    elif None in outcomes:
        outcome = None
    else:
        outcome = not decisive
    missing = () if outcome is not None else tuple(dict.fromkeys(
        path for child in children if child.outcome is None for path in child.missing))
    reasons = tuple(part for child in children if child.outcome for part in child.reasons) \
        if outcome else ()
    return TriggerResult(outcome, parts, missing, reasons)


# ---- one condition ---------------------------------------------------------------


def evaluate_condition(condition: Condition, case: Case) -> PartResult:
    value, missing, inputs = _measure(condition, case)
    threshold = _resolve_threshold(condition, case)
    if threshold is None and not missing:
        missing = ("injury.bamic_grade",)  # the only case value that can be unknown
    if missing:
        return PartResult(condition, None, None, threshold, missing, inputs)
    return PartResult(condition, _compare(value, condition.op, threshold), value, threshold,
                      (), inputs)


def _resolve_threshold(condition: Condition, case: Case) -> Any:
    threshold = condition.threshold
    if isinstance(threshold, ProfileLimit):
        return case.exercise_pain_limit
    if isinstance(threshold, CaseValue):
        return case.sprint_day_floor
    if condition.measure == "phase":
        return case.protocol.phase_by_id[str(threshold)].number
    return threshold


_Measured = tuple[Any, tuple[str, ...], tuple[tuple[str, Any], ...]]


def _measure(condition: Condition, case: Case) -> _Measured:
    values = case.assessment.values
    measure = condition.measure

    def read(path: str) -> Any:
        return values[path]

    if measure in ("value", "lsi", "asymmetry", "deficit", "injured"):
        path = condition.field
        assert path is not None
        raw = read(path)
        if raw is None:
            return None, (path,), ()
        inputs: tuple[tuple[str, Any], ...] = ((path, _plain(raw)),)
        if measure == "value":
            spec = FIELDS_BY_PATH[path]
            return (round_percentage(raw) if spec.is_percentage else raw), (), inputs
        assert isinstance(raw, Bilateral)
        if measure == "lsi":
            return limb_symmetry_index(raw.injured, raw.uninjured), (), inputs
        if measure == "asymmetry":
            return asymmetry(raw.injured, raw.uninjured), (), inputs
        if measure == "deficit":
            return deficit(raw.injured, raw.uninjured), (), inputs
        return raw.injured, (), inputs
    if measure == "ratio":
        assert condition.field is not None and condition.denominator is not None
        numerator, denominator = read(condition.field), read(condition.denominator)
        missing = tuple(p for p, v in ((condition.field, numerator),
                                       (condition.denominator, denominator)) if v is None)
        inputs = tuple((p, v) for p, v in ((condition.field, numerator),
                                          (condition.denominator, denominator)) if v is not None)
        if missing:
            return None, missing, inputs
        return percentage(numerator, denominator), (), inputs
    if measure == "sum":
        assert condition.fields is not None
        read_values = [(path, read(path)) for path in condition.fields]
        missing = tuple(path for path, value in read_values if value is None)
        inputs = tuple((path, value) for path, value in read_values if value is not None)
        if missing:
            return None, missing, inputs
        return sum(value for _, value in read_values), (), inputs
    assessment = case.assessment
    if measure == "days_since_injury":
        return assessment.days_since_injury, (), (
            ("injury.date", assessment.injury_date.isoformat()),
            ("assessment.date", assessment.assessment_date.isoformat()))
    if measure in ("bamic_grade", "bamic_site"):
        grade = assessment.bamic_grade
        if grade is None:
            return None, ("injury.bamic_grade",), ()
        value = assessment.bamic_grade_number if measure == "bamic_grade" else \
            assessment.bamic_site
        return value, (), (("injury.bamic_grade", grade),)
    if measure == "region":
        return assessment.region, (), (("injury.region", assessment.region),)
    if measure == "phase":
        if case.decided_phase is None:
            raise RuntimeError("a rule read the decided phase before it was decided")
        return case.decided_phase, (), ()
    if measure == "phase_advance":
        if case.decided_phase is None:
            raise RuntimeError("a rule read the decided phase before it was decided")
        previous = case.previous_phase
        if previous is None:
            return None, ("previous.phase",), ()
        return case.decided_phase - previous, (), (("previous.phase", assessment.previous_phase),)
    raise AssertionError(f"unknown measure {measure}")  # pragma: no cover


def _plain(value: Any) -> Any:
    if isinstance(value, Bilateral):
        return {"injured": value.injured, "uninjured": value.uninjured}
    return value


def _compare(value: Any, op: str, threshold: Any) -> bool:
    if isinstance(threshold, bool) or isinstance(value, bool) or isinstance(threshold, str):
        if op != "==":  # pragma: no cover - the protocol validator forbids it
            raise ValueError(f"cannot compare {value!r} {op} {threshold!r}")
        return bool(value == threshold)
    left: Decimal = to_decimal(value)
    right: Decimal = to_decimal(threshold)
    if op == ">=":
        return left >= right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    if op == "<":
        return left < right
    return left == right
