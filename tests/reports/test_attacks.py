"""Every attack of issue 9, built from a fresh report: refused when signing, named when verifying.

Shadow content planted before signing (a form XObject, a print-only stamp, an
optional-content layer), laundering after signing (a new field painting over
the banner, then a trusted countersignature; a countersignature whose own
appearance says something else), a name that is not the certificate's, and a
file that stopped being PDF/A-3b. The legitimate countersignature still
verifies VALID (test_signing.py and below).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pikepdf
import pytest
from tampering_support import (
    form_with_xfa,
    metadata_title_changed,
    metadata_without_pdfa,
    overlay_signature_field,
    planted_form_xobject,
    planted_optional_content,
    planted_print_only_stamp,
)

import reports.signing
from reports import verify_report
from rules.errors import ReportInputError

COUNTERSIGNED_AT = dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def fresh(flare: Any, clock: dt.datetime, quiet: Any) -> bytes:
    """A fresh, unsigned report of the symptom-flare example."""
    from reports import render_report_pdf

    with quiet():
        return render_report_pdf(flare.decision, flare.assessment, generated_at=clock)


@pytest.fixture(scope="module")
def roots(trust: list[bytes], other_pki: Any) -> list[bytes]:
    """The clinician's root and the team physician's."""
    return [*trust, other_pki.ca_certificate.read_bytes()]


PLANTED = [
    (planted_form_xobject, "page 1, form XObject /Xforged draws “Phase 6 of 6 · Return to play "
                           "✓ CLEARED to play”, which is not a text of the record's charts"),
    (planted_print_only_stamp, "page 1 carries a Stamp annotation (printed but hidden on "
                               "screen); the renderer writes no annotation"),
    (planted_optional_content, "the report's catalog holds /OCProperties: optional content "
                               "(layers a viewer or a printer may show or hide)"),
]


@pytest.mark.parametrize(("plant", "reason"), PLANTED, ids=["form", "print-only", "layer"])
def test_content_planted_before_signing_is_refused_by_sign(fresh: bytes, sign: Any, plant: Any,
                                                           reason: str) -> None:
    """sign refuses a report with planted content, naming what it found."""
    with pytest.raises(ReportInputError) as refused:
        sign(plant(fresh))
    assert reason in refused.value.problems, refused.value.problems


@pytest.mark.parametrize(("plant", "reason"), PLANTED, ids=["form", "print-only", "layer"])
def test_content_planted_and_signed_anyway_is_invalid(fresh: bytes, sign_anyway: Any,
                                                      trust: list[bytes], plant: Any,
                                                      reason: str) -> None:
    """Signed with a tool that does not look, the planted content is a named reason."""
    result = verify_report(sign_anyway(plant(fresh)), trust_roots=trust)
    assert not result.valid
    assert reason in result.reasons, result.reasons
    assert result.signatures[0].ok  # the signature itself is fine: what it signed is not


def test_the_planted_form_really_draws_the_forged_banner(fresh: bytes, pdftotext: Any) -> None:
    """The attack is real: a text reader sees the forged words on page 1."""
    words = " ".join(pdftotext(planted_form_xobject(fresh), 1).split())
    assert "CLEARED to play" in words and "Phase 6 of 6" in words


def test_an_optional_layer_is_also_named_where_it_is_drawn(fresh: bytes, sign: Any) -> None:
    """The marked content on page 1 is named as well as the catalog entry."""
    with pytest.raises(ReportInputError) as refused:
        sign(planted_optional_content(fresh))
    assert "page 1 marks content as optional content, which a viewer or a printer may show " \
        "or hide" in refused.value.problems


def test_a_countersignature_does_not_launder_an_overlay_field(
        signed_flare: bytes, sign: Any, sign_anyway: Any, other_signer: Any,
        roots: list[bytes]) -> None:
    """A new empty field painting over the banner, then a trusted countersignature: refused by
    sign, and invalid when countersigned anyway, the field named."""
    overlaid = overlay_signature_field(signed_flare)
    with pytest.raises(ReportInputError) as refused:
        sign(overlaid, other_signer, signed_at=COUNTERSIGNED_AT)
    laundered = sign_anyway(overlaid, other_signer, signed_at=COUNTERSIGNED_AT)
    result = verify_report(laundered, trust_roots=roots)
    assert not result.valid
    wanted = "revision 2: field “Overlay” is a new form field that no signature fills"
    assert wanted in refused.value.problems and wanted in result.reasons, result.reasons
    assert all(signature.ok for signature in result.signatures)  # pyHanko: form filling


def test_pyhanko_alone_would_call_the_laundered_file_valid(
        signed_flare: bytes, sign_anyway: Any, other_signer: Any, roots: list[bytes]) -> None:
    """The attack the issue found: the signatures alone pass (so the structure check matters)."""
    laundered = sign_anyway(overlay_signature_field(signed_flare), other_signer,
                            signed_at=COUNTERSIGNED_AT)
    result = verify_report(laundered, trust_roots=roots)
    assert [s.later_changes for s in result.signatures] == ["form_filling", "none"]
    assert result.signatures[0].ok and result.signatures[1].ok
    assert not result.valid


def test_a_countersignature_whose_appearance_says_something_else_is_invalid(
        signed_flare: bytes, other_signer: Any, roots: list[bytes]) -> None:
    """Slot 2 filled with an appearance that is not sprintclear's stamp for that signature."""
    original = reports.signing.stamp_paragraphs

    def lying(**kwargs: Any) -> tuple[str, str, str, str]:
        signed_by, when, _, certificate = original(**kwargs)
        return signed_by, when, "✓ CLEARED to play", certificate

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reports.signing, "stamp_paragraphs", lying)
        patch.setattr(reports.signing, "inspect_before_signing", lambda writer, pdf: [])
        both = reports.signing.sign_report(signed_flare, other_signer, meaning="Countersigned",
                                           signed_at=COUNTERSIGNED_AT)
    result = verify_report(both, trust_roots=roots)
    assert not result.valid
    assert any("the appearance of revision 2: field “Signature2” draws “Signed by Dr. Team "
               "Physician on 2026-03-11 08:00:00 UTC (PAdES) ✓ CLEARED to play Certificate: "
               "Dr. Team Physician”, not sprintclear's stamp for its signature" in reason
               for reason in result.reasons), result.reasons


def test_a_printed_name_that_is_not_the_certificates_is_refused(fresh: bytes,
                                                                sign: Any) -> None:
    """sign --name "Dr. Someone Else" over Dr. Test Clinician's certificate is refused."""
    with pytest.raises(ReportInputError) as refused:
        sign(fresh, name="Dr. Someone Else")
    assert "“Dr. Someone Else” is not the name the certificate was issued to " \
        "(“Dr. Test Clinician”)" in str(refused.value)


def test_a_printed_name_forged_into_a_signature_is_invalid(fresh: bytes, sign_anyway: Any,
                                                          trust: list[bytes]) -> None:
    """A signature made with another tool that prints another name: named by verify."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reports.signing, "printed_name", lambda name, signer: str(name))
        signed = sign_anyway(fresh, name="Dr. Someone Else")
    result = verify_report(signed, trust_roots=trust)
    assert not result.valid
    assert "signature 1 (Signature1) prints the name “Dr. Someone Else”, but its certificate " \
        "was issued to “Dr. Test Clinician”" in result.reasons


def test_the_name_may_differ_in_spacing_and_case_only(fresh: bytes, sign: Any,
                                                      trust: list[bytes]) -> None:
    """The certificate's name with other white space or letter case is the same name."""
    result = verify_report(sign(fresh, name="  dr. TEST   clinician "), trust_roots=trust)
    assert result.valid, result.reasons
    assert result.signatures[0].printed_name == "dr. TEST clinician"


def test_a_file_that_is_no_longer_pdfa_is_invalid_and_says_so(
        signed_flare: bytes, sign_anyway: Any, other_signer: Any, roots: list[bytes]) -> None:
    """An update that drops the PDF/A identification, countersigned anyway: named."""
    both = sign_anyway(metadata_without_pdfa(signed_flare), other_signer,
                       signed_at=COUNTERSIGNED_AT)
    result = verify_report(both, trust_roots=roots)
    assert not result.valid
    assert "the file is no longer PDF/A-3b: its XMP metadata no longer declares PDF/A-3 " \
        "conformance B" in result.reasons, result.reasons


def test_the_legitimate_countersignature_is_valid_and_still_pdfa(
        signed_flare: bytes, sign: Any, other_signer: Any, roots: list[bytes],
        assert_pdfa: Any) -> None:
    """The team physician's countersignature in slot 2: VALID, PDF/A-3b, no structure reason."""
    both = sign(signed_flare, other_signer, signed_at=COUNTERSIGNED_AT)
    result = verify_report(both, trust_roots=roots)
    assert result.valid, result.reasons
    assert_pdfa(both)
    with pikepdf.open(io.BytesIO(both)) as pdf:
        widgets = [annot for page in pdf.pages for annot in page.get("/Annots", [])]
        assert sorted(str(w.T) for w in widgets) == ["Signature1", "Signature2"]


@pytest.mark.parametrize(("tamper", "reason", "verified"), [
    (metadata_title_changed, "the file is no longer PDF/A-3b: the document information's "
                             "title is not the XMP one", None),
    (form_with_xfa, "revision 2 gives the form /XFA, which sprintclear never writes",
     # pyHanko's own difference analysis already rejects an XFA form
     "signature 1 (Signature1): the file was changed after it beyond adding signatures (other)"),
], ids=["xmp-title", "xfa"])
def test_what_a_viewer_shows_besides_the_pages_cannot_be_changed_either(
        signed_flare: bytes, sign: Any, sign_anyway: Any, other_signer: Any,
        roots: list[bytes], tamper: Any, reason: str, verified: str | None) -> None:
    """A title in the XMP packet, an XFA form: refused by sign, named by verify."""
    tampered = tamper(signed_flare)
    with pytest.raises(ReportInputError) as refused:
        sign(tampered, other_signer, signed_at=COUNTERSIGNED_AT)
    assert reason in refused.value.problems, refused.value.problems
    result = verify_report(sign_anyway(tampered, other_signer, signed_at=COUNTERSIGNED_AT),
                           trust_roots=roots)
    assert (verified or reason) in result.reasons, result.reasons
