"""Page geometry planted before signing: a crop, a smaller page or a turn that hides the banner.

Found by the independent review (issue-review): between ``report`` and ``sign``, a
``/CropBox`` on page 1 that ends above the status banner (or a smaller ``/MediaBox``, or
a ``/CropBox`` on the page tree that page 1 inherits) makes a viewer show page 1 without
"In force … NOT CLEARED to play", and ``/Rotate 180`` turns it upside down; ``sign``
signed each and ``verify`` said VALID, because only the page dictionary's keys were
checked, not their values. The renderer writes an A4 ``/MediaBox`` with equal trim and
bleed boxes and nothing else, so any other geometry is a named problem.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pikepdf
import pytest

from reports import verify_report
from rules.errors import ReportInputError


@pytest.fixture(scope="module")
def fresh(flare: Any, clock: dt.datetime, quiet: Any) -> bytes:
    """A fresh, unsigned report of the symptom-flare example."""
    from reports import render_report_pdf

    with quiet():
        return render_report_pdf(flare.decision, flare.assessment, generated_at=clock)


def _edited(report: bytes, edit: Callable[[pikepdf.Pdf], None]) -> bytes:
    with pikepdf.open(io.BytesIO(report)) as pdf:
        edit(pdf)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def _crop_page(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.CropBox = pikepdf.Array([0, 0, 595.275591, 560])


def _shrink_media(pdf: pikepdf.Pdf) -> None:
    page = pdf.pages[0].obj
    for key in ("/MediaBox", "/TrimBox", "/BleedBox"):
        page[key] = pikepdf.Array([0, 0, 595.275591, 560])


def _rotate(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.Rotate = 180


def _crop_tree(pdf: pikepdf.Pdf) -> None:
    pdf.Root.Pages.CropBox = pikepdf.Array([0, 0, 595.275591, 560])


def _clip_before(pdf: pikepdf.Pdf) -> None:
    # review, 2026-11-30: a stream prepended to page 1's content clips the banner away
    pdf.pages[0].contents_add(pdf.make_stream(b"0 0 595.28 582 re W n"), prepend=True)


GEOMETRY = [
    (_clip_before, "page 1: its content is 2 streams"),
    (_crop_page, "page 1: /CropBox"),
    (_shrink_media, "page 1: /MediaBox"),
    (_rotate, "page 1: /Rotate"),
    (_crop_tree, "page 1: /CropBox"),  # qpdf pushes an inherited box down to every page
]
IDS = ["clip-stream", "crop", "media", "rotate", "inherited-crop"]


@pytest.mark.parametrize(("edit", "reason"), GEOMETRY, ids=IDS)
def test_page_geometry_planted_before_signing_is_refused(fresh: bytes, sign: Any,
                                                        edit: Any, reason: str) -> None:
    with pytest.raises(ReportInputError) as refused:
        sign(_edited(fresh, edit))
    assert any(reason in problem for problem in refused.value.problems), refused.value.problems


@pytest.mark.parametrize(("edit", "reason"), GEOMETRY, ids=IDS)
def test_page_geometry_signed_anyway_is_invalid(fresh: bytes, sign_anyway: Any,
                                                trust: list[bytes], edit: Any,
                                                reason: str) -> None:
    result = verify_report(sign_anyway(_edited(fresh, edit)), trust_roots=trust)
    assert not result.valid
    assert any(reason in r for r in result.reasons), result.reasons


def test_the_report_as_rendered_still_signs_and_verifies(fresh: bytes, sign: Any,
                                                         trust: list[bytes]) -> None:
    assert verify_report(sign(fresh), trust_roots=trust).valid


def _title_says_cleared(pdf: pikepdf.Pdf) -> None:
    """Info and XMP changed alike (so PDF/A's "info and XMP agree" still holds)."""
    forged = "Signed: phase 6 play — cleared to sprint, cleared to play"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = forged
        meta["dc:description"] = forged
    pdf.docinfo["/Title"] = forged
    pdf.docinfo["/Subject"] = forged


def test_a_title_planted_before_signing_is_refused(fresh: bytes, sign: Any) -> None:
    """Found by the review: Title and Subject saying "cleared to play" over a record that
    says otherwise were signed, and verified VALID (viewers and archive indexes show them)."""
    with pytest.raises(ReportInputError) as refused:
        sign(_edited(fresh, _title_says_cleared))
    assert any("the document's Title is “Signed: phase 6 play" in p
               for p in refused.value.problems), refused.value.problems


def test_a_title_planted_and_signed_anyway_is_invalid(fresh: bytes, sign_anyway: Any,
                                                      trust: list[bytes]) -> None:
    result = verify_report(sign_anyway(_edited(fresh, _title_says_cleared)), trust_roots=trust)
    assert not result.valid
    assert any("the document's Subject is" in r for r in result.reasons), result.reasons
