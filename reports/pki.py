"""An offline test PKI for demos and tests: a CA, a clinician's certificate, a PKCS#12 file, a TSA.

``make_demo_pki(directory, clinician_name=..., password=...)`` writes::

    demo-ca.pem              the root to pass to ``sprintclear verify --trust``
    clinician.p12            the clinician's key and certificate (and the CA), encrypted
    clinician.password       the PKCS#12 password (for ``--password-file``)

Keys are ECDSA P-256; the CA is valid for 20 years and the clinician's
certificate for 10, both from the day before ``now``. Nothing is fetched
from the network. **It is a demo**: the key of the CA is not kept, and the
password sits next to the file. A clinic signs with the certificate its own
or a qualified CA issued, and verifies against that CA's root.

``make_demo_tsa(directory)`` makes a demo time-stamping authority (a root,
``tsa-root.pem``, and an RSA timestamping certificate it issued, kept in
memory) and :class:`LoopbackTsa` serves RFC 3161 timestamps from it over HTTP
on 127.0.0.1 (pyHanko's ``DummyTimeStamper`` answers each request), for
``sign --tsa``, ``timestamp`` and their tests, offline. A clinic uses its own
or a qualified authority.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rules.errors import ReportInputError

__all__ = ["DemoPki", "DemoTsa", "LoopbackTsa", "make_demo_pki", "make_demo_tsa"]

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


TSA_ROOT_FILENAME = "tsa-root.pem"


@dataclass(frozen=True)
class DemoTsa:
    """A demo time-stamping authority: its root on disk, its certificate and key in memory."""

    root_certificate: Path
    certificate: Any
    """asn1crypto ``Certificate`` of the timestamping key (extended key usage timeStamping)."""
    key: Any
    """asn1crypto ``PrivateKeyInfo`` (RSA: pyHanko's test stamper signs with RSA keys)."""
    root: Any
    """asn1crypto ``Certificate`` of the root, embedded in each token."""


def make_demo_tsa(directory: Path, *, name: str = "sprintclear demo TSA",
                  now: dt.datetime | None = None, years: int = 20) -> DemoTsa:
    """Write a demo TSA's root to ``directory/tsa-root.pem``; keep its key in memory.

    The root and the timestamping certificate are valid from the day before
    ``now`` for ``years`` years.
    """
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509

    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    start, end = moment - dt.timedelta(days=1), moment + dt.timedelta(days=365 * years)
    organisation = "sprintclear demo PKI (not for clinical use)"
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{name} root", organisation)
    root = (
        x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder().subject_name(_name(name, organisation))
        .issuer_name(root_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                       critical=True)
        .sign(root_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    root_path = directory / TSA_ROOT_FILENAME
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    der = serialization.Encoding.DER
    return DemoTsa(
        root_certificate=root_path,
        certificate=asn1_x509.Certificate.load(certificate.public_bytes(der)),
        key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        root=asn1_x509.Certificate.load(root.public_bytes(der)))


class LoopbackTsa:
    """An RFC 3161 time-stamping service on 127.0.0.1 answering from a :class:`DemoTsa`.

    Use as a context manager; ``url`` is where to POST requests. ``at`` fixes
    the time of every token (for tests of old reports); by default, now.
    """

    def __init__(self, tsa: DemoTsa, *, at: dt.datetime | None = None, port: int = 0) -> None:
        from asn1crypto import tsp
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        embedded: Any = cast(Any, SimpleCertificateStore).from_certs([tsa.root])
        stamper = DummyTimeStamper(tsa_cert=tsa.certificate, tsa_key=tsa.key,
                                   certs_to_embed=embedded, fixed_dt=at)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    request = tsp.TimeStampReq.load(self.rfile.read(length))
                    answer = stamper.request_tsa_response(request).dump()
                except Exception:  # a malformed request: answer like a TSA would
                    self.send_error(400, "not an RFC 3161 timestamp request")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args  # quiet: tests and demos print their own lines

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackTsa:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
