"""Regression (2027.1, section 10, measured velocity): self-rated percentages are
unreliable; a measured velocity now decides, and the finding records its basis.
"""

from __future__ import annotations

from support import criterion, hamstring_play, varied

from engine import decide


def test_measured_velocity_wins_over_a_generous_self_rating() -> None:
    """Self-rated 95 %, measured 7.6 of 10 m/s (76 %): C301 is unmet, basis measured."""
    decision = decide(varied(hamstring_play(), {
        "running.max_pain_free_speed_pct": 95, "running.max_pain_free_velocity_mps": 7.6,
        "sprint.pre_injury_max_velocity_mps": 10.0}))
    c301 = criterion(decision, "C301")
    assert (c301.status, c301.basis) == ("unmet", "measured")
