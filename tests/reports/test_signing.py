"""Step three: the PAdES signature, its visible block, and what the signed file still is."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from weasyprint import HTML

from reports import ClinicianSigner, DemoPki, sign_report, verify_report
from reports.layout import SIGNATURE_SLOTS
from rules.errors import ReportInputError


def test_signed_report_verifies_and_records_who_when_and_why(
        signed_flare: bytes, trust: list[bytes], signed_at: dt.datetime, meaning: str) -> None:
    """One valid signature over the whole file, with printed name, meaning and UTC time."""
    result = verify_report(signed_flare, trust_roots=trust)
    assert result.valid, result.reasons
    (signature,) = result.signatures
    assert signature.field == SIGNATURE_SLOTS[0].field_name
    assert signature.printed_name == "Dr. Test Clinician"
    assert signature.signer == "Dr. Test Clinician"
    assert signature.meaning == meaning
    assert signature.signed_at == signed_at.isoformat().replace("+00:00", "Z")
    assert signature.coverage == "entire file"


def test_signed_report_is_still_pdfa_3b_with_embedded_fonts(signed_flare: bytes,
                                                            assert_pdfa: Any) -> None:
    """The incremental update keeps XMP PDF/A-3b, PDF 1.x, and embeds the stamp's font."""
    assert_pdfa(signed_flare)
    with pikepdf.open(io.BytesIO(signed_flare)) as pdf:
        widgets = [annot for page in pdf.pages for annot in page.get("/Annots", [])]
        assert len(widgets) == 1
        widget = widgets[0]
        assert int(widget.F) & 4, "a PDF/A annotation must be printable"
        fonts = widget.AP.N.Resources.Font
        assert all("/FontFile2" in font.DescendantFonts[0].FontDescriptor
                   for font in fonts.values())


def test_metadata_stays_consistent_and_dated_by_the_clock_passed_in(
        signed_flare: bytes, signed_at: dt.datetime) -> None:
    """Info and XMP agree on producer and modification date, which is the signing time."""
    with pikepdf.open(io.BytesIO(signed_flare)) as pdf:
        info, meta = pdf.docinfo, pdf.open_metadata()
        assert str(info.Producer) == meta.get("{http://ns.adobe.com/pdf/1.3/}Producer")
        assert str(info.ModDate) == signed_at.strftime("D:%Y%m%d%H%M%SZ")
        modified = dt.datetime.fromisoformat(meta.get("{http://ns.adobe.com/xap/1.0/}ModifyDate"))
        assert modified == signed_at
        assert "/ISO_" not in pdf.Root.get("/Extensions", {})


def test_visible_block_shows_name_time_meaning_and_certificate(
        signed_flare: bytes, pdftotext: Any, signed_at: dt.datetime, meaning: str) -> None:
    """The stamp on the last page prints the name, the UTC time, the meaning, the certificate."""
    with pikepdf.open(io.BytesIO(signed_flare)) as pdf:
        last = len(pdf.pages)
    text = " ".join(pdftotext(signed_flare, last).split())
    assert "Signed by Dr. Test Clinician" in text
    assert f"on {signed_at:%Y-%m-%d %H:%M:%S} UTC (PAdES)" in text
    assert meaning in text
    assert "Certificate: Dr. Test Clinician" in text


def test_the_block_is_drawn_inside_the_first_signature_slot(flare: Any,
                                                            signed_flare: bytes) -> None:
    """The widget's rectangle lies inside the slot box the template drew."""
    slot = SIGNATURE_SLOTS[0]
    with pikepdf.open(io.BytesIO(flare.pdf)) as pdf:
        names = pdf.Root.Names.Dests.Names
        index = [str(n) for n in names[::2]].index(slot.anchor)
        destination = names[2 * index + 1]
        left, top = float(destination[2]), float(destination[3])
        page_number = [p.objgen for p in pdf.pages].index(destination[0].objgen)
    with pikepdf.open(io.BytesIO(signed_flare)) as pdf:
        (widget,) = pdf.pages[page_number].Annots
        x1, y1, x2, y2 = (float(v) for v in widget.Rect)
    assert left <= x1 < x2 <= left + slot.width_pt
    assert top - slot.height_pt <= y1 < y2 <= top


def test_a_countersignature_keeps_the_first_signature_valid(
        signed_flare: bytes, other_signer: ClinicianSigner, trust: list[bytes],
        other_pki: DemoPki, sign: Any) -> None:
    """The team physician signs in slot 2; both signatures verify, the first as form filling."""
    both = sign(signed_flare, other_signer, name="Dr. Team Physician",
                meaning="Countersigned: team physician",
                signed_at=dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC))
    roots = [*trust, other_pki.ca_certificate.read_bytes()]
    result = verify_report(both, trust_roots=roots)
    assert result.valid, result.reasons
    first, second = result.signatures
    assert first.field == "Signature1" and first.later_changes == "form_filling"
    assert second.field == "Signature2" and second.coverage == "entire file"
    assert result.decision_check == "same"
    with pytest.raises(ReportInputError, match="no free signature slot"):
        sign(both, other_signer)


def test_a_countersignature_needs_its_own_root_to_be_trusted(
        signed_flare: bytes, other_signer: ClinicianSigner, trust: list[bytes],
        sign: Any) -> None:
    """With only the clinician's root, the team physician's signature is untrusted."""
    both = sign(signed_flare, other_signer, name="Dr. Team Physician",
                signed_at=dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC))
    result = verify_report(both, trust_roots=trust)
    assert not result.valid
    assert any("signature 2" in reason and "trust root" in reason for reason in result.reasons)


def test_a_wrong_password_or_a_non_pkcs12_file_is_a_report_input_error(pki: DemoPki) -> None:
    """Opening the key never lets a cryptography error escape the error tree."""
    data = pki.clinician_p12.read_bytes()
    with pytest.raises(ReportInputError, match="password is wrong"):
        ClinicianSigner.from_pkcs12(data, b"not the password")
    with pytest.raises(ReportInputError):
        ClinicianSigner.from_pkcs12(data, None)
    with pytest.raises(ReportInputError):
        ClinicianSigner.from_pkcs12(b"not a PKCS#12 file", b"x")


def _rsa_pkcs12(tmp_path: Path) -> tuple[bytes, bytes]:
    """An RSA-2048 clinician key and certificate issued by its own RSA root."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA test root")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(root_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dr. RSA")]))
            .issuer_name(root_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(root_key, hashes.SHA256()))
    p12 = pkcs12.serialize_key_and_certificates(
        b"rsa", key, cert, [root], serialization.BestAvailableEncryption(b"pw"))
    return p12, root.public_bytes(serialization.Encoding.DER)


def test_an_rsa_key_signs_and_a_der_root_verifies(flare: Any, tmp_path: Path,
                                                  sign: Any) -> None:
    """RSA keys sign as well as ECDSA ones; a DER trust root is read like a PEM one."""
    p12, root_der = _rsa_pkcs12(tmp_path)
    signed = sign(flare.pdf, ClinicianSigner.from_pkcs12(p12, b"pw"), name="Dr. RSA")
    result = verify_report(signed, trust_roots=[root_der])
    assert result.valid, result.reasons
    assert result.signatures[0].signer == "Dr. RSA"


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": "   "}, "printed name of the signature is empty"),
    ({"name": "Dr. 王"}, "characters the signature block cannot show: 王"),
    ({"meaning": "x" * 241}, "longer than 240 characters"),
    ({"meaning": " ".join(["approved"] * 26)}, "lines in the signature block"),
    ({"signed_at": dt.datetime(2026, 3, 10, 14, 0)}, "timezone-aware"),
    ({"signed_at": dt.datetime(2025, 6, 1, tzinfo=dt.UTC)}, "outside the certificate's validity"),
])
def test_what_does_not_fit_the_signature_is_refused(flare: Any, sign: Any,
                                                    changes: dict[str, Any],
                                                    message: str) -> None:
    """An empty or unprintable name, a meaning too long, a bad time: refused, not drawn."""
    with pytest.raises(ReportInputError, match=message):
        sign(flare.pdf, **changes)


def test_a_long_meaning_is_set_smaller_rather_than_cut(flare: Any, sign: Any,
                                                       pdftotext: Any) -> None:
    """A meaning that needs seven lines at 7 pt is set at 6 pt, every word kept."""
    meaning = ("Reviewed and approved: return-to-sprint clearance; recommendation (sprint) "
               "accepted by Dr. L. Brandt at 2026-03-10T14:05:00Z after a full re-test")
    signed = sign(flare.pdf, meaning=meaning)
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        last = len(pdf.pages)
    assert meaning in " ".join(pdftotext(signed, last).split())


def test_a_pdf_that_is_not_a_report_is_refused(signer: ClinicianSigner) -> None:
    """A PDF without the embedded record has nothing to approve: refused before signing."""
    other = HTML(string="<p>Not a report</p>").write_pdf()
    with pytest.raises(ReportInputError, match="not a sprintclear report"):
        sign_report(other, signer, meaning="x",
                    signed_at=dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
    with pytest.raises(ReportInputError, match="cannot be read as a PDF"):
        sign_report(b"%PDF-1.7 broken", signer, meaning="x",
                    signed_at=dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
