"""Regression (2027.1, section 10, flares): a next-morning flare could coincide with a
two-phase progression, shown as "cleared to sprint" beside two red flags.

Under 2026.1 the flare stepped back from the criteria phase: signed at load,
criteria at train, next-morning pain 4 and exercise pain 5 gave sprint.
Flares now step back from the lower of the signed and the criteria phase.
"""

from __future__ import annotations

from support import hamstring_play, varied

from engine import decide


def test_flare_steps_back_from_the_signed_phase() -> None:
    """Signed load, criteria train, two flare triggers: protect, not cleared."""
    document = varied(hamstring_play(), {
        "previous.phase": "load", "pain.next_morning": 4, "pain.exercise": 5,
        "training.full_team_sessions": 1})
    decision = decide(document)
    assert [f.id for f in decision.red_flags] == ["R3", "R4"]
    assert decision.phase.id == "protect"
    assert not decision.cleared_to_sprint
