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

from engine import decide, evaluator_for
from rules import default_protocol
from rules.dictionary import FIELDS_BY_PATH, INPUT_FIELDS, MEASURE_GROUPS, FieldKind, InputField

settings.register_profile("sprintclear", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("sprintclear"),
                          max_examples=3000)
settings.load_profile(os.environ.get("SPRINTCLEAR_HYPOTHESIS_PROFILE", "sprintclear"))

MEASURES = [spec for spec in INPUT_FIELDS if spec.group in MEASURE_GROUPS]
CRITERION_FIELDS = sorted({path for c in default_protocol().criteria for path in c.field_paths()
                           if path in FIELDS_BY_PATH})
SCREENING = default_protocol().screening
PHASES = ["protect", "load", "run", "sprint", "train", "play"]
REFERENCE_RANGES = {"sprint.pre_injury_max_velocity_mps": (5, 13),
                    "strength.nordic_pre_injury_n": (150, 600)}


def _decimals(low: float, high: float, places: int) -> st.SearchStrategy[float]:
    return st.decimals(min_value=Decimal(str(low)), max_value=Decimal(str(high)),
                       places=places).map(float)


def _number(spec: InputField) -> st.SearchStrategy[float]:
    assert spec.minimum is not None and spec.maximum is not None
    if spec.path in REFERENCE_RANGES:
        return _decimals(*REFERENCE_RANGES[spec.path], 2)
    if spec.zero_reference_allowed:
        return st.one_of(st.just(0.0), _decimals(1, spec.maximum, 1))
    return _decimals(spec.minimum, spec.maximum, 2)


def any_value(spec: InputField) -> st.SearchStrategy[Any]:
    """Any valid value of a measure field."""
    if spec.kind is FieldKind.BOOLEAN:
        return st.booleans()
    if spec.kind is FieldKind.INTEGER:
        return st.integers(int(spec.minimum or 0), int(spec.maximum or 0))
    if spec.kind is FieldKind.NUMBER:
        return _number(spec)
    assert spec.kind is FieldKind.BILATERAL
    top = int(spec.maximum or 0)
    if spec.integer:
        uninjured = st.integers(1, top)
        return uninjured.flatmap(lambda u: st.tuples(st.integers(0, min(top, 2 * u)), st.just(u)))
    return _decimals(1, top, 1).flatmap(
        lambda u: st.tuples(_decimals(0, min(top, 2 * u), 1), st.just(u)))


@st.composite
def assessments(draw: st.DrawFn, signed: bool | None = None,
                signed_phases: tuple[str, ...] = tuple(PHASES),
                max_touched: int = 10) -> dict[str, Any]:
    """A valid assessment: a complete passing one (signed at train) with another signed
    phase or none, and up to ten tests left out or set to any value of their range."""
    base = draw(st.sampled_from([hamstring_play, calf_play]))()
    has_previous = draw(st.booleans()) if signed is None else signed
    changes: dict[str, Any] = {
        "assessment.profile": draw(st.sampled_from(["standard", "conservative"])),
        "injury.bamic_grade": draw(st.sampled_from(["0a", "1b", "2a", "2c", "3b", REMOVE])),
        "injury.date": draw(st.sampled_from(["2026-01-01", "2026-02-20", "2026-03-01"])),
        "previous": REMOVE,
    }
    if has_previous:
        changes.pop("previous")
        changes["previous.phase"] = draw(st.sampled_from(signed_phases))
        changes["previous.date"] = draw(st.sampled_from(["2026-03-01", "2026-03-02"]))
    touched = draw(st.lists(st.sampled_from(MEASURES), max_size=max_touched, unique=True))
    for spec in touched:
        if draw(st.booleans()):
            changes[spec.path] = REMOVE
        else:
            changes[spec.path] = draw(any_value(spec))
    return varied(base, changes)


def _get(document: dict[str, Any], path: str) -> Any:
    group, name = path.split(".", 1)
    return (document.get(group) or {}).get(name)


def _signed(document: dict[str, Any]) -> int | None:
    phase = (document.get("previous") or {}).get("phase")
    return None if phase is None else PHASES.index(phase) + 1


# ---- one signed step at a time (R6) -------------------------------------------------------

@given(document=assessments())
def test_phase_is_at_most_one_above_the_signed_phase(document: dict[str, Any]) -> None:
    """phase ≤ previous + 1; without a signed phase, phase ≤ run (R6)."""
    decision = decide(document)
    signed = _signed(document)
    assert decision.phase.number <= (3 if signed is None else signed + 1)


# ---- flares ------------------------------------------------------------------------------

@given(document=assessments(signed=True),
       trigger=st.sampled_from(["next_morning", "exercise", "running"]),
       severity=st.integers(0, 5))
def test_a_flare_never_yields_a_phase_above_the_signed_phase(
        document: dict[str, Any], trigger: str, severity: int) -> None:
    """With a flare trigger the phase is at most one below the signed phase (protect at
    least), and never above the same input with that pain recorded below the trigger (a
    pain that was not recorded at all may hold lower still: R13)."""
    limit = 0 if document["assessment"]["profile"] == "conservative" else 4
    value = min(10, (3 if trigger == "next_morning" else limit + 1) + severity)
    flared = varied(document, {f"pain.{trigger}": value})
    before, after = decide(document), decide(flared)
    signed = _signed(flared)
    assert signed is not None
    assert after.phase.number <= max(1, signed - 1)
    if _get(document, f"pain.{trigger}") is not None:
        assert after.phase.number <= before.phase.number
    assert {"R3", "R4"} & {f.id for f in after.red_flags}


# ---- screening (R13) ------------------------------------------------------------------------

def _benign(path: str) -> Any:
    return False if path.startswith("signs.") else 0


@given(document=assessments(), index=st.integers(0, len(SCREENING) - 1))
def test_a_screen_not_recorded_is_never_better_than_a_clear_screen(
        document: dict[str, Any], index: int) -> None:
    """Removing a screening field never gives a higher phase than recording it clear
    (0 pain, sign absent): missing is not passing."""
    path = SCREENING[index].field
    missing = decide(varied(document, {path: REMOVE}))
    clear = decide(varied(document, {path: _benign(path)}))
    assert missing.phase.number <= clear.phase.number


@given(document=assessments(), data=st.data())
def test_removing_a_first_level_screen_never_raises_the_phase(
        document: dict[str, Any], data: st.DataObject) -> None:
    """Removing a screen needed from load (rest pain, swelling, the region's sign) never
    raises the phase, whatever was recorded.

    The screens needed only from run, sprint or train are different by the letter of
    section 4.3 (see test_a_pain_that_matters_only_later_does_not_hold_an_earlier_phase):
    an athlete at load has not run, so a missing next-morning pain does not hold them
    there, while a recorded flare does step them back.
    """
    region = document["injury"]["region"]
    fields = [s.field for s in SCREENING if s.from_phase == "load"
              and s.region in ("both", region)]
    path = data.draw(st.sampled_from(fields))
    assert decide(varied(document, {path: REMOVE})).phase.number <= decide(document).phase.number


def test_a_pain_that_matters_only_later_does_not_hold_an_earlier_phase() -> None:
    """By section 4.3 a missing next-morning pain holds only from run: at criteria phase
    load it holds nothing, while a recorded flare (R3) steps back from load to protect."""
    document = varied(hamstring_play(), {"running.max_pain_free_speed_pct": 60,
                                         "previous.phase": "load"})
    assert decide(document).phase.id == "load"
    assert decide(varied(document, {"pain.next_morning": REMOVE})).phase.id == "load"
    assert decide(varied(document, {"pain.next_morning": 5})).phase.id == "protect"


# ---- cleared to play -------------------------------------------------------------------------

@given(data=st.data())
def test_cleared_to_play_is_pain_free_and_was_signed_at_train(data: st.DataObject) -> None:
    """Cleared to play implies every pain field is 0 (C503's seven recorded, the others 0
    or not recorded) and the signed phase was train or play (R6), with no red flag or hold
    (only such assessments are kept: none found fails the test)."""
    document = data.draw(assessments(signed=True, signed_phases=("train", "play"),
                                     max_touched=3))
    decision = decide(document)
    assume(decision.cleared_to_play)
    pain = document.get("pain") or {}
    assert all(value == 0 for value in pain.values())
    assert (_signed(document) or 0) >= 5
    assert not decision.red_flags and not decision.holds
    if _signed(document) == 5:  # the clearance itself: C503 is not carried forward
        assert {"palpation", "isometric", "stretch", "exercise", "running", "sprint",
                "next_morning"} <= set(pain)


@given(document=assessments(),
       pain=st.sampled_from(["palpation", "isometric", "stretch", "exercise", "running",
                             "sprint", "next_morning"]),
       value=st.integers(1, 10))
def test_any_pain_rules_out_play(document: dict[str, Any], pain: str, value: int) -> None:
    """Any pain on testing, exercise, running, sprinting or the next morning rules out play."""
    decision = decide(varied(document, {f"pain.{pain}": value}))
    assert not decision.cleared_to_play


# ---- improving a measure -----------------------------------------------------------

BETTER_LOWER = {p for p in FIELDS_BY_PATH if p.startswith("pain.")} | {
    "flexibility.h_test_insecurity", "sprint.gct_asymmetry_pct"}
BETTER_FALSE = {"flexibility.ake_discomfort", "signs.swelling_increasing",
                "signs.dvt_suspected", "signs.avulsion_suspected"}
REFERENCES = {"sprint.pre_injury_max_velocity_mps", "strength.nordic_pre_injury_n",
              "exposure.pre_injury_hsr_m_7d", "exposure.pre_injury_sprint_m_7d"}


@st.composite
def improvement(draw: st.DrawFn, document: dict[str, Any], path: str) -> Any:
    """A value of ``path`` at least as good as the one in ``document``, by clinical sense."""
    spec, current = FIELDS_BY_PATH[path], _get(document, path)
    if spec.kind is FieldKind.BOOLEAN:
        return path not in BETTER_FALSE
    if spec.kind is FieldKind.BILATERAL:
        injured, uninjured = current["injured"], current["uninjured"]
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
    """A better value of one test (lower pain, more strength, more range …) never lowers the
    criteria phase."""
    document = data.draw(assessments())
    assessed = [p for p in CRITERION_FIELDS
                if _get(document, p) is not None and p not in REFERENCES]
    assume(assessed)
    path = data.draw(st.sampled_from(assessed))
    better = varied(document, {path: data.draw(improvement(document, path))})
    before, after = decide(document), decide(better)
    assert after.criteria_phase.number >= before.criteria_phase.number, path


# ---- missing is not passing --------------------------------------------------------

def _failing_value(path: str) -> Any:
    """A value that fails every criterion reading ``path``."""
    spec = FIELDS_BY_PATH[path]
    if spec.kind is FieldKind.BOOLEAN:
        return path in BETTER_FALSE
    if spec.kind is FieldKind.BILATERAL:
        return (5, 20) if spec.maximum and spec.maximum <= 30 else (20, 40)
    if path in BETTER_LOWER:
        return {"pain.isometric": 5}.get(path, 1 if path.startswith("pain.") else 50)
    return {"sprint.pre_injury_max_velocity_mps": 13.0}.get(path, 0)


@given(data=st.data())
def test_a_missing_test_never_gives_a_higher_criteria_phase_than_the_test_failed(
        data: st.DataObject) -> None:
    """Without a signed phase (nothing can be carried forward), leaving a test out never
    gives a higher criteria phase than doing it and failing it.

    A test is only "missing" when a criterion needs it: C404 asks for two hop tests, and
    C201/C301 and C504 can be decided another way (self-rated speed, an attestation).
    """
    document = data.draw(assessments(signed=False))
    path = data.draw(st.sampled_from([p for p in CRITERION_FIELDS if p not in REFERENCES]))
    assume(not _optional_here(document, path))
    missing = decide(varied(document, {path: REMOVE}))
    failed = decide(varied(document, {path: _failing_value(path)}))
    assert missing.criteria_phase.number <= failed.criteria_phase.number, path


def _optional_here(document: dict[str, Any], path: str) -> bool:
    """True when a criterion reading ``path`` can be decided without it."""
    region = document["injury"]["region"]
    readers = [c for c in default_protocol().criteria
               if path in c.field_paths() and c.applies_to(region)]
    if not readers:
        return True
    for item in readers:
        if item.attestation is not None or any(part.measure == "first_of" or part.fallback
                                               for part in item.parts):
            return True
        if item.min_assessed is None:
            continue
        others = [p for p in item.field_paths() if p != path and _get(document, p) is not None]
        if len(others) >= item.min_assessed:
            return True
    return False


# ---- activities of the region ------------------------------------------------------------------

@given(document=assessments())
def test_activities_are_always_of_the_injury_region(document: dict[str, Any]) -> None:
    """Allowed and restricted activities are of the injury's region or of both regions."""
    decision = decide(document)
    region = document["injury"]["region"]
    activities = default_protocol().activity_by_id
    for activity_id in decision.allowed_activities + decision.restricted_activities:
        assert activities[activity_id].region in ("both", region)


# ---- reproducibility ---------------------------------------------------------------

@given(document=assessments())
def test_same_input_always_gives_the_same_decision_json(document: dict[str, Any]) -> None:
    """Deciding an assessment again, after a JSON round trip, or through the fast path,
    gives byte-identical JSON."""
    first = decide(document).to_json()
    assert decide(document).to_json() == first
    assert decide(json.loads(json.dumps(document))).to_json() == first
    assert evaluator_for().decision_text(json.dumps(document)) == first
