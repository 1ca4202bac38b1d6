"""Every file in examples/ is decided, and decides the story its name tells."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import EXAMPLES, example_files

from engine import decide

# name → (phase, criteria phase, held by, red flags, cautions)
EXPECTED = {
    "hamstring-sprinter-day3-acute-protection": ("protect", "protect", [], [], []),
    "calf-soleus-distance-runner-early-loading": ("load", "load", [], [], []),
    "calf-missing-tests-heel-raise-and-hop-not-done": ("load", "load", [], [], []),
    "hamstring-conservative-profile-exercise-pain-above-limit": (
        "protect", "run", ["R4"], ["R4"], []),
    "hamstring-footballer-progressive-running-strength-deficit": ("run", "run", [], [], ["R8"]),
    "hamstring-red-flag-increasing-swelling-refer": (
        "protect", "run", ["R1"], ["R1"], ["R8", "R12"]),
    "hamstring-symptom-flare-next-morning-pain": ("run", "sprint", ["R3"], ["R3"], []),
    "hamstring-winger-cleared-to-sprint": ("sprint", "sprint", [], [], []),
    "hamstring-early-sprint-grade-3-caution": ("sprint", "sprint", [], [], ["R5"]),
    "calf-gastrocnemius-scrum-half-team-training": ("train", "train", [], [], []),
    "hamstring-rugby-back-reinjury-cleared-to-play-conservative": (
        "play", "play", [], [], ["R7", "R8", "R9"]),
    # 2027.1
    "hamstring-3c-intratendinous-after-conservative-review": ("run", "run", [], [], []),
    "hamstring-proximal-avulsion-surgical-review-out-of-scope": (
        "protect", "protect", [], ["R1", "R11"], ["R12"]),
    "hamstring-flare-steps-back-from-the-signed-phase": (
        "load", "train", ["R3", "R6"], ["R3"], []),
    "calf-first-visit-capped-at-run-without-a-signed-phase": ("run", "train", ["R6"], [], []),
    "hamstring-late-visit-early-gates-carried-forward": ("train", "train", [], [], ["R14"]),
    "calf-soleus-bent-knee-heel-raise-and-knee-to-wall": ("run", "run", [], [], []),
    "hamstring-signed-sprint-plan-ceiling-follows-75pct-pain-free-speed": (
        "run", "run", [], [], ["R14"]),
}


def test_every_example_has_an_expected_story() -> None:
    """No example file is left out of this table, and none is listed without its file."""
    assert {path.stem for path in example_files()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_decides_its_story(name: str) -> None:
    """The example is valid and reaches the phase, red flags and cautions its name promises."""
    document = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    decision = decide(document)
    phase, criteria_phase, held_by, red_flags, cautions = EXPECTED[name]
    assert decision.phase.id == phase
    assert decision.criteria_phase.id == criteria_phase
    assert [h.id for h in decision.held_by] == held_by
    assert [f.id for f in decision.red_flags] == red_flags
    assert [c.id for c in decision.cautions] == cautions


def test_examples_cover_what_the_issue_asks() -> None:
    """All six phases, both regions, both profiles, a red flag, a flare, and missing tests."""
    decisions = [decide(json.loads(path.read_text("utf-8"))) for path in example_files()]
    assert {d.phase.id for d in decisions} == {"protect", "load", "run", "sprint", "train",
                                               "play"}
    assert {d.injury.region for d in decisions} == {"hamstring", "calf"}
    assert {d.assessment.profile for d in decisions} == {"standard", "conservative"}
    assert any(f.effect_kind == "refer" for d in decisions for f in d.red_flags)
    assert any(f.effect_kind == "flare" for d in decisions for f in d.red_flags)
    assert any(d.missing_tests for d in decisions)
    assert {"protect", "load", "run", "sprint"} <= {d.previous.phase for d in decisions}
    assert any(d.previous.phase is None for d in decisions)
    assert any(d.carried_forward for d in decisions)
    assert any(h.id == "R6" for d in decisions for h in d.held_by)
    assert any(d.plan.basis == "measured" for d in decisions)
    assert any(c.basis == "measured" for d in decisions for c in d.criteria)


def test_examples_tell_the_2027_1_stories() -> None:
    """The stories section 10 asks for: a reviewed 3c, a surgical case out of scope, a flare
    from the signed phase, a late visit carrying early gates, the soleus tested knee-bent
    with knee-to-wall, and a plan ceiling that follows a 75 % pain-free speed."""
    def example(name: str) -> Any:
        return decide(json.loads((EXAMPLES / f"{name}.json").read_text("utf-8")))

    reviewed = example("hamstring-3c-intratendinous-after-conservative-review")
    assert reviewed.injury.sprint_day_floor == 28 and "R11" not in [
        f.id for f in reviewed.red_flags]
    surgical = example("hamstring-proximal-avulsion-surgical-review-out-of-scope")
    assert "outside this protocol" in next(f for f in surgical.red_flags
                                           if f.id == "R11").message
    late = example("hamstring-late-visit-early-gates-carried-forward")
    assert late.carried_forward and all(
        c.gate in ("G1", "G2", "G3") for c in late.criteria if c.status == "carried_forward")
    soleus = example("calf-soleus-bent-knee-heel-raise-and-knee-to-wall")
    statuses = {c.id: c.status for c in soleus.criteria}
    assert statuses["C312"] == "unmet" and statuses["C313"] == "unmet"
    assert soleus.injury.sprint_day_floor == 21
    ceiling = example("hamstring-signed-sprint-plan-ceiling-follows-75pct-pain-free-speed")
    assert (ceiling.plan.max_velocity_pct, ceiling.plan.basis,
            ceiling.plan.max_velocity_mps) == (75.0, "measured", 7.5)
    assert ceiling.previous.phase == "sprint"
