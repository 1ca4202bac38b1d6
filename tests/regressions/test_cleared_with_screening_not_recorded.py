"""Regression (2027.1, section 10, R13): an athlete could be cleared to play with
swelling and the 24-hour response never recorded.
"""

from __future__ import annotations

from support import REMOVE, hamstring_play, varied

from engine import decide


def test_no_swelling_or_next_morning_record_holds_at_protect() -> None:
    """Swelling and next-morning pain not recorded: R13 holds at protect, naming both."""
    decision = decide(varied(hamstring_play(), {"signs.swelling_increasing": REMOVE,
                                                "pain.next_morning": REMOVE}))
    assert decision.phase.id == "protect"
    hold = next(h for h in decision.holds if h.id == "R13")
    assert hold.missing == ["signs.swelling_increasing", "pain.next_morning"]
