"""Regression (2027.1, section 10, exposure, C504, R14, the plan): the seeds' demand for
gradual sprint volume was not encoded at all.
"""

from __future__ import annotations

from support import criterion, hamstring_play, varied

from engine import decide


def test_a_doubling_of_sprint_volume_is_cautioned_and_held() -> None:
    """Sprint metres doubled in a week: R14, and the plan holds the volume."""
    decision = decide(varied(hamstring_play(), {"exposure.sprint_m_7d": 560}))
    assert "R14" in [c.id for c in decision.cautions]
    assert decision.plan.volume.advice == "hold"


def test_play_needs_the_usual_running_load() -> None:
    """Half the usual weekly high-speed running: C504 unmet, no play."""
    decision = decide(varied(hamstring_play(), {"exposure.hsr_m_7d": 1000}))
    assert criterion(decision, "C504").status == "unmet"
    assert decision.phase.id == "train"
