"""Regression (2027.1, section 10, AKE defined): an included-angle reading let a 15°
deficit pass (154° vs 169° is LSI 91.1 %). AKE is now degrees of extension from the
90°/90° start, 0–90.
"""

from __future__ import annotations

import pytest
from support import criterion, hamstring_play, varied

from engine import decide, parse_assessment
from rules.errors import InvalidAssessment


def test_included_angle_is_refused_and_the_same_deficit_fails() -> None:
    """154/169 is out of range; the same 15° deficit from the start (65/80) fails C305."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(varied(hamstring_play(), {"flexibility.ake_deg": (154, 169)}))
    assert caught.value.problems[0].field == "flexibility.ake_deg.injured"
    decision = decide(varied(hamstring_play(), {"flexibility.ake_deg": (65, 80)}))
    assert criterion(decision, "C305").status == "unmet"
