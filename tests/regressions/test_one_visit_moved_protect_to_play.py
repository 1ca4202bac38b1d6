"""Regression (protocol 2027.1, section 10, R6): one visit could move an athlete from
protect to play.

Under 2026.1 an athlete last signed at protect whose tests all passed was decided
``play`` at the next visit. R6 is now a hold: one phase per signed review.
"""

from __future__ import annotations

from support import REMOVE, hamstring_play, varied

from engine import decide


def test_signed_protect_with_every_test_passed_moves_one_step() -> None:
    """Signed protect, every gate passed: the decision is load, held by R6."""
    document = varied(hamstring_play(), {"previous.phase": "protect"})
    decision = decide(document)
    assert decision.criteria_phase.id == "play"
    assert decision.phase.id == "load"
    assert [h.id for h in decision.held_by] == ["R6"]
    assert not decision.cleared_to_sprint


def test_without_a_signed_phase_at_most_run() -> None:
    """No signed phase on record: at most run, whatever the tests say."""
    decision = decide(varied(hamstring_play(), {"previous": REMOVE}))
    assert decision.phase.id == "run"
