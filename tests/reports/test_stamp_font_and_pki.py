"""The shipped stamp font and the offline demo PKI."""

from __future__ import annotations

import datetime as dt
import io
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from fontTools.ttLib import TTFont

from reports import ClinicianSigner, make_demo_pki
from reports.stamp_font import missing_characters, stamp_font_bytes, text_width
from rules.errors import ReportInputError


def test_the_stamp_font_has_1000_units_per_em_and_the_scripts_of_names() -> None:
    """pyHanko's layout assumes 1000 units/em; Latin, Greek and Cyrillic names are covered."""
    font = TTFont(io.BytesIO(stamp_font_bytes()))
    assert font["head"].unitsPerEm == 1000
    assert "DejaVu" in font["name"].getDebugName(1)
    assert missing_characters("Dr. Zoë Ødegård-Łukasiewicz · Ψάρρας · Жуков ✓ ≥ 90 %") == []
    assert missing_characters("王") == ["王"]


def test_text_width_grows_with_the_text_and_the_size() -> None:
    """Widths come from the font's advances, so wrapping is exact."""
    assert 0 < text_width("i", 7) < text_width("W", 7)
    assert text_width("Signed by", 7) == pytest.approx(text_width("Signed by", 14) / 2)


def test_demo_pki_writes_a_root_and_a_protected_pkcs12(tmp_path: Path) -> None:
    """The root, the clinician's PKCS#12 (openable with the password file) and 0600 secrets."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    pki = make_demo_pki(tmp_path / "pki", clinician_name="  Dr.  Ana  Ruiz ",
                        password="s3cret", now=start)
    assert pki.clinician_name == "Dr. Ana Ruiz"
    root = x509.load_pem_x509_certificate(pki.ca_certificate.read_bytes())
    password = pki.password_file.read_text("utf-8").strip().encode()
    key, certificate, chain = pkcs12.load_key_and_certificates(
        pki.clinician_p12.read_bytes(), password)
    assert key is not None and certificate is not None
    assert certificate.issuer == root.subject and [c.subject for c in chain] == [root.subject]
    certificate.verify_directly_issued_by(root)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert certificate.not_valid_before_utc < start < certificate.not_valid_after_utc
    for secret in (pki.clinician_p12, pki.password_file):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    signer = ClinicianSigner.from_pkcs12(pki.clinician_p12.read_bytes(), password)
    assert signer.subject == "Dr. Ana Ruiz" and signer.issuer == "sprintclear demo CA"


@pytest.mark.parametrize(("name", "password", "message"), [
    ("  ", "x", "name is empty"),
    ("x" * 65, "x", "longer than 64"),
    ("Dr. A", "", "password is empty"),
])
def test_demo_pki_refuses_what_a_certificate_cannot_hold(tmp_path: Path, name: str,
                                                         password: str, message: str) -> None:
    """An empty or too long name, or an empty password, is refused before anything is written."""
    with pytest.raises(ReportInputError, match=message):
        make_demo_pki(tmp_path / "pki", clinician_name=name, password=password)
    assert not (tmp_path / "pki").exists()
