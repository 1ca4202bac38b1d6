"""Regression (protocol 2027.1, section 7): a date with a time bypassed the injury-after-
assessment check, and a tiny uninjured value crashed the command line.

Found by the clinical review (2026-11): ``"injury.date": "2026-11-20T00:00:00"`` with an
assessment dated 2026-03-05 was accepted (the string comparison skipped the order check):
an athlete with −259 days since injury was cleared to sprint. An uninjured Nordic force
of 1e-33 N gave a traceback on the command line (and a 500 from the service): the LSI's
decimal arithmetic overflowed. Dates are strict ``YYYY-MM-DD`` strings now, and an
uninjured side below 1 is refused, naming the field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO, hamstring_play, varied

from engine import parse_assessment
from rules.errors import InvalidAssessment


@pytest.mark.parametrize("date", ["2026-11-20T00:00:00", "2026-11-20 00:00", 1795132800,
                                  "20261120"])
def test_a_date_that_is_not_a_plain_iso_string_is_refused(date: object) -> None:
    """A date with a time, a timestamp or another form is refused, naming injury.date."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(varied(hamstring_play(), {"injury.date": date}))
    assert [(p.field, p.rule) for p in caught.value.problems] == [("injury.date", "date")]


@pytest.mark.parametrize("value", [1e-33, 5e-324, 0.999])
def test_a_tiny_uninjured_side_is_refused_on_the_command_line(tmp_path: Path,
                                                              value: float) -> None:
    """The command exits 2 naming the field, with no traceback."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(varied(hamstring_play(), {"strength.nordic_n": (300, value)})))
    result = subprocess.run([sys.executable, "-m", "sprintclear", "evaluate", str(path)],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert "strength.nordic_n.uninjured: must be at least 1 N" in result.stderr
    assert "Traceback" not in result.stderr
