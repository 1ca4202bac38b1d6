"""Step two: the PDF is A4 PDF/A-3b, embeds its fonts and its record, and reads as text.

Checked structurally (pikepdf, qpdf, poppler), never byte for byte against a file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from reports import RECORD_FILENAME, render_report_pdf
from reports.view import banner_claims

A4 = (595.28, 841.89)


def test_report_is_a4_pdfa_3b_with_embedded_fonts(flare: Any, assert_pdfa: Any) -> None:
    """A4 pages, XMP pdfaid part 3 / conformance B, every font embedded, qpdf clean."""
    assert_pdfa(flare.pdf)
    with pikepdf.open(io.BytesIO(flare.pdf)) as pdf:
        assert 2 <= len(pdf.pages) <= 3
        for page in pdf.pages:
            box = [float(v) for v in page.MediaBox]
            assert box[2:] == pytest.approx(A4, abs=0.1)


def test_record_is_attached_once_as_associated_data(flare: Any) -> None:
    """One embedded file, the record, in /AF once, with /AFRelationship /Data and JSON type."""
    with pikepdf.open(io.BytesIO(flare.pdf)) as pdf:
        attachments = pdf.attachments
        assert list(attachments) == [RECORD_FILENAME]
        spec = attachments[RECORD_FILENAME].obj
        associated = list(pdf.Root.AF)
        assert len(associated) == 1 and associated[0].objgen == spec.objgen
        assert spec.AFRelationship == "/Data"
        stream = spec.EF.F
        assert stream.Subtype == "/application/json"
        data = stream.read_bytes()
    record = json.loads(data)
    assert record["decision"]["decision_id"] == flare.decision.decision_id
    assert record["assessment"]["athlete"]["id"] == flare.decision.athlete.id


def test_footer_hash_printed_on_every_page_is_the_records_sha256(flare: Any, tmp_path: Path,
                                                                 pdftotext: Any) -> None:
    """An ordinary tool (pdfdetach, pdftotext) finds the record and the same hash per page."""
    path = tmp_path / "report.pdf"
    path.write_bytes(flare.pdf)
    saved = tmp_path / "record.json"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(saved), str(path)], check=True,
                   capture_output=True)
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    with pikepdf.open(io.BytesIO(flare.pdf)) as pdf:
        pages = range(1, len(pdf.pages) + 1)
    for page in pages:
        text = pdftotext(flare.pdf, page)
        assert re.findall(r"Record SHA-256 ([0-9a-f]{64})", text) == [digest]


def test_text_is_extractable_and_says_the_decision(flare: Any, pdftotext: Any) -> None:
    """pdftotext reads the banner's phase and clearance lines and the blocking criteria."""
    text = " ".join(pdftotext(flare.pdf).split())
    for claim in banner_claims(flare.decision):
        assert claim in text
    for blocking in flare.decision.blocking_details:
        assert blocking.id in text


def test_metadata_carries_title_author_and_the_clock_passed_in(flare: Any) -> None:
    """Title, author, creation and modification dates come from the decision and the clock."""
    with pikepdf.open(io.BytesIO(flare.pdf)) as pdf:
        info = pdf.docinfo
        assert str(info.Title).endswith(flare.decision.athlete.id)
        assert str(info.Author) == flare.decision.assessment.assessor
        assert str(info.CreationDate) == "D:20260310140500Z" == str(info.ModDate)
        meta = pdf.open_metadata()
        assert meta.get("{http://ns.adobe.com/xap/1.0/}CreateDate") == "2026-03-10T14:05:00Z"


def test_the_same_decision_and_clock_give_the_same_file(flare: Any, clock: dt.datetime) -> None:
    """Reproducible: the identifier comes from the record and the dates from the clock."""
    again = render_report_pdf(flare.decision, flare.assessment, generated_at=clock)
    assert again == flare.pdf
    later = render_report_pdf(flare.decision, flare.assessment,
                              generated_at=clock + dt.timedelta(minutes=1))
    assert later != flare.pdf


def test_reports_rendered_in_parallel_threads_are_the_same_files(examples: dict[str, Any],
                                                                 clock: dt.datetime) -> None:
    """Each thread keeps its own fonts and stylesheet: parallel rendering changes nothing."""
    from concurrent.futures import ThreadPoolExecutor

    chosen = [examples[name] for name in sorted(examples)[:4]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        files = list(pool.map(lambda r: render_report_pdf(r.decision, r.assessment,
                                                          generated_at=clock), chosen))
    assert files == [r.pdf for r in chosen]
