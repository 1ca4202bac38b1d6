"""Regression: single-line text took Unicode line breaks, C1 controls and bidi overrides.

Found by the independent review (issue-review): protocol section 7 says a single-line
string has "no line break of any kind (``\\n``, ``\\r``, U+0085, U+2028, U+2029) and no
control character", but ``SINGLE_LINE_TEXT`` refused only C0 controls and DEL, so
``athlete.name`` = ``"A\\u2028B"`` was decided, and a name with U+202E RIGHT-TO-LEFT
OVERRIDE was printed on a signed report, re-ordering the words that followed it on the
page ("... yalp ot DERAELC" drawn as "... CLEARED to play"). Bidi embedding, override
and isolate controls (U+202A–U+202E, U+2066–U+2069) are invisible format controls that
change what a reader sees, so they are refused with the other controls.
"""

from __future__ import annotations

import pytest
from support import hamstring_play, varied

from engine import parse_assessment
from rules.errors import InvalidAssessment

REFUSED = ["A\u0085B", "A\u2028B", "A\u2029B", "A\u009bB", "A\u0080B",
           "Jonas Berg \u202eyalp ot DERAELC", "A\u202aB", "A\u202dB", "A\u2066B", "A\u2069B"]


@pytest.mark.parametrize("text", REFUSED)
@pytest.mark.parametrize("field", ["athlete.name", "athlete.sport", "assessment.assessor"])
def test_unicode_line_breaks_c1_and_bidi_controls_are_refused(field: str, text: str) -> None:
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(varied(hamstring_play(), {field: text}))
    assert [(p.field, p.rule) for p in caught.value.problems] == [(field, "text")]


@pytest.mark.parametrize("text", ["Zoë Ó Súilleabháin", "Łukasz Żółć", "Nguyễn Thị Ánh",
                                  "Αλέξανδρος", "Дмитрий", "Çağrı Şahin", "O\u2019Neil"])
def test_names_in_the_supported_scripts_still_pass(text: str) -> None:
    assert parse_assessment(varied(hamstring_play(), {"athlete.name": text})).document[
        "athlete"]["name"] == text
