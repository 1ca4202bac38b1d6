"""What is in force comes first: the signed phase leads page 1, the metadata and every summary;
the rule base's recommendation follows, labelled; an unsigned report says it is not signed off."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from support import REPO

from reports import ReportSignoff, render_report_pdf, verify_report
from reports.view import status_in_force

WINGER = "hamstring-winger-cleared-to-sprint"
OVERRIDE = ReportSignoff(action="override", clinician="Dr. Lena Brandt",
                         signed_at=dt.datetime(2026, 3, 10, 14, 20, tzinfo=dt.UTC),
                         signed_phase="run",
                         reason="Tightness after the last session; one more week of running")


@pytest.fixture(scope="module")
def overridden(examples: dict[str, Any], clock: dt.datetime, quiet: Any) -> bytes:
    """The winger (recommended: sprint, cleared to sprint) overridden down to run."""
    winger = examples[WINGER]
    with quiet():
        return render_report_pdf(winger.decision, winger.assessment, generated_at=clock,
                                 signoff=OVERRIDE)


def test_an_override_leads_page_one_with_the_signed_phase(overridden: bytes,
                                                         pdftotext: Any) -> None:
    """Signed phase and NOT cleared first, in the banner; the recommendation after, labelled,
    and its clearance never drawn as a ✓ CLEARED box."""
    words = " ".join(pdftotext(overridden, 1).split())
    order = ["In force: the clinician's sign-off", "Signed: Phase 3 of 6 · Progressive running",
             "✗ NOT CLEARED to sprint", "⚠ OVERRIDDEN by Dr. Lena Brandt",
             "Recommendation of the rule base: Phase 4 of 6 · Return to sprint",
             "recommended: cleared to sprint YES, to play NO"]
    positions = [words.index(text) for text in order]
    assert positions == sorted(positions)
    assert "✓ CLEARED to sprint" not in words


def test_the_metadata_leads_with_the_status_in_force(overridden: bytes,
                                                     examples: dict[str, Any]) -> None:
    """Title and Subject: the signed phase first; unsigned, "Recommendation — not signed off"."""
    with pikepdf.open(io.BytesIO(overridden)) as pdf:
        assert str(pdf.docinfo.Title) == ("Signed: phase 3 run — NOT cleared to sprint, NOT "
                                          "cleared to play · clearance report FC-23")
        assert str(pdf.docinfo.Subject) == (
            "Signed: phase 3 run — NOT cleared to sprint, NOT cleared to play (override by "
            "Dr. Lena Brandt on 2026-03-10 14:20:00 UTC); recommendation of the rule base: "
            "phase 4 sprint — cleared to sprint YES, to play NO (overridden)")
    with pikepdf.open(io.BytesIO(examples[WINGER].pdf)) as pdf:
        assert str(pdf.docinfo.Title).startswith(
            "Recommendation — not signed off: phase 4 sprint — cleared to sprint, NOT cleared "
            "to play")


def test_an_unsigned_report_says_so_in_its_banner(examples: dict[str, Any],
                                                  pdftotext: Any) -> None:
    """No sign-off: the banner's first words are "Recommendation — not signed off"."""
    words = " ".join(pdftotext(examples[WINGER].pdf, 1).split())
    banner = words[words.index("Recommendation — not signed off"):]
    assert banner.startswith("Recommendation — not signed off Phase 4 of 6 · Return to sprint")
    assert "No clinician has signed this recommendation off" in banner


def test_verify_leads_with_the_status_in_force(overridden: bytes, sign: Any,
                                               trust: list[bytes], tmp_path: Path) -> None:
    """verify's second line is what is in force; the recommendation is labelled further down."""
    from click.testing import CliRunner

    from sprintclear.cli import main

    result = verify_report(sign(overridden), trust_roots=trust)
    assert result.valid and result.status is not None and result.status.signed
    (tmp_path / "signed.pdf").write_bytes(sign(overridden))
    (tmp_path / "root.pem").write_bytes(trust[0])
    out = CliRunner().invoke(main, ["verify", str(tmp_path / "signed.pdf"), "--trust",
                                    str(tmp_path / "root.pem")]).stdout.splitlines()
    assert out[1] == ("  in force: Signed: phase 3 run — NOT cleared to sprint, NOT cleared to "
                      "play (override by Dr. Lena Brandt on 2026-03-10 14:20:00 UTC)")
    assert any("recommendation of the rule base: phase 4 sprint — cleared to sprint YES, to "
               "play NO (overridden)" in line for line in out)


def test_an_acceptance_is_in_force_as_recommended(examples: dict[str, Any]) -> None:
    """Accepted: the signed phase is the recommendation, said as accepted."""
    winger = examples[WINGER].decision
    signoff = {"action": "accept", "clinician": "Dr. A", "signed_at": "2026-03-10T14:20:00Z",
               "recommended_phase": "sprint", "signed_phase": "sprint", "reason": None}
    status = status_in_force(winger, signoff)
    assert status.summary == ("Signed: phase 4 sprint — cleared to sprint, NOT cleared to play "
                              "(accepted by Dr. A on 2026-03-10 14:20:00 UTC)")
    assert status.sprint_claim == "✓ CLEARED to sprint"


def test_page_one_of_an_overridden_report_as_a_picture(overridden: bytes) -> None:
    """pdftoppm draws page 1; the PNG is kept under artifacts/ to look at (and it is looked
    at: the signed phase's red NOT CLEARED boxes lead, the recommendation follows in grey)."""
    folder = REPO / "artifacts"
    folder.mkdir(exist_ok=True)
    (folder / "report-override.pdf").write_bytes(overridden)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(folder / "report-override.pdf"), str(folder / "report-override-page1")],
                   check=True, capture_output=True)
    picture = folder / "report-override-page1.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
