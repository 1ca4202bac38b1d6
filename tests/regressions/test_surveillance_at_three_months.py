"""Regression (2027.1, section 10, surveillance): re-injury risk is highest in the first
weeks, not at 3 months; the play decision now lists re-test dates at 1, 2, 6 and 15 weeks.
"""

from __future__ import annotations

from support import hamstring_play

from engine import decide


def test_play_lists_the_surveillance_dates() -> None:
    """Decided play on 2026-03-02: re-tests 03-09, 03-16, 04-13, 06-15; re-assess by 03-09."""
    decision = decide(hamstring_play())
    assert decision.phase.id == "play"
    assert decision.plan.retests == ["2026-03-09", "2026-03-16", "2026-04-13", "2026-06-15"]
    assert decision.plan.reassess_by == "2026-03-09"
