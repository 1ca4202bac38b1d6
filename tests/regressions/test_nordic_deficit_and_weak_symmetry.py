"""Regression (2027.1, section 10, C304 and C407): a stronger injured side was blocked by
C304; 200 vs 215 N, both far below risk thresholds, was cleared.
"""

from __future__ import annotations

from support import criterion, hamstring_play, varied

from engine import decide


def test_a_stronger_injured_side_passes_c304() -> None:
    """Injured 300 N, uninjured 255 N: C304 (LSI > 85 %) is met."""
    decision = decide(varied(hamstring_play(), {"strength.nordic_n": (300, 255)}))
    assert criterion(decision, "C304").status == "met"


def test_symmetric_but_weak_is_not_cleared_to_train() -> None:
    """200 vs 215 N: C304 passes (93.0 %) but C407 (≥ 256 N) is unmet."""
    decision = decide(varied(hamstring_play(), {"strength.nordic_n": (200, 215)}))
    assert criterion(decision, "C304").status == "met"
    assert criterion(decision, "C407").status == "unmet"
    assert decision.criteria_phase.id == "sprint"
