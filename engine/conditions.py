"""Evaluating the protocol's conditions against one assessment: criteria and triggers as data.

A condition has three outcomes: passed (``True``), failed (``False``) or
not assessed (``None``, a value it needs is missing). Missing is never
passing (protocol section 1):

- a criterion is ``unmet`` as soon as one assessed part fails; otherwise
  ``not_assessed`` if fewer parts are assessed than it needs (all of them,
  unless the protocol sets ``min_assessed``) and no attestation decides;
  otherwise ``met``; and ``not_applicable`` when it belongs to the other
  region (section 3). ``carried_forward`` is decided by the rule network,
  which knows the signed phase (section 2.1);
- a safety trigger combines its conditions with three-valued logic (``any``
  is true if one part is true, false only if every part is false), so a
  missing value can neither raise nor silence a red flag; an unknown trigger
  is reported as "not checked". A condition may say what an unrecorded value
  counts as (``if_missing``), and ``absent`` / ``present`` test the recording
  itself.

Arithmetic follows section 3.1: decimals of the numbers as written, every
percentage rounded half up to one decimal before it is compared.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from engine.assessment import Assessment, Bilateral
from engine.measures import (
    asymmetry,
    deficit,
    limb_symmetry_index,
    percentage,
    round_percentage,
    to_decimal,
)
from rules.dictionary import READABLE_FIELDS
from rules.protocol import (
    AllOf,
    AnyOf,
    CaseValue,
    Condition,
    Criterion,
    MeasureSpec,
    ProfileLimit,
    Protocol,
    Trigger,
)

Status = Literal["met", "unmet", "not_assessed", "not_applicable", "carried_forward"]
STATUSES: tuple[Status, ...] = ("met", "unmet", "not_assessed", "not_applicable",
                                "carried_forward")
PASSING_STATUSES = frozenset({"met", "not_applicable", "carried_forward"})

__all__ = [
    "PASSING_STATUSES",
    "STATUSES",
    "Case",
    "CriterionResult",
    "PartResult",
    "Status",
    "TriggerResult",
    "evaluate_condition",
    "evaluate_criterion",
    "evaluate_trigger",
    "measure_value",
]


@dataclass(frozen=True, slots=True)
class Floors:
    """R5's day floors of one case (section 4.5), with the reasons for each day added."""

    sprint: int
    play: int
    grade_known: bool
    applied: tuple[str, ...]
    """Labels of the minimums and extra days that applied (``soleus``, ``R7`` …)."""


@dataclass(frozen=True, slots=True)
class Case:
    """What the conditions of one assessment are evaluated against."""

    assessment: Assessment
    protocol: Protocol
    exercise_pain_limit: int
    floors: Floors
    decided_phase: int | None = None

    @classmethod
    def of(cls, assessment: Assessment, protocol: Protocol) -> Case:
        profile = protocol.profile_by_id[assessment.profile]
        bare = cls(assessment=assessment, protocol=protocol,
                   exercise_pain_limit=profile.exercise_pain_limit,
                   floors=Floors(0, 0, True, ()))
        return cls(assessment=assessment, protocol=protocol,
                   exercise_pain_limit=profile.exercise_pain_limit,
                   floors=day_floors(bare))

    @property
    def sprint_day_floor(self) -> int:
        return self.floors.sprint

    @property
    def play_day_floor(self) -> int:
        return self.floors.play

    @property
    def previous_phase(self) -> int | None:
        """The number of the last signed phase (section 2.1), ``None`` without one."""
        previous = self.assessment.previous_phase
        return None if previous is None else self.protocol.phase_by_id[previous].number

    @property
    def previous_same_day(self) -> bool:
        """The last sign-off belongs to an assessment of the same day (R6)."""
        return self.assessment.previous_date == self.assessment.assessment_date

    def with_phase(self, phase: int) -> Case:
        if self.decided_phase == phase:
            return self
        return Case(self.assessment, self.protocol, self.exercise_pain_limit, self.floors,
                    phase)


def day_floors(case: Case) -> Floors:
    """Section 4.5: the sprint floor by BAMIC grade (an unknown grade uses the protocol's
    ``unknown_grade``), at least the minimums that apply, plus the extra days that apply;
    the play floor is the sprint floor plus ``play_after_sprint``. A condition of a
    minimum or extra day that cannot be settled does not apply."""
    floors = case.protocol.day_floors
    grade = case.assessment.bamic_grade_number
    days = floors.sprint_by_grade[str(grade) if grade is not None else floors.unknown_grade]
    applied: list[str] = []
    for minimum in floors.minimums:
        if evaluate_trigger(minimum.when, case).outcome and minimum.days > days:
            days = minimum.days
            applied.append(minimum.label)
    for extra in floors.extra_days:
        if evaluate_trigger(extra.when, case).outcome:
            days += extra.days
            applied.append(extra.label)
    return Floors(days, days + floors.play_after_sprint, grade is not None, tuple(applied))


class PartResult(NamedTuple):
    """The outcome of one condition: the value it measured against its threshold."""

    condition: Condition
    """The condition that decided (a part's fallback when the part itself could not)."""
    outcome: bool | None
    value: Any
    """What was compared: a Decimal for percentages (already rounded), else the raw value."""
    threshold: Any
    """The threshold with profile limits, case values and reference multiples resolved."""
    missing: tuple[str, ...]
    """Input fields the condition needed that were not assessed."""
    inputs: tuple[tuple[str, Any], ...]
    """The raw input values the condition read, by field path."""
    basis: str | None = None
    """Which way the value was measured (``measured``, ``self_rated``, ``attested``)."""

    @property
    def assessed(self) -> bool:
        return self.outcome is not None


@dataclass(slots=True)
class CriterionResult:
    criterion: Criterion
    status: Status
    parts: tuple[PartResult, ...]
    attestation: PartResult | None = None
    """The attestation, when it decided the status (C504)."""

    @property
    def passed(self) -> bool:
        return self.status in PASSING_STATUSES

    @property
    def basis(self) -> str | None:
        """How the deciding value was measured: the attestation's basis when it decided,
        else the first basis of an assessed part; ``None`` when not assessed."""
        if self.attestation is not None and self.attestation.assessed:
            return self.attestation.basis
        if self.status in ("not_assessed", "not_applicable"):
            return None
        return next((p.basis for p in self.parts if p.assessed and p.basis), None)

    @property
    def missing(self) -> tuple[str, ...]:
        paths = [path for part in self.parts for path in part.missing]
        if self.attestation is not None:
            paths.extend(self.attestation.missing)
        return tuple(dict.fromkeys(paths))

    def carried_forward(self) -> CriterionResult:
        return CriterionResult(self.criterion, "carried_forward", self.parts, self.attestation)


class TriggerResult(NamedTuple):
    outcome: bool | None
    parts: tuple[PartResult, ...]
    missing: tuple[str, ...]
    """The missing inputs that could still change the outcome (empty when it is known)."""
    reasons: tuple[PartResult, ...] = ()
    """When triggered: the parts that make it true (not the parts of a branch that failed)."""


def evaluate_criterion(criterion: Criterion, case: Case) -> CriterionResult:
    """Section 3: the status of one criterion (never ``carried_forward``; see the engine)."""
    if not criterion.applies_to(case.assessment.region):
        entry = _NOT_APPLICABLE.get(id(criterion))
        if entry is None or entry[0] is not criterion:
            entry = _NOT_APPLICABLE[id(criterion)] = (criterion, CriterionResult(
                criterion, "not_applicable",
                tuple(_unevaluated(part) for part in criterion.parts)))
        return entry[1]
    evaluated = []
    failed = False
    assessed = 0
    for condition in criterion.parts:
        part = evaluate_condition(condition, case)
        evaluated.append(part)
        if part.outcome is not None:
            assessed += 1
            failed = failed or part.outcome is False
    parts = tuple(evaluated)
    if failed:
        return CriterionResult(criterion, "unmet", parts)
    if assessed >= (criterion.min_assessed or len(parts)):
        return CriterionResult(criterion, "met", parts)
    if criterion.attestation is not None:
        attested = evaluate_condition(criterion.attestation, case)
        if attested.outcome is not None:
            return CriterionResult(criterion, "met" if attested.outcome else "unmet", parts,
                                   attested)
        return CriterionResult(criterion, "not_assessed", parts, attested)
    return CriterionResult(criterion, "not_assessed", parts)


_NOT_APPLICABLE: dict[int, tuple[Criterion, CriterionResult]] = {}
"""A criterion's result where it does not apply: the same for every case, so made once
(nothing changes a result; carrying forward makes a new one)."""


def _unevaluated(condition: Condition) -> PartResult:
    return PartResult(condition, None, None, _static_threshold(condition), (), ())


def _static_threshold(condition: Condition) -> Any:
    threshold = condition.threshold
    return None if isinstance(threshold, ProfileLimit | CaseValue) else threshold


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
    """One condition; a part whose inputs are missing falls back to its ``fallback``."""
    entry = _COMPILED.get(id(condition))
    result = (entry[1] if entry is not None and entry[0] is condition
              else _compiled(condition))(case)
    if result.outcome is None and condition.fallback is not None and result.missing:
        return evaluate_condition(condition.fallback, case)
    return result


_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
            "==": operator.eq, "!=": operator.ne}
_COMPILED: dict[int, tuple[Condition, Callable[[Case], PartResult]]] = {}


def _compiled(condition: Condition) -> Callable[[Case], PartResult]:
    """The condition's evaluator, built once per condition of a loaded protocol."""
    entry = _COMPILED.get(id(condition))
    if entry is None or entry[0] is not condition:
        entry = _COMPILED[id(condition)] = (condition, _compile(condition))
    return entry[1]


def _compile(condition: Condition) -> Callable[[Case], PartResult]:
    """A fast path for the common shapes (a field against a fixed threshold, a limb
    symmetry index); everything else takes the general path. Both compare exactly as
    section 3.1 says: integers and the shortest decimal of a float compare the same way as
    their decimals; percentages are rounded half up to one decimal first, in decimals."""
    op, threshold, measure = condition.op, condition.threshold, condition.measure
    static = not isinstance(threshold, ProfileLimit | CaseValue) and op in _COMPARE \
        and condition.if_missing is None
    compare = _COMPARE.get(op)
    path = condition.field
    basis = condition.basis
    if static and measure == "value" and path is not None:
        field = READABLE_FIELDS.get(path)
        if field is not None and not field.is_percentage:
            assert compare is not None

            def value_part(case: Case) -> PartResult:
                raw = case.assessment.values.get(path)
                if raw is None:
                    return PartResult(condition, None, None, threshold, (path,), (), basis)
                return PartResult(condition, bool(compare(raw, threshold)),  # type: ignore[arg-type]
                                  raw, threshold,
                                  (), ((path, raw),), basis)

            return value_part
    if static and measure == "lsi" and path is not None and not isinstance(threshold, bool):
        assert compare is not None
        limit = to_decimal(threshold)  # type: ignore[arg-type]

        def lsi_part(case: Case) -> PartResult:
            raw = case.assessment.values.get(path)
            if raw is None:
                return PartResult(condition, None, None, threshold, (path,), (), basis)
            value = limb_symmetry_index(raw.injured, raw.uninjured)
            return PartResult(condition, bool(compare(value, limit)), value, threshold, (),
                              ((path, {"injured": raw.injured, "uninjured": raw.uninjured}),),
                              basis)

        return lsi_part
    return lambda case: _evaluate_one(condition, case)


def _evaluate_one(condition: Condition, case: Case) -> PartResult:
    op = condition.op
    value, missing, inputs, basis = measure_value(condition, case)
    if op in ("absent", "present"):
        recorded = not missing
        return PartResult(condition, recorded if op == "present" else not recorded,
                          value, None, (), inputs, basis)
    threshold = _resolve_threshold(condition, case)
    if condition.measure == "times" and not missing:
        denominator = _read(case, condition.denominator or "")
        threshold = to_decimal(threshold) * to_decimal(denominator)
    if missing:
        if condition.if_missing is not None:
            return PartResult(condition, condition.if_missing, None, threshold, (), inputs, basis)
        return PartResult(condition, None, None, threshold, missing, inputs, basis)
    if value is _PASSES:
        return PartResult(condition, True, None, threshold, (), inputs, basis)
    return PartResult(condition, _compare(value, op, threshold), value, threshold, (), inputs,
                      basis)


_PASSES: Any = object()
"""The value of a ratio whose zero reference passes (``zero_reference: passes``)."""


def _resolve_threshold(condition: Condition, case: Case) -> Any:
    threshold = condition.threshold
    if isinstance(threshold, ProfileLimit):
        return case.exercise_pain_limit
    if isinstance(threshold, CaseValue):
        return case.floors.sprint if threshold.case == "sprint_day_floor" else case.floors.play
    if condition.measure == "phase":
        return case.protocol.phase_by_id[str(threshold)].number
    return threshold


def _read(case: Case, path: str) -> Any:
    values = case.assessment.values
    if path in values:
        return values[path]
    head, _, side = path.rpartition(".")
    bilateral = values.get(head)
    if isinstance(bilateral, Bilateral):
        return bilateral.injured if side == "injured" else bilateral.uninjured
    return None


_Measured = tuple[Any, tuple[str, ...], tuple[tuple[str, Any], ...], str | None]


def measure_value(spec: MeasureSpec, case: Case) -> _Measured:
    """(value, missing fields, inputs read, basis) of one measure of the assessment."""
    measure = spec.measure
    basis = spec.basis
    if measure in ("value", "lsi", "asymmetry", "deficit", "injured"):
        path = spec.field
        assert path is not None
        raw = _read(case, path)
        if raw is None:
            return None, (path,), (), basis
        inputs: tuple[tuple[str, Any], ...] = ((path, _plain(raw)),)
        if measure == "value":
            field = READABLE_FIELDS.get(path)
            if field is not None and field.is_percentage and not isinstance(raw, bool):
                return round_percentage(raw), (), inputs, basis
            return raw, (), inputs, basis
        assert isinstance(raw, Bilateral)
        if measure == "lsi":
            return limb_symmetry_index(raw.injured, raw.uninjured), (), inputs, basis
        if measure == "asymmetry":
            return asymmetry(raw.injured, raw.uninjured), (), inputs, basis
        if measure == "deficit":
            return deficit(raw.injured, raw.uninjured), (), inputs, basis
        return raw.injured, (), inputs, basis
    if measure in ("ratio", "times"):
        assert spec.field is not None and spec.denominator is not None
        read = ((spec.field, _read(case, spec.field)),
                (spec.denominator, _read(case, spec.denominator)))
        missing = tuple(p for p, v in read if v is None)
        inputs = tuple((p, v) for p, v in read if v is not None)
        if missing:
            return None, missing, inputs, basis
        numerator, denominator = read[0][1], read[1][1]
        if measure == "times":
            return numerator, (), inputs, basis
        if to_decimal(denominator) == 0:
            zero = getattr(spec, "zero_reference", None)
            if zero == "passes":
                return _PASSES, (), inputs, basis
            return None, (spec.denominator,), inputs, basis
        return percentage(numerator, denominator), (), inputs, basis
    if measure == "sum":
        assert spec.fields is not None
        read_values = [(path, _read(case, path)) for path in spec.fields]
        missing = tuple(path for path, value in read_values if value is None)
        inputs = tuple((path, value) for path, value in read_values if value is not None)
        if missing:
            return None, missing, inputs, basis
        return sum(value for _, value in read_values), (), inputs, basis
    if measure == "first_of":
        assert spec.first_of is not None
        all_missing: list[str] = []
        for alternative in spec.first_of:
            value, missing, inputs, alt_basis = measure_value(alternative, case)
            if not missing:
                return value, (), inputs, alt_basis
            all_missing.extend(missing)
        return None, tuple(dict.fromkeys(all_missing)), (), None
    assessment = case.assessment
    if measure == "days_since_injury":
        return assessment.days_since_injury, (), (
            ("injury.date", assessment.injury_date.isoformat()),
            ("assessment.date", assessment.assessment_date.isoformat())), None
    if measure in ("bamic_grade", "bamic_site"):
        grade = assessment.bamic_grade
        if grade is None:
            return None, ("injury.bamic_grade",), (), None
        value = assessment.bamic_grade_number if measure == "bamic_grade" else \
            assessment.bamic_site
        # a plain grade 4 has no site letter: it is not 'c', and nothing is missing
        return value, (), (("injury.bamic_grade", grade),), None
    if measure == "region":
        return assessment.region, (), (("injury.region", assessment.region),), None
    if measure == "phase":
        if case.decided_phase is None:
            raise RuntimeError("a rule read the decided phase before it was decided")
        return case.decided_phase, (), (), None
    raise AssertionError(f"unknown measure {measure}")  # pragma: no cover


def _plain(value: Any) -> Any:
    if isinstance(value, Bilateral):
        return {"injured": value.injured, "uninjured": value.uninjured}
    return value


def _compare(value: Any, op: str, threshold: Any) -> bool:
    if isinstance(threshold, bool | str) or isinstance(value, bool | str):
        if op == "==":
            return bool(value == threshold)
        if op == "!=":
            return bool(value != threshold)
        raise ValueError(f"cannot compare {value!r} {op} {threshold!r}")  # pragma: no cover
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
    if op == "!=":
        return left != right
    return left == right


def floor_date(case: Case, days: int) -> dt.date:
    """The date a day floor is reached: injury date + ``days``."""
    return case.assessment.injury_date + dt.timedelta(days=days)
