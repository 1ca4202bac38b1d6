"""Regression (2027.1, section 10, carried forward): a late visit had to re-enter every
early test or fell to protect.
"""

from __future__ import annotations

from support import REMOVE, hamstring_play, varied

from engine import decide


def test_early_tests_not_repeated_are_carried_forward() -> None:
    """Signed sprint; walking, squat and SLR not repeated: carried forward, decided train."""
    decision = decide(varied(hamstring_play(), {
        "previous.phase": "sprint", "pain.walking": REMOVE, "function": REMOVE,
        "flexibility.passive_slr_deg": REMOVE, "training.full_team_sessions": 1}))
    assert decision.carried_forward == ["C101", "C104", "C203"]
    assert decision.phase.id == "train"
