"""Regression (2027.1, section 10, C202): at exactly 20.0 % deficit the criterion named
"deficit < 20 %" passed.
"""

from __future__ import annotations

from support import REMOVE, criterion, hamstring_play, varied

from engine import decide


def test_20_percent_deficit_fails_and_the_tie_rounds() -> None:
    """240/300 (LSI 80.0) fails; 240.15/300 (80.05 → 80.1) passes; 1599/2000 (79.95 → 80.0)
    fails."""
    for sides, status in (((240, 300), "unmet"), ((240.15, 300), "met"),
                          ((1599, 2000), "unmet")):
        decision = decide(varied(hamstring_play(), {"strength.isometric_90_90": sides,
                                                    "previous": REMOVE}))
        assert criterion(decision, "C202").status == status, sides
