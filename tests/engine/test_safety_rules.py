"""Red flags, holds and cautions of protocol section 4, alone and combined, and the listing.

The base documents (``tests/support.py``) pass every gate and were signed at
``train`` a week before; each test changes what it is about. Expected phases
are worked out from protocol.md by hand, not read from the rule base.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import REMOVE, calf_play, hamstring_play, varied

from engine import decide


def _ids(items: list[Any]) -> list[str]:
    return [item.id for item in items]


def _held(decision: Any) -> dict[str, str]:
    return {item.id: item.cap for item in decision.held_by}


CLOSING = {  # one unmet criterion of the gate that leads out of the phase
    "protect": {"pain.walking": 1},
    "load": {"running.max_pain_free_speed_pct": 60},
    "run": {"running.max_pain_free_speed_pct": 85},
    "sprint": {"sprint.deceleration_passed": False},
    "train": {"training.full_team_sessions": 1},
    "play": {},
}


def at_phase(phase: str, changes: dict[str, Any] | None = None, region: str = "hamstring",
             signed: str | None = "train") -> dict[str, Any]:
    """A complete assessment whose criteria allow exactly ``phase``, signed at ``signed``
    a week earlier (``None``: no signed phase on record)."""
    base = hamstring_play() if region == "hamstring" else calf_play()
    previous: dict[str, Any] = ({"previous": REMOVE} if signed is None else
                                {"previous.phase": signed, "previous.date": "2026-02-23"})
    return varied(base, {**previous, **CLOSING[phase], **(changes or {})})


# ---- R1: signs present now -------------------------------------------------------------


@pytest.mark.parametrize(("sign", "words"), [
    ("signs.swelling_increasing", "increasing swelling"),
    ("signs.dvt_suspected", "suspected deep-vein thrombosis"),
    ("signs.avulsion_suspected", "suspected avulsion"),
])
@pytest.mark.parametrize("region", ["hamstring", "calf"])
def test_r1_each_sign_refers_and_caps_at_protect(sign: str, words: str, region: str) -> None:
    """R1 fires for any sign that is true, whatever the region, and names it."""
    decision = decide(at_phase("play", {sign: True}, region=region))
    flag = next(f for f in decision.red_flags if f.id == "R1")
    assert flag.refer and flag.effect_kind == "refer" and flag.cap.id == "protect"
    assert words in flag.message
    assert decision.phase.id == "protect"
    assert _held(decision)["R1"] == "protect"


def test_r1_dvt_is_urgent_the_same_day() -> None:
    """A suspected deep-vein thrombosis: the message says to see a physician the same day."""
    decision = decide(at_phase("run", {"signs.dvt_suspected": True}, region="calf"))
    assert "same day" in next(f for f in decision.red_flags if f.id == "R1").message


def test_r1_names_every_sign_present() -> None:
    """Two signs: both are named in the one R1 message."""
    decision = decide(at_phase("run", {"signs.swelling_increasing": True,
                                       "signs.avulsion_suspected": True}))
    message = next(f for f in decision.red_flags if f.id == "R1").message
    assert "increasing swelling" in message and "suspected avulsion" in message


def test_r1_listed_even_when_it_does_not_lower_the_phase() -> None:
    """Listing: a red flag is listed whenever its trigger is true; held_by only when its cap
    is below the criteria phase."""
    decision = decide(at_phase("protect", {"signs.swelling_increasing": True}))
    assert decision.criteria_phase.id == "protect"
    assert "R1" in _ids(decision.red_flags)
    assert "R1" not in _held(decision)


# ---- R2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("rest", "fires"), [(2, False), (3, True), (10, True)])
def test_r2_rest_pain_caps_at_protect(rest: int, fires: bool) -> None:
    """R2 fires from rest pain 3; C102 (rest pain 0) already keeps G1 closed from 1."""
    decision = decide(at_phase("play", {"pain.rest": rest}))
    assert ("R2" in _ids(decision.red_flags)) is fires
    assert decision.phase.id == decision.criteria_phase.id == "protect"


# ---- flares: R3, R4 --------------------------------------------------------------------


@pytest.mark.parametrize(("pain", "fires"), [(2, False), (3, True), (9, True)])
def test_r3_next_morning_pain_threshold(pain: int, fires: bool) -> None:
    """R3 fires from next-morning pain 3 (C503 fails from 1 in any case)."""
    decision = decide(at_phase("train", {"pain.next_morning": pain}))
    assert ("R3" in _ids(decision.red_flags)) is fires


@pytest.mark.parametrize(("criteria", "signed", "expected"), [
    ("train", "run", "load"),     # the signed phase is lower: step back from it
    ("sprint", "train", "run"),   # a regression: the criteria phase is lower
    ("train", "train", "sprint"),
    ("run", "protect", "protect"),  # never below protect
    ("load", "train", "protect"),
])
def test_flare_steps_back_from_the_lower_of_criteria_and_signed_phase(
        criteria: str, signed: str, expected: str) -> None:
    """Section 4.1: the flare caps at max(protect, min(criteria, signed) − 1)."""
    decision = decide(at_phase(criteria, {"pain.next_morning": 3}, signed=signed))
    assert decision.criteria_phase.id == criteria
    assert decision.phase.id == expected
    flag = next(f for f in decision.red_flags if f.id == "R3")
    assert flag.cap.id == expected


def test_flare_without_a_signed_phase_steps_back_from_the_criteria_phase() -> None:
    """No previous.phase: the reference is the criteria phase alone (R6 caps at run too)."""
    decision = decide(at_phase("run", {"pain.next_morning": 4}, signed=None))
    assert decision.phase.id == "load"
    assert _held(decision) == {"R3": "load"}


@pytest.mark.parametrize(("field", "value", "profile", "fires"), [
    ("pain.exercise", 4, "standard", False),
    ("pain.exercise", 5, "standard", True),
    ("pain.running", 5, "standard", True),
    ("pain.exercise", 0, "conservative", False),
    ("pain.exercise", 1, "conservative", True),
    ("pain.running", 1, "conservative", True),
])
def test_r4_exercise_or_running_pain_above_l(field: str, value: int, profile: str,
                                             fires: bool) -> None:
    """R4: exercise or running pain above the profile's L (4 standard, 0 conservative)."""
    decision = decide(at_phase("load", {field: value, "assessment.profile": profile}))
    assert ("R4" in _ids(decision.red_flags)) is fires


def test_flares_apply_once() -> None:
    """R3 and R4 together step back one phase, not two; both are listed and both hold."""
    decision = decide(at_phase("run", {"pain.next_morning": 5, "pain.exercise": 6},
                               signed="run"))
    assert _ids(decision.red_flags) == ["R3", "R4"]
    assert decision.phase.id == "load"
    assert _held(decision) == {"R3": "load", "R4": "load"}


def test_exercise_pain_above_l_is_counted_once() -> None:
    """Regression of 2026.1: exercise pain above L no longer closes a gate as well (C205)."""
    decision = decide(at_phase("play", {"pain.exercise": 5}, signed="train"))
    # C503 (G5) needs exercise pain 0: the criteria phase is train; the flare steps back one
    assert decision.criteria_phase.id == "train"
    assert decision.phase.id == "sprint"


# ---- R10 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("pain", "phase"), [(0, "play"), (1, "run"), (5, "run")])
def test_r10_sprint_pain_caps_at_run(pain: int, phase: str) -> None:
    """R10: no sprinting while sprinting hurts."""
    decision = decide(at_phase("play", {"pain.sprint": pain}, signed="train"))
    assert decision.phase.id == phase
    assert ("R10" in _ids(decision.red_flags)) is (pain >= 1)


# ---- R11: physician's review -------------------------------------------------------------


REVIEW_CONSERVATIVE = {"date": "2026-01-10", "management": "conservative", "by": "Dr. R"}
REVIEW_SURGICAL = {"date": "2026-01-10", "management": "surgical"}


@pytest.mark.parametrize("changes", [
    {"injury.tendon_involved": True, "injury.bamic_grade": "3a"},
    {"injury.tendon_involved": True, "injury.bamic_grade": REMOVE},
    {"injury.bamic_grade": "3c"},
    {"injury.bamic_grade": "4"},
    {"injury.bamic_grade": "4c", "injury.tendon_involved": False},
], ids=["tendon-grade-3", "tendon-grade-unknown", "grade-3c", "grade-4", "grade-4c"])
def test_r11_caps_at_protect_until_a_review_is_recorded(changes: dict[str, Any]) -> None:
    """R11 refers for a physician's review and holds at protect; it ends with the review."""
    decision = decide(at_phase("play", changes))
    flag = next(f for f in decision.red_flags if f.id == "R11")
    assert flag.refer and flag.cap.id == "protect"
    assert decision.phase.id == "protect"
    assert "physician review" in next(h for h in decision.held_by if h.id == "R11").ends


@pytest.mark.parametrize("changes", [
    {"injury.tendon_involved": True, "injury.bamic_grade": "2b"},
    {"injury.bamic_grade": "1c"},
    {"injury.bamic_grade": "2c"},
    {"injury.bamic_grade": "3b", "injury.tendon_involved": False},
], ids=["tendon-grade-2", "grade-1c", "grade-2c", "grade-3b"])
def test_r11_does_not_fire_below_grade_3_or_without_the_tendon(changes: dict[str, Any]) -> None:
    """1c and 2c get the site-c floor, not R11; a 3b without the tendon is not R11."""
    decision = decide(at_phase("play", changes))
    assert "R11" not in _ids(decision.red_flags)


def test_r11_conservative_review_lifts_the_cap_and_r5_floors_apply() -> None:
    """After a conservative review R11 neither fires nor is listed; the 3c floors hold."""
    document = at_phase("play", {"injury.bamic_grade": "3c",
                                 "injury.physician_review": {**REVIEW_CONSERVATIVE,
                                                             "date": "2026-02-05"},
                                 "injury.date": "2026-02-01"})
    decision = decide(document)
    assert "R11" not in _ids(decision.red_flags) + _ids(decision.safety_not_checked)
    # 3c: max(21, 28) = 28 days to sprint, 35 to play; day 29 of 35: held at sprint by R5
    assert (decision.injury.sprint_day_floor, decision.injury.play_day_floor) == (28, 35)
    assert decision.phase.id == "sprint"
    assert _held(decision) == {"R5": "sprint"}


def test_r11_surgical_review_keeps_the_cap_and_says_out_of_scope() -> None:
    """A surgical review: the cap stays; the message says post-operative rehabilitation is
    outside this protocol."""
    decision = decide(at_phase("play", {"injury.bamic_grade": "2b",
                                        "injury.physician_review": REVIEW_SURGICAL}))
    flag = next(f for f in decision.red_flags if f.id == "R11")
    assert decision.phase.id == "protect"
    assert "outside this protocol" in flag.message


def test_r11_grade_4_after_conservative_review_uses_the_42_day_floor() -> None:
    """Grade 4 reviewed conservatively: no cap, sprint floor 42, play floor 49."""
    decision = decide(at_phase("play", {"injury.bamic_grade": "4",
                                        "injury.physician_review": REVIEW_CONSERVATIVE}))
    assert "R11" not in _ids(decision.red_flags)
    assert (decision.injury.sprint_day_floor, decision.injury.play_day_floor) == (42, 49)
    assert decision.phase.id == "play"  # day 60


# ---- R5: floors (section 4.5) -------------------------------------------------------------


@pytest.mark.parametrize(("changes", "sprint", "play"), [
    ({"injury.bamic_grade": "0a"}, 7, 14),
    ({"injury.bamic_grade": "1b"}, 7, 14),
    ({"injury.bamic_grade": "2a"}, 14, 21),
    ({"injury.bamic_grade": "3a"}, 21, 28),
    ({"injury.bamic_grade": "1c"}, 28, 35),
    ({"injury.bamic_grade": "2b", "injury.tendon_involved": True}, 28, 35),
    ({"injury.bamic_grade": REMOVE}, 14, 21),
    ({"injury.bamic_grade": "2a", "injury.previous_same_site": 1}, 21, 28),
    ({"injury.bamic_grade": "2a", "injury.mechanism": "stretching"}, 21, 28),
    ({"injury.bamic_grade": "2a", "injury.previous_same_site": 2,
      "injury.mechanism": "stretching"}, 28, 35),
])
def test_floors_by_grade_and_extra_days(changes: dict[str, Any], sprint: int,
                                        play: int) -> None:
    """Section 4.5: grade floors, site c / tendon at least 28, +7 for R7 and R12."""
    decision = decide(varied(hamstring_play(), changes))
    assert (decision.injury.sprint_day_floor, decision.injury.play_day_floor) == (sprint, play)


@pytest.mark.parametrize(("muscle", "sprint"), [("soleus", 21), ("gastrocnemius_medial", 14),
                                                (REMOVE, 21)])
def test_calf_floors_soleus_and_unknown_muscle(muscle: Any, sprint: int) -> None:
    """Soleus, or a calf muscle not given, adds 7 days."""
    decision = decide(varied(calf_play(), {"injury.bamic_grade": "2a", "injury.muscle": muscle}))
    assert decision.injury.sprint_day_floor == sprint


@pytest.mark.parametrize(("day", "phase", "held"), [(20, "sprint", True), (21, "play", False)])
def test_r5_play_floor_holds_at_sprint_until_its_date(day: int, phase: str,
                                                      held: bool) -> None:
    """Grade 2 (play floor 21): on day 20 the phase is capped at sprint until day 21."""
    import datetime as dt

    injury = dt.date(2026, 3, 2) - dt.timedelta(days=day)
    decision = decide(at_phase("play", {"injury.bamic_grade": "2a",
                                        "injury.date": injury.isoformat(),
                                        "previous.date": "2026-02-27"}))
    assert decision.phase.id == phase
    if held:
        hold = next(h for h in decision.holds if h.id == "R5")
        assert hold.until == "2026-03-03" and hold.cap.id == "sprint"
        assert next(h for h in decision.held_by if h.id == "R5").ends == "wait until 2026-03-03"
    else:
        assert "R5" not in _ids(decision.holds)


def test_r5_hold_not_listed_when_the_criteria_do_not_reach_train() -> None:
    """Listing: the play-floor hold caps at sprint; at criteria phase sprint it holds nothing."""
    decision = decide(at_phase("sprint", {"injury.bamic_grade": "2a",
                                          "injury.date": "2026-02-20"}))
    assert "R5" not in _ids(decision.holds)
    assert decision.phase.id == "sprint"


def test_r5_grade_unknown_is_named() -> None:
    """An unknown grade uses the grade-2 floors and R5's message says so."""
    decision = decide(at_phase("play", {"injury.bamic_grade": REMOVE,
                                        "injury.date": "2026-02-15"}))
    hold = next(h for h in decision.holds if h.id == "R5")
    assert "not recorded" in hold.message


@pytest.mark.parametrize(("day", "cautioned"), [(13, True), (14, False)])
def test_r5_caution_before_the_sprint_floor(day: int, cautioned: bool) -> None:
    """R5 caution: a decided phase of sprint or above before the sprint floor (grade 2: 14)."""
    import datetime as dt

    injury = dt.date(2026, 3, 2) - dt.timedelta(days=day)
    decision = decide(at_phase("sprint", {"injury.bamic_grade": "2a",
                                          "injury.date": injury.isoformat(),
                                          "previous.phase": "run",
                                          "previous.date": "2026-02-27"}))
    assert decision.phase.id == "sprint"
    assert ("R5" in _ids(decision.cautions)) is cautioned


# ---- R6: one step per signed review -------------------------------------------------------


@pytest.mark.parametrize(("signed", "date", "phase"), [
    (None, None, "run"),
    ("protect", "2026-02-23", "load"),
    ("run", "2026-02-23", "sprint"),
    ("run", "2026-03-02", "run"),        # signed the same day: no further step
    ("train", "2026-03-02", "train"),
    ("play", "2026-02-23", "play"),
])
def test_r6_one_step_per_signed_review(signed: str | None, date: str | None,
                                       phase: str) -> None:
    """R6: ≤ previous + 1 on a later day, ≤ previous the same day, ≤ run without one."""
    changes: dict[str, Any] = {"previous": REMOVE} if signed is None else {
        "previous.phase": signed, "previous.date": date}
    decision = decide(varied(hamstring_play(), changes))
    assert decision.criteria_phase.id == "play"
    assert decision.phase.id == phase
    assert ("R6" in _held(decision)) is (phase != "play")


def test_r6_says_what_ends_it() -> None:
    """Without a signed phase: sign the current phase; the same day: re-assess later."""
    unsigned = decide(varied(hamstring_play(), {"previous": REMOVE}))
    assert "sign the current phase" in next(h for h in unsigned.held_by if h.id == "R6").ends
    same_day = decide(varied(hamstring_play(), {"previous.date": "2026-03-02"}))
    assert "later day" in next(h for h in same_day.held_by if h.id == "R6").ends


def test_r6_not_listed_when_it_does_not_hold() -> None:
    """Listing: R6 is not listed when its cap is not below the criteria phase."""
    decision = decide(at_phase("run", signed="load"))
    assert "R6" not in _ids(decision.holds) and "R6" not in _held(decision)


# ---- R13: screening each phase needs (section 4.3) -------------------------------------------


@pytest.mark.parametrize(("field", "region", "cap"), [
    ("pain.rest", "hamstring", "protect"),
    ("signs.swelling_increasing", "hamstring", "protect"),
    ("signs.avulsion_suspected", "hamstring", "protect"),
    ("signs.dvt_suspected", "calf", "protect"),
    ("pain.next_morning", "hamstring", "load"),
    ("pain.exercise", "calf", "load"),
    ("pain.running", "hamstring", "run"),
    ("pain.sprint", "hamstring", "sprint"),
])
def test_r13_each_screening_field_holds_below_the_first_phase_that_needs_it(
        field: str, region: str, cap: str) -> None:
    """A screen not recorded caps the phase below the first phase that needs it."""
    decision = decide(at_phase("play", {field: REMOVE}, region=region))
    assert decision.phase.id == cap
    hold = next(h for h in decision.holds if h.id == "R13")
    assert hold.missing == [field] and hold.cap.id == cap
    assert next(h for h in decision.held_by if h.id == "R13").ends == f"record {field}"


@pytest.mark.parametrize(("field", "region"), [("signs.dvt_suspected", "hamstring"),
                                               ("signs.avulsion_suspected", "calf")])
def test_r13_screens_of_the_other_region_are_not_required(field: str, region: str) -> None:
    """DVT is a calf screen and avulsion a hamstring screen."""
    decision = decide(at_phase("play", {field: REMOVE}, region=region))
    assert "R13" not in _ids(decision.holds)


def test_r13_lists_only_the_screens_that_hold_at_the_criteria_phase() -> None:
    """At criteria phase run, a missing pain.sprint (needed from train) holds nothing."""
    decision = decide(at_phase("run", {"pain.next_morning": REMOVE, "pain.sprint": REMOVE}))
    hold = next(h for h in decision.holds if h.id == "R13")
    assert hold.missing == ["pain.next_morning"]
    assert [m.field for m in decision.missing_screening] == ["pain.next_morning", "pain.sprint"]


def test_r13_not_listed_below_the_phase_that_needs_the_screen() -> None:
    """An athlete in protection need not have run: next-morning pain is not required."""
    decision = decide(at_phase("protect", {"pain.next_morning": REMOVE, "pain.exercise": REMOVE,
                                           "pain.running": REMOVE, "pain.sprint": REMOVE}))
    assert decision.holds == []


# ---- carried forward (section 2.1) ---------------------------------------------------------


def test_carried_forward_below_the_signed_phase() -> None:
    """Signed at sprint: G1–G3 criteria not assessed today pass as carried_forward."""
    decision = decide(varied(hamstring_play(), {
        "previous.phase": "sprint", "pain.walking": REMOVE, "function": REMOVE,
        "flexibility.passive_slr_deg": REMOVE, "strength.isometric_90_20": REMOVE}))
    statuses = {c.id: c.status for c in decision.criteria}
    assert decision.carried_forward == ["C101", "C104", "C203", "C303"]
    assert all(statuses[c] == "carried_forward" for c in decision.carried_forward)
    assert decision.criteria_phase.id == "play"
    assert decision.phase.id == "train"  # R6: sprint + 1


def test_never_carried_forward_at_or_above_the_signed_gate() -> None:
    """Signed at run: a G3 criterion not assessed stays not_assessed and closes G3."""
    decision = decide(varied(hamstring_play(), {"previous.phase": "run",
                                                "strength.isometric_90_20": REMOVE}))
    assert {c.id: c.status for c in decision.criteria}["C303"] == "not_assessed"
    assert decision.criteria_phase.id == "run"


def test_a_failing_part_is_unmet_whatever_was_signed() -> None:
    """A regression shows: C203 with a failing part below the signed phase is unmet."""
    decision = decide(varied(hamstring_play(), {"flexibility.passive_slr_deg": (60, 90)}))
    assert {c.id: c.status for c in decision.criteria}["C203"] == "unmet"
    assert decision.criteria_phase.id == "load"


def test_screening_is_never_carried_forward() -> None:
    """C102 without pain.rest is carried forward, but R13 still holds at protect."""
    decision = decide(varied(hamstring_play(), {"pain.rest": REMOVE}))
    assert "C102" in decision.carried_forward
    assert decision.criteria_phase.id == "play"
    assert decision.phase.id == "protect"
    assert _held(decision)["R13"] == "protect"


# ---- cautions ------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "fires"), [(0, False), (1, True)])
def test_r7_previous_same_site(count: int, fires: bool) -> None:
    """R7: a previous injury at the same site."""
    decision = decide(varied(hamstring_play(), {"injury.previous_same_site": count}))
    assert ("R7" in _ids(decision.cautions)) is fires


@pytest.mark.parametrize(("sides", "fires"), [
    ((255.3, 300), True),   # 85.1 %
    ((270, 300), True),     # 90.0 %
    ((270.3, 300), False),  # 90.1 %
    ((255, 300), False),    # 85.0 %: C304 fails instead
])
def test_r8_residual_nordic_deficit(sides: tuple[float, float], fires: bool) -> None:
    """R8: hamstring and Nordic LSI > 85 % and ≤ 90 %."""
    decision = decide(varied(hamstring_play(), {"strength.nordic_n": sides}))
    assert ("R8" in _ids(decision.cautions)) is fires


def test_r9_only_at_play() -> None:
    """R9 comes with the play decision and its surveillance dates."""
    assert "R9" in _ids(decide(hamstring_play()).cautions)
    assert "R9" not in _ids(decide(at_phase("train")).cautions)


def test_r12_stretching_mechanism() -> None:
    """R12: a stretching-type injury."""
    decision = decide(varied(hamstring_play(), {"injury.mechanism": "stretching"}))
    assert "R12" in _ids(decision.cautions)


@pytest.mark.parametrize(("changes", "fires"), [
    ({"exposure.sprint_m_7d": 420, "exposure.sprint_m_prior_7d": 280}, False),  # 1.5 ×
    ({"exposure.sprint_m_7d": 420.01, "exposure.sprint_m_prior_7d": 280}, True),
    ({"exposure.hsr_m_7d": 2701, "exposure.hsr_m_prior_7d": 1800}, True),
    ({"exposure.sprint_m_7d": 300, "exposure.sprint_m_prior_7d": 0}, False),  # prior 0
    ({"exposure.sprint_m_prior_7d": REMOVE, "exposure.hsr_m_prior_7d": REMOVE}, False),
])
def test_r14_volume_rising_too_fast(changes: dict[str, Any], fires: bool) -> None:
    """R14: more than 1.5 × the week before, in exact metres; not when the prior week is 0."""
    decision = decide(varied(hamstring_play(), changes))
    assert ("R14" in _ids(decision.cautions)) is fires
    if fires:
        assert decision.plan.volume.advice == "hold"


def test_cautions_change_nothing() -> None:
    """Every caution at once leaves the phase where the criteria and holds put it."""
    decision = decide(varied(hamstring_play(), {
        "injury.previous_same_site": 1, "injury.mechanism": "stretching",
        "strength.nordic_n": (260, 300), "exposure.sprint_m_7d": 500}))
    assert {"R7", "R8", "R9", "R12", "R14"} <= set(_ids(decision.cautions))
    assert decision.phase.id == "play"


# ---- combinations and held_by ---------------------------------------------------------------


def test_combined_red_flags_and_holds_lowest_wins_all_listed() -> None:
    """R1, R3 and R13 together: the lowest cap decides; each one below the criteria phase
    is in held_by with what ends it; red flags come first in next_steps."""
    decision = decide(at_phase("play", {"signs.swelling_increasing": True,
                                        "pain.next_morning": 4, "pain.sprint": REMOVE}))
    assert decision.phase.id == "protect"
    assert _held(decision) == {"R1": "protect", "R3": "sprint", "R13": "sprint"}
    assert [s.kind for s in decision.next_steps][:3] == ["red_flag", "red_flag", "hold"]
    assert decision.next_steps[0].id == "R1"


def test_held_below_the_criteria_phase_names_holds_before_tests() -> None:
    """A protect athlete capped by referral is told about the referral, not maximal sprints."""
    decision = decide(at_phase("sprint", {"injury.bamic_grade": "3c"}))
    assert decision.phase.id == "protect"
    assert decision.next_steps[0].id == "R11"
    assert decision.next_steps[0].kind == "red_flag"


def test_not_checked_red_flags_are_reported() -> None:
    """A red flag whose inputs are missing is listed as not checked, never passed."""
    decision = decide(at_phase("protect", {"pain.next_morning": REMOVE}))
    assert "R3" in _ids(decision.safety_not_checked)
