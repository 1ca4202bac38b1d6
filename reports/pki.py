"""An offline test PKI for demos and tests: a CA, a clinician's certificate, a PKCS#12 file.

``make_demo_pki(directory, clinician_name=..., password=...)`` writes::

    demo-ca.pem              the root to pass to ``sprintclear verify --trust``
    clinician.p12            the clinician's key and certificate (and the CA), encrypted
    clinician.password       the PKCS#12 password (for ``--password-file``)

Keys are ECDSA P-256; the CA is valid for 20 years and the clinician's
certificate for 10, both from the day before ``now``. Nothing is fetched
from the network. **It is a demo**: the key of the CA is not kept, and the
password sits next to the file. A clinic signs with the certificate its own
or a qualified CA issued, and verifies against that CA's root.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rules.errors import ReportInputError

__all__ = ["DemoPki", "make_demo_pki"]

CA_FILENAME = "demo-ca.pem"
P12_FILENAME = "clinician.p12"
PASSWORD_FILENAME = "clinician.password"


@dataclass(frozen=True)
class DemoPki:
    """Where the demo PKI was written."""

    directory: Path
    ca_certificate: Path
    clinician_p12: Path
    password_file: Path
    clinician_name: str


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ])


def make_demo_pki(directory: Path, *, clinician_name: str, password: str,
                  now: dt.datetime | None = None) -> DemoPki:
    """Write a demo CA, a clinician certificate it issued, and the clinician's PKCS#12 file."""
    clinician_name = " ".join(clinician_name.split())
    if not clinician_name:
        raise ReportInputError("the clinician's name is empty")
    if len(clinician_name) > 64:
        raise ReportInputError("the clinician's name is longer than 64 characters "
                               "(the limit of a certificate's common name)")
    if not password:
        raise ReportInputError("the PKCS#12 password is empty")
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    start = moment - dt.timedelta(days=1)
    organisation = "sprintclear demo PKI (not for clinical use)"

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("sprintclear demo CA", organisation)
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(clinician_name, organisation)).issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * 10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_path = directory / CA_FILENAME
    p12_path = directory / P12_FILENAME
    password_path = directory / PASSWORD_FILENAME
    ca_path.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    p12_path.write_bytes(pkcs12.serialize_key_and_certificates(
        clinician_name.encode("utf-8"), key, certificate, [ca_certificate],
        serialization.BestAvailableEncryption(password.encode("utf-8"))))
    password_path.write_text(password + "\n", "utf-8")
    for secret in (p12_path, password_path):
        secret.chmod(0o600)
    return DemoPki(directory=directory, ca_certificate=ca_path, clinician_p12=p12_path,
                   password_file=password_path, clinician_name=clinician_name)
