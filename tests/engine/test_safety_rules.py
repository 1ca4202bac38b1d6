"""Every safety rule R1–R9, how they combine, and what missing inputs do to them (section 4)."""

from __future__ import annotations

from typing import Any

import pytest
from support import REMOVE, calf_play, hamstring_play, varied

from engine import decide


def _ids(items: list[Any]) -> list[str]:
    return [item.id for item in items]


def at_phase(phase: str, changes: dict[str, Any] | None = None,
             region: str = "hamstring") -> dict[str, Any]:
    """A complete assessment whose criteria allow exactly ``phase``."""
    closing = {  # one unmet criterion of the gate that leads out of the phase
        "protect": {"pain.walking": 1},
        "load": {"running.max_pain_free_speed_pct": 60},
        "run": {"running.max_pain_free_speed_pct": 85},
        "sprint": {"sprint.deceleration_passed": False},
        "train": {"training.full_team_sessions": 1},
        "play": {},
    }[phase]
    base = hamstring_play() if region == "hamstring" else calf_play()
    return varied(base, {**closing, **(changes or {})})


@pytest.mark.parametrize(
    "changes",
    [
        {"signs.swelling_increasing": True},
        {"injury.tendon_involved": True, "injury.bamic_grade": "3a"},
        {"injury.tendon_involved": True, "injury.bamic_grade": "4"},
        {"injury.bamic_grade": "3c"},  # intratendinous: tendon involvement by definition
        {"injury.bamic_grade": "4"},
        {"injury.bamic_grade": "4c"},
    ],
    ids=["swelling", "tendon-grade-3", "tendon-grade-4", "grade-3c", "grade-4", "grade-4c"],
)
def test_r1_refers_and_caps_at_protect(changes: dict[str, Any]) -> None:
    """R1 refers to a physician and caps the phase at protect, whatever the criteria allow."""
    decision = decide(varied(hamstring_play(), changes))
    assert decision.criteria_phase.id == "play"
    assert decision.phase.id == "protect"
    flag = next(f for f in decision.red_flags if f.id == "R1")
    assert flag.refer and flag.effect_kind == "refer"
    assert "refer" in flag.effect and flag.message


@pytest.mark.parametrize(
    "changes",
    [
        {"injury.tendon_involved": True, "injury.bamic_grade": "2b"},
        {"injury.tendon_involved": False, "injury.bamic_grade": "3b"},
        {"injury.bamic_grade": "2c"},
        {"signs.swelling_increasing": False},
    ],
    ids=["tendon-grade-2", "grade-3-no-tendon", "grade-2c", "no-swelling"],
)
def test_r1_does_not_fire_below_its_triggers(changes: dict[str, Any]) -> None:
    """R1 stays silent for a tendon injury below grade 3 or a grade 3 without the tendon."""
    decision = decide(varied(hamstring_play(), changes))
    assert "R1" not in _ids(decision.red_flags)


@pytest.mark.parametrize(("rest", "fires"), [(2, False), (3, True), (10, True)])
def test_r2_rest_pain_caps_at_protect(rest: int, fires: bool) -> None:
    """R2 fires from rest pain 3 and caps at protect (C102 already closes G1 from 1)."""
    decision = decide(varied(hamstring_play(), {"pain.rest": rest}))
    assert ("R2" in _ids(decision.red_flags)) is fires
    assert decision.phase.id == "protect"  # C102 needs rest pain 0 in any case


@pytest.mark.parametrize(("pain", "fires", "phase"),
                         [(2, False, "sprint"), (3, True, "run"), (7, True, "run")])
def test_r3_next_morning_flare_steps_back_one_phase(pain: int, fires: bool, phase: str) -> None:
    """R3: next-morning pain of 3 or more is a flare, one phase below the criteria phase."""
    decision = decide(at_phase("sprint", {"pain.next_morning": pain}))
    assert decision.criteria_phase.id == "sprint"
    assert ("R3" in _ids(decision.red_flags)) is fires
    assert decision.phase.id == phase


def test_flare_never_goes_below_protect() -> None:
    """A flare at protect stays at protect."""
    decision = decide(at_phase("protect", {"pain.next_morning": 5}))
    assert decision.phase.id == "protect"
    assert _ids(decision.red_flags) == ["R3"]


@pytest.mark.parametrize(
    ("profile", "changes", "fires"),
    [
        ("standard", {"pain.exercise": 4}, False),
        ("standard", {"pain.exercise": 5}, True),
        ("standard", {"pain.running": 4}, False),
        ("standard", {"pain.running": 5}, True),
        ("conservative", {"pain.running": 0}, False),
        ("conservative", {"pain.running": 1}, True),
    ],
)
def test_r4_exercise_or_running_pain_above_the_profile_limit(
        profile: str, changes: dict[str, Any], fires: bool) -> None:
    """R4 compares exercise and running pain with the profile's limit L (4 or 0)."""
    decision = decide(varied(hamstring_play(), {"assessment.profile": profile, **changes}))
    assert ("R4" in _ids(decision.red_flags)) is fires


def test_several_flares_step_back_once() -> None:
    """R3 and R4 together still lower the phase by one step, not two."""
    decision = decide(at_phase("train", {"pain.next_morning": 4, "pain.running": 6}))
    assert decision.criteria_phase.id == "train"
    assert _ids(decision.red_flags) == ["R3", "R4"]
    assert decision.phase.id == "sprint"


def test_lowest_resulting_phase_wins() -> None:
    """A cap and a flare together: the cap (lower) wins."""
    decision = decide(at_phase("train", {"pain.next_morning": 4,
                                         "signs.swelling_increasing": True}))
    assert decision.phase.id == "protect"
    assert _ids(decision.red_flags) == ["R1", "R3"]


@pytest.mark.parametrize(
    ("grade", "muscle", "region", "floor"),
    [
        ("0a", "biceps_femoris_long_head", "hamstring", 7),
        ("1b", "semitendinosus", "hamstring", 7),
        ("2a", "biceps_femoris_long_head", "hamstring", 14),
        ("3b", "semimembranosus", "hamstring", 21),
        ("1c", "biceps_femoris_long_head", "hamstring", 28),
        ("2c", "semimembranosus", "hamstring", 28),
        ("2b", "gastrocnemius_medial", "calf", 14),
        ("2b", "soleus", "calf", 21),
        ("2c", "soleus", "calf", 35),
        ("2b", None, "calf", 21),  # calf muscle unknown: the longer (soleus) floor
    ],
)
def test_r5_floor_by_grade_site_and_muscle(grade: str, muscle: str | None, region: str,
                                           floor: int) -> None:
    """R5's usual minimum days: by grade, 28 for site c, soleus 7 days longer."""
    changes: dict[str, Any] = {"injury.bamic_grade": grade,
                               "injury.muscle": muscle if muscle else REMOVE}
    base = at_phase("sprint", region=region)
    assert decide(varied(base, changes)).injury.sprint_day_floor == floor
    just_before = varied(base, {**changes, "injury.date": "2026-01-01",
                                "assessment.date": _plus_days("2026-01-01", floor - 1)})
    on_the_day = varied(base, {**changes, "injury.date": "2026-01-01",
                               "assessment.date": _plus_days("2026-01-01", floor)})
    assert "R5" in _ids(decide(just_before).cautions)
    assert "R5" not in _ids(decide(on_the_day).cautions)


def _plus_days(start: str, days: int) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(start) + dt.timedelta(days=days)).isoformat()


def test_r5_is_a_caution_not_a_block() -> None:
    """R5 leaves the athlete cleared to sprint; the clinician confirms."""
    decision = decide(at_phase("sprint", {"injury.bamic_grade": "3a", "injury.date": "2026-02-20",
                                          "assessment.date": "2026-03-02"}))
    assert decision.phase.id == "sprint" and decision.cleared_to_sprint
    assert "R5" in _ids(decision.cautions)


def test_r5_only_from_sprint_and_not_without_a_grade() -> None:
    """R5 concerns a decided phase of sprint or more, and has no floor without a grade."""
    early = {"injury.bamic_grade": "3a", "injury.date": "2026-02-20",
             "assessment.date": "2026-03-02"}
    assert "R5" not in _ids(decide(at_phase("run", early)).cautions)
    no_grade = decide(at_phase("sprint", {**early, "injury.bamic_grade": REMOVE}))
    assert "R5" not in _ids(no_grade.cautions)
    assert no_grade.injury.sprint_day_floor is None


@pytest.mark.parametrize(("previous", "fires"),
                         [("run", False), ("load", True), ("protect", True), ("sprint", False),
                          ("play", False)])
def test_r6_progression_skips_a_phase(previous: str, fires: bool) -> None:
    """R6 cautions when the decided phase is more than one above the last signed phase."""
    decision = decide(at_phase("sprint", {"previous.phase": previous}))
    assert ("R6" in _ids(decision.cautions)) is fires


def test_r6_needs_a_previous_phase() -> None:
    """Without a last signed phase there is no skip to caution about."""
    assert "R6" not in _ids(decide(at_phase("sprint")).cautions)


@pytest.mark.parametrize(("count", "fires"), [(0, False), (1, True), (3, True)])
def test_r7_previous_injury_at_the_same_site(count: int, fires: bool) -> None:
    """R7 cautions about the raised re-injury risk after a previous injury at the same site."""
    decision = decide(varied(hamstring_play(), {"injury.previous_same_site": count}))
    assert ("R7" in _ids(decision.cautions)) is fires


@pytest.mark.parametrize(
    ("nordic", "fires"),
    [((270.3, 300), False),  # 9.9 %
     ((270, 300), True),  # 10.0 %
     ((255.3, 300), True),  # 14.9 %
     ((255, 300), False)],  # 15.0 %: C304 fails instead
)
def test_r8_nordic_imbalance_between_10_and_15(nordic: tuple[float, float], fires: bool) -> None:
    """R8 cautions for a hamstring Nordic asymmetry from 10 % up to (not including) 15 %."""
    decision = decide(varied(hamstring_play(), {"strength.nordic_n": nordic}))
    assert ("R8" in _ids(decision.cautions)) is fires


def test_r8_is_for_hamstring_injuries_only() -> None:
    """A calf injury's Nordic imbalance raises no R8 caution."""
    decision = decide(varied(calf_play(), {"strength.nordic_n": (270, 300)}))
    assert "R8" not in _ids(decision.cautions)


def test_r9_at_play_only() -> None:
    """R9 accompanies every return to play with the maintenance plan, and only then."""
    play = decide(hamstring_play())
    assert "R9" in _ids(play.cautions) and play.maintenance
    train = decide(at_phase("train"))
    assert "R9" not in _ids(train.cautions) and not train.maintenance


def test_red_flags_and_cautions_are_kept_apart() -> None:
    """R1–R4 appear in red_flags only, R5–R9 in cautions only."""
    decision = decide(varied(hamstring_play(), {"pain.next_morning": 5,
                                                 "injury.previous_same_site": 2}))
    assert _ids(decision.red_flags) == ["R3"]
    assert _ids(decision.cautions) == ["R7"]


@pytest.mark.parametrize(
    ("field", "rule"),
    [("signs.swelling_increasing", "R1"), ("pain.next_morning", "R3"),
     ("pain.running", "R4")],
)
def test_a_red_flag_that_cannot_be_checked_is_reported(field: str, rule: str) -> None:
    """A missing input never silences a red flag quietly: the rule is listed as not checked."""
    decision = decide(varied(hamstring_play(), {field: REMOVE}))
    unchecked = {item.id: item.missing for item in decision.safety_not_checked}
    assert field in unchecked[rule]
    assert rule not in _ids(decision.red_flags)


def test_a_known_branch_decides_even_with_missing_inputs() -> None:
    """R1 fires on increasing swelling even if the tendon flag is missing."""
    decision = decide(varied(hamstring_play(), {"injury.tendon_involved": REMOVE,
                                                 "signs.swelling_increasing": True}))
    assert "R1" in _ids(decision.red_flags)
    assert "R1" not in _ids(decision.safety_not_checked)
