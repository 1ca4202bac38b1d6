"""Regression: an overridden recommendation was invisible on the report's pages.

Found in review (2026-11-21): the service signed reports whose pages showed
only the rule base's recommendation ("Phase 5 · Return to team training,
CLEARED to sprint"); the clinician's override to another phase, and its
reason, were only in the signature's meaning string, which PDF viewers hide
in a panel. An insurer reading the pages saw a clearance the clinician had
not given. The first page must print the override, the signed phase and what
it clears, in the PDF text itself.

Issue 9 went further: the signed phase now leads the banner (the status in
force), and the recommendation follows it, labelled as the rule base's.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from support import load_example

from engine import decide, parse_assessment
from reports import ReportSignoff, render_report_pdf


def test_the_first_page_prints_the_override_the_clinician_signed(tmp_path: Path) -> None:
    """The PDF's first page text has the override, the signed phase, its clearances and reason."""
    document = load_example("calf-gastrocnemius-scrum-half-team-training")
    at = dt.datetime(2026, 2, 16, 11, 0, tzinfo=dt.UTC)
    decision = decide(document, evaluated_at=at)
    assert decision.phase.id == "train" and decision.cleared_to_sprint
    signoff = ReportSignoff(action="override", clinician="Dr. S. Adeyemi", signed_at=at,
                            signed_phase="run", reason="Calf cramped in the last session")
    path = tmp_path / "report.pdf"
    path.write_bytes(render_report_pdf(decision, parse_assessment(document).document,
                                       generated_at=at, signoff=signoff))
    first_page = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"],
                                capture_output=True, text=True, check=True).stdout
    words = " ".join(first_page.split())
    assert "OVERRIDDEN by Dr. S. Adeyemi" in words
    assert "Signed: Phase 3 of 6 · Progressive running (run) ✗ NOT CLEARED to sprint ✗ NOT " \
        "CLEARED to play" in words
    assert "Calf cramped in the last session" in words
    # the recommendation follows, labelled, and its clearance is not drawn as a ✓ box
    assert words.index("Signed: Phase 3") < words.index("Recommendation of the rule base: Phase")
    assert "recommended: cleared to sprint YES, to play NO" in words
    assert "✓ CLEARED to sprint" not in words
