"""Regression (2027.1, section 10, activities): the repeated-sprint test needed to
leave sprint was not allowed in it; overspeed strides come last.
"""

from __future__ import annotations

from support import hamstring_play, varied

from engine import decide


def test_sprint_phase_allows_repeated_sprints_not_overspeed() -> None:
    """At sprint: repeated sprints under fatigue allowed, overspeed strides not yet."""
    decision = decide(varied(hamstring_play(), {"previous.phase": "run"}))
    assert decision.phase.id == "sprint"
    assert "repeated_sprints_fatigue" in decision.allowed_activities
    assert "overspeed_strides" in decision.restricted_activities
