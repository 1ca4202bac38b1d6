"""Regression (2027.1, section 10, pain-free clearance): athletes with 4/10 running and
exercise pain could be cleared to play; one with sprint pain 5 stayed "cleared to sprint".

C301 now needs running pain 0, C311 pain-free strength and flexibility testing, C503
every pain field 0, and R10 caps sprint pain at run; L applies only to rehabilitation
exercise.
"""

from __future__ import annotations

from support import criterion, hamstring_play, varied

from engine import decide


def test_running_and_exercise_pain_4_is_not_cleared() -> None:
    """Running and exercise pain 4/10 (within the standard L): not cleared to sprint."""
    decision = decide(varied(hamstring_play(), {"pain.running": 4, "pain.exercise": 4}))
    assert criterion(decision, "C301").status == "unmet"
    assert criterion(decision, "C503").status == "unmet"
    assert not decision.cleared_to_play
    assert decision.phase.id == "run"


def test_sprint_pain_5_is_not_cleared_to_sprint() -> None:
    """Sprint pain 5/10: R10 caps at run."""
    decision = decide(varied(hamstring_play(), {"pain.sprint": 5}))
    assert "R10" in [f.id for f in decision.red_flags]
    assert decision.phase.id == "run" and not decision.cleared_to_sprint


def test_pain_on_testing_blocks_the_sprint_gate() -> None:
    """C311: isometric or stretch pain on testing keeps G3 closed in both profiles."""
    decision = decide(varied(hamstring_play(), {"pain.stretch": 1}))
    assert criterion(decision, "C311").status == "unmet"
    assert decision.criteria_phase.id == "run"
