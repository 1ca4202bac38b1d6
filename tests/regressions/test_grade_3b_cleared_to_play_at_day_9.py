"""Regression (2027.1, section 10, R5 play floor, unknown grade, +7 days): a grade 3b
was cleared to play at day 9; an unknown grade had no floor.
"""

from __future__ import annotations

from support import REMOVE, hamstring_play, varied

from engine import decide


def test_grade_3b_at_day_9_is_held_at_sprint() -> None:
    """Grade 3b (play floor 28) at day 9: held at sprint until day 28, and cautioned."""
    decision = decide(varied(hamstring_play(), {
        "injury.bamic_grade": "3b", "injury.date": "2026-02-21",
        "previous.date": "2026-02-28"}))
    assert decision.phase.id == "sprint"
    assert next(h for h in decision.holds if h.id == "R5").until == "2026-03-21"
    assert "R5" in [c.id for c in decision.cautions]


def test_unknown_grade_has_the_grade_2_floors() -> None:
    """No grade: floors 14 and 21 days, +7 for a recurrence."""
    decision = decide(varied(hamstring_play(), {"injury.bamic_grade": REMOVE,
                                                "injury.previous_same_site": 1}))
    assert (decision.injury.sprint_day_floor, decision.injury.play_day_floor) == (21, 28)
