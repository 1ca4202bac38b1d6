"""Every rejection names its cause, and no library traceback reaches standard error."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from support import REPO

from reports import ClinicianSigner, make_demo_pki, sign_report, verify_report


def test_an_expired_certificate_names_the_day(flare: Any, tmp_path: Path) -> None:
    """Read after its certificate expired, without trusted time: “certificate expired on …”."""
    old = make_demo_pki(tmp_path, clinician_name="Dr. Old", password="pw",
                        now=dt.datetime(2010, 1, 1, tzinfo=dt.UTC))
    signer = ClinicianSigner.from_pkcs12(old.clinician_p12.read_bytes(), b"pw")
    signed = sign_report(flare.pdf, signer, meaning="Reviewed",
                         signed_at=dt.datetime(2012, 6, 1, tzinfo=dt.UTC))
    result = verify_report(signed, trust_roots=[old.ca_certificate.read_bytes()])
    assert result.reasons == ("signature 1 (Signature1): the signer's certificate (Dr. Old, "
                              "issued by sprintclear demo CA), checked now: certificate expired "
                              "on 2019-12-29",)


def test_a_certificate_not_yet_valid_names_from_when(flare: Any, tmp_path: Path) -> None:
    """A certificate whose validity starts after now: “not yet valid until …”."""
    future = make_demo_pki(tmp_path, clinician_name="Dr. Future", password="pw",
                           now=dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    signer = ClinicianSigner.from_pkcs12(future.clinician_p12.read_bytes(), b"pw")
    signed = sign_report(flare.pdf, signer, meaning="Reviewed",
                         signed_at=dt.datetime(2040, 6, 1, tzinfo=dt.UTC))
    result = verify_report(signed, trust_roots=[future.ca_certificate.read_bytes()])
    assert len(result.reasons) == 1
    assert result.reasons[0].endswith("checked now: certificate not yet valid until "
                                      "2039-12-31 00:00 UTC")


def test_an_issuer_outside_the_trust_roots_is_named(signed_flare: bytes,
                                                    other_pki: Any) -> None:
    """Another root, even one with the same name: “issuer … is not among the trust roots”."""
    result = verify_report(signed_flare, trust_roots=[other_pki.ca_certificate.read_bytes()])
    assert result.reasons == ("signature 1 (Signature1): the signer's certificate (Dr. Test "
                              "Clinician, issued by sprintclear demo CA), checked now: issuer "
                              "“sprintclear demo CA” is not among the trust roots",)


def _without_non_repudiation() -> tuple[bytes, bytes]:
    """A clinician certificate allowed digital signatures but not non-repudiation."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Usage test root")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(1)
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(root_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dr. Usage")]))
        .issuer_name(root_name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(root_key, hashes.SHA256()))
    p12 = pkcs12.serialize_key_and_certificates(
        b"usage", key, certificate, [root], serialization.BestAvailableEncryption(b"pw"))
    return p12, root.public_bytes(serialization.Encoding.PEM)


def test_a_certificate_without_non_repudiation_may_not_sign(flare: Any, sign: Any) -> None:
    """Key usage without non-repudiation: “certificate not allowed to sign”."""
    p12, root = _without_non_repudiation()
    signed = sign(flare.pdf, ClinicianSigner.from_pkcs12(p12, b"pw"))
    result = verify_report(signed, trust_roots=[root])
    assert result.reasons == ("signature 1 (Signature1): the signer's certificate (Dr. Usage, "
                              "issued by Usage test root), checked now: certificate not allowed "
                              "to sign (no non-repudiation)",)


@pytest.mark.parametrize("case", ["wrong root", "changed byte", "not a pdf"])
def test_no_traceback_reaches_standard_error(case: str, signed_flare: bytes, other_pki: Any,
                                             trust: list[bytes], tmp_path: Path) -> None:
    """`sprintclear verify` prints its reasons on standard output and nothing on standard
    error (pyHanko logs a traceback for each failed validation)."""
    data = {"wrong root": signed_flare,
            "changed byte": signed_flare[:3000] + b"X" + signed_flare[3001:],
            "not a pdf": b"%PDF-1.7 nothing"}[case]
    (tmp_path / "report.pdf").write_bytes(data)
    root = tmp_path / "root.pem"
    root.write_bytes(other_pki.ca_certificate.read_bytes() if case == "wrong root"
                     else trust[0])
    result = subprocess.run([sys.executable, "-m", "sprintclear", "verify",
                             str(tmp_path / "report.pdf"), "--trust", str(root)],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1
    assert result.stderr == ""
    assert "INVALID" in result.stdout and "✗" in result.stdout
