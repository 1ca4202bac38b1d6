"""Properties that must hold for every assessment, checked with hypothesis.

The assessments are drawn around the complete "play" assessments of
``support``: each test keeps its passing value, is left out, or takes any
value of its range, so that every phase is reached often.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support import REMOVE, calf_play, hamstring_play, varied

from engine import decide
from rules import default_protocol
from rules.dictionary import FIELDS_BY_PATH, INPUT_FIELDS, MEASURE_GROUPS, FieldKind, InputField

settings.register_profile("sprintclear", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("sprintclear"),
                          max_examples=3000)
settings.load_profile(os.environ.get("SPRINTCLEAR_HYPOTHESIS_PROFILE", "sprintclear"))

MEASURES = [spec for spec in INPUT_FIELDS if spec.group in MEASURE_GROUPS]
CRITERION_FIELDS = sorted({path for c in default_protocol().criteria for path in c.field_paths()})
RED_FLAG_FIELDS = {path for rule in default_protocol().safety_rules if rule.effect.is_red_flag
                   for condition in rule.conditions for path in condition.field_paths()}


def _decimals(low: float, high: float, places: int) -> st.SearchStrategy[float]:
    return st.decimals(min_value=Decimal(str(low)), max_value=Decimal(str(high)),
                       places=places).map(float)


def _number(spec: InputField) -> st.SearchStrategy[float]:
    assert spec.minimum is not None and spec.maximum is not None
    return _decimals(spec.minimum, spec.maximum, 2)


def any_value(spec: InputField) -> st.SearchStrategy[Any]:
    """Any valid value of a measure field."""
    if spec.kind is FieldKind.BOOLEAN:
        return st.booleans()
    if spec.kind is FieldKind.INTEGER:
        return st.integers(int(spec.minimum or 0), int(spec.maximum or 0))
    if spec.kind is FieldKind.NUMBER:
        if spec.path == "sprint.pre_injury_max_velocity_mps":
            return _decimals(5, 13, 2)
        return _number(spec)
    assert spec.kind is FieldKind.BILATERAL
    top = int(spec.maximum or 0)
    if spec.integer:
        uninjured = st.integers(1, top)
        return uninjured.flatmap(lambda u: st.tuples(st.integers(0, min(top, 2 * u)), st.just(u)))
    return _decimals(1, top, 1).flatmap(
        lambda u: st.tuples(_decimals(0, min(top, 2 * u), 1), st.just(u)))


@st.composite
def assessments(draw: st.DrawFn) -> dict[str, Any]:
    """A valid assessment: a complete passing one with up to ten tests left out or set to
    any value of their range."""
    base = draw(st.sampled_from([hamstring_play, calf_play]))()
    changes: dict[str, Any] = {
        "assessment.profile": draw(st.sampled_from(["standard", "conservative"])),
        "injury.bamic_grade": draw(st.sampled_from(["0a", "1b", "2a", "2c", "3b", "3c", REMOVE])),
        "injury.date": draw(st.sampled_from(["2026-01-01", "2026-02-20", "2026-03-01"])),
        "previous.phase": draw(st.sampled_from(["protect", "load", "run", "sprint", REMOVE])),
    }
    touched = draw(st.lists(st.sampled_from(MEASURES), max_size=10, unique=True))
    for spec in touched:
        if draw(st.booleans()):
            changes[spec.path] = REMOVE
        else:
            changes[spec.path] = draw(any_value(spec))
    return varied(base, changes)


def _get(document: dict[str, Any], path: str) -> Any:
    group, name = path.split(".", 1)
    return (document.get(group) or {}).get(name)


# ---- improving a measure -----------------------------------------------------------

BETTER_LOWER = {p for p in FIELDS_BY_PATH if p.startswith("pain.")} | {
    "flexibility.h_test_insecurity", "sprint.gct_asymmetry_pct"}
BETTER_FALSE = {"flexibility.ake_discomfort", "signs.swelling_increasing"}
CLOSER_TO_OTHER_SIDE = {"strength.nordic_n"}
REFERENCES = {"sprint.pre_injury_max_velocity_mps"}  # a baseline, not a result to improve


@st.composite
def improvement(draw: st.DrawFn, document: dict[str, Any], path: str) -> Any:
    """A value of ``path`` at least as good as the one in ``document``, by clinical sense."""
    spec, current = FIELDS_BY_PATH[path], _get(document, path)
    if spec.kind is FieldKind.BOOLEAN:
        return path not in BETTER_FALSE
    if spec.kind is FieldKind.BILATERAL:
        injured, uninjured = current["injured"], current["uninjured"]
        if path in CLOSER_TO_OTHER_SIDE:
            low, high = sorted((injured, uninjured))
            return (draw(st.floats(low, high)), uninjured)
        top = spec.maximum or 0
        value = draw(st.integers(int(injured), int(top)) if spec.integer
                     else st.floats(injured, top))
        return (value, uninjured)
    low, high = spec.minimum or 0, spec.maximum or 0
    if path in BETTER_LOWER:
        high = current
    else:
        low = current
    if spec.kind is FieldKind.INTEGER:
        return draw(st.integers(int(low), int(high)))
    return draw(st.floats(low, high))


@given(data=st.data())
def test_improving_a_single_measure_never_lowers_the_criteria_phase(data: st.DataObject) -> None:
    """A better value of one test (lower pain, more symmetry, ...) never lowers the criteria
    phase."""
    document = data.draw(assessments())
    assessed = [p for p in CRITERION_FIELDS
                if _get(document, p) is not None and p not in REFERENCES]
    if not assessed:
        return
    path = data.draw(st.sampled_from(assessed))
    better = varied(document, {path: data.draw(improvement(document, path))})
    before, after = decide(document), decide(better)
    assert after.criteria_phase.number >= before.criteria_phase.number, path


# ---- flare triggers ----------------------------------------------------------------

@given(document=assessments(), trigger=st.sampled_from(["next_morning", "exercise", "running"]),
       severity=st.integers(0, 5))
def test_adding_a_flare_trigger_never_raises_the_phase(document: dict[str, Any], trigger: str,
                                                       severity: int) -> None:
    """Next-morning pain ≥ 3, or exercise/running pain above L, never raises the phase."""
    limit = 0 if document["assessment"]["profile"] == "conservative" else 4
    value = min(10, (3 if trigger == "next_morning" else limit + 1) + severity)
    flared = varied(document, {f"pain.{trigger}": value})
    before, after = decide(document), decide(flared)
    assert after.phase.number <= before.phase.number
    assert after.phase.number <= max(1, after.criteria_phase.number - 1)
    assert {"R3", "R4"} & {f.id for f in after.red_flags}


# ---- C503 ---------------------------------------------------------------------------

@given(document=assessments(),
       pain=st.sampled_from(["palpation", "isometric", "stretch", "sprint"]),
       value=st.integers(1, 10))
def test_pain_on_testing_is_never_cleared_to_play(document: dict[str, Any], pain: str,
                                                  value: int) -> None:
    """Any palpation, isometric, stretch or sprint pain above 0 rules out play."""
    decision = decide(varied(document, {f"pain.{pain}": value}))
    assert not decision.cleared_to_play
    assert decision.phase.number < 6


@given(data=st.data())
def test_cleared_to_play_needs_every_criterion_and_no_red_flag(data: st.DataObject) -> None:
    """Whenever an assessment is cleared to play, every criterion is met or not applicable
    and no red flag stands (only such assessments are kept: none found fails the test)."""
    decision = decide(data.draw(assessments()))
    assume(decision.cleared_to_play)
    assert all(c.status in ("met", "not_applicable") for c in decision.criteria)
    assert not decision.red_flags


# ---- missing is not passing --------------------------------------------------------

def _failing_value(path: str, document: dict[str, Any]) -> Any:
    """A value that fails every criterion reading ``path`` without raising a red flag."""
    spec = FIELDS_BY_PATH[path]
    if spec.kind is FieldKind.BOOLEAN:
        return path in BETTER_FALSE
    if spec.kind is FieldKind.BILATERAL:
        return (20, 40)
    if path in BETTER_LOWER:
        return {"pain.isometric": 5, "pain.exercise": 5}.get(path, 1 if path.startswith(
            "pain.") else 50)
    return {"sprint.max_velocity_mps": 1.0, "sprint.pre_injury_max_velocity_mps": 13.0}.get(
        path, 0)


@given(data=st.data())
def test_a_missing_test_never_decides_higher_than_the_same_test_failed(
        data: st.DataObject) -> None:
    """Leaving a test out never gives a higher phase than doing it and failing it.

    For the criteria phase this holds for every test. For the decided phase
    it holds for every test whose failing value does not itself raise a red
    flag; the one exception is exercise pain, where failing C205 (> L) is
    also R4's flare trigger, so the failed case steps one phase further down.
    A missing exercise pain is then reported under ``safety_not_checked``.

    A test is only "missing" when a criterion needs it: C404 asks for at
    least two hop tests, so a third hop that was not done is not missing
    (while a third hop done and failed makes C404 unmet, as the protocol says).
    """
    document = data.draw(assessments())
    path = data.draw(st.sampled_from(CRITERION_FIELDS))
    if _optional_here(document, path):
        return
    missing = decide(varied(document, {path: REMOVE}))
    failed = decide(varied(document, {path: _failing_value(path, document)}))
    assert missing.criteria_phase.number <= failed.criteria_phase.number, path
    if path not in RED_FLAG_FIELDS or path == "pain.rest":
        assert missing.phase.number <= failed.phase.number, path
    else:
        assert "R4" in {item.id for item in missing.safety_not_checked} or \
            missing.phase.number <= failed.phase.number


def _optional_here(document: dict[str, Any], path: str) -> bool:
    """True when every criterion reading ``path`` already has enough other parts assessed."""
    region = document["injury"]["region"]
    readers = [c for c in default_protocol().criteria
               if path in c.field_paths() and c.applies_to(region)]
    for item in readers:
        if item.min_assessed is None:
            return False
        others = [p for p in item.field_paths() if p != path and _get(document, p) is not None]
        if len(others) < item.min_assessed:
            return False
    return True


# ---- reproducibility ---------------------------------------------------------------

@given(document=assessments())
def test_same_input_always_gives_the_same_decision_json(document: dict[str, Any]) -> None:
    """Deciding an assessment again, or after a JSON round trip, gives byte-identical JSON."""
    first = decide(document).to_json()
    assert decide(document).to_json() == first
    assert decide(json.loads(json.dumps(document))).to_json() == first
