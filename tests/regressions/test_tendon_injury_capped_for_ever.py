"""Regression (2027.1, section 10, R1 split into R1 and R11): every BAMIC 3c or tendon
injury was capped at protect for ever, with no way to record a physician's review.
"""

from __future__ import annotations

from support import hamstring_play, varied

from engine import decide


def test_a_conservative_review_ends_the_cap() -> None:
    """A 3c with a recorded conservative review is decided by its criteria and floors."""
    review = {"date": "2026-01-05", "management": "conservative", "by": "Dr. P"}
    decision = decide(varied(hamstring_play(), {"injury.bamic_grade": "3c",
                                                "injury.tendon_involved": True,
                                                "injury.physician_review": review}))
    assert decision.red_flags == []
    assert decision.phase.id == "play"


def test_without_the_review_r11_says_what_ends_it() -> None:
    """Without the review, R11 holds at protect until it is recorded."""
    decision = decide(varied(hamstring_play(), {"injury.bamic_grade": "3c"}))
    assert decision.phase.id == "protect"
    assert [h.ends for h in decision.held_by] == ["record a physician review "
                                                   "(injury.physician_review)"]
