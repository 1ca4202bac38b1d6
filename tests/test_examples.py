"""Every file in examples/ is decided, and decides the story its name tells."""

from __future__ import annotations

import json

import pytest
from support import EXAMPLES, example_files

from engine import decide

# name → (phase, criteria phase, red flags, cautions)
EXPECTED = {
    "hamstring-sprinter-day3-acute-protection": ("protect", "protect", [], []),
    "calf-soleus-distance-runner-early-loading": ("load", "load", [], []),
    "calf-missing-tests-heel-raise-and-hop-not-done": ("load", "load", [], []),
    "hamstring-conservative-profile-exercise-pain-above-limit": ("protect", "load", ["R4"], []),
    "hamstring-footballer-progressive-running-strength-deficit": ("run", "run", [], ["R8"]),
    "hamstring-red-flag-increasing-swelling-refer": ("protect", "run", ["R1"], ["R8"]),
    "hamstring-symptom-flare-next-morning-pain": ("run", "sprint", ["R3"], []),
    "hamstring-winger-cleared-to-sprint": ("sprint", "sprint", [], []),
    "hamstring-early-sprint-grade-3-caution": ("sprint", "sprint", [], ["R5", "R6"]),
    "calf-gastrocnemius-scrum-half-team-training": ("train", "train", [], []),
    "hamstring-rugby-back-reinjury-cleared-to-play-conservative": (
        "play", "play", [], ["R7", "R8", "R9"]),
}


def test_every_example_has_an_expected_story() -> None:
    """No example file is left out of this table, and none is listed without its file."""
    assert {path.stem for path in example_files()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_decides_its_story(name: str) -> None:
    """The example is valid and reaches the phase, red flags and cautions its name promises."""
    document = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    decision = decide(document)
    phase, criteria_phase, red_flags, cautions = EXPECTED[name]
    assert decision.phase.id == phase
    assert decision.criteria_phase.id == criteria_phase
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
