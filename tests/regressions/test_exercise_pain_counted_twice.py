"""Regression (2027.1, section 10, C205 retired): exercise pain above the limit was
counted twice, as a gate criterion and as a flare: 3–4 phases down for one symptom.
"""

from __future__ import annotations

from support import hamstring_play, varied

from engine import decide


def test_one_symptom_steps_back_one_phase_from_the_signed_phase() -> None:
    """Signed sprint, exercise pain 5 > L: one phase below sprint, not protect."""
    decision = decide(varied(hamstring_play(), {"previous.phase": "sprint",
                                                "pain.exercise": 5}))
    assert "C205" not in [c.id for c in decision.criteria]
    assert decision.phase.id == "run"
