"""Trusted time: RFC 3161 timestamps from a TSA the tests start on 127.0.0.1 (PAdES B-T, B-LTA)."""

from __future__ import annotations

import datetime as dt
import io
import socket
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from reports import ClinicianSigner, make_demo_pki, sign_report, verify_report
from reports.pki import LoopbackTsa, make_demo_tsa
from reports.timestamping import timestamp_report
from rules.errors import ReportError, ReportInputError


@pytest.fixture(scope="module")
def b_t(flare: Any, sign: Any, tsa: LoopbackTsa) -> bytes:
    """The flare report signed with a signature timestamp from the trusted TSA."""
    return sign(flare.pdf, signed_at=dt.datetime.now(dt.UTC), tsa_url=tsa.url)


def test_a_signature_timestamp_gives_a_trusted_time(b_t: bytes, trust: list[bytes],
                                                    tsa_roots: list[bytes]) -> None:
    """sign --tsa: the signature carries the TSA's time, trusted through --trust-tsa."""
    result = verify_report(b_t, trust_roots=trust, tsa_roots=tsa_roots)
    assert result.valid, result.reasons
    (signature,) = result.signatures
    assert signature.timestamp is not None and signature.timestamp_by == "sprintclear demo TSA"
    assert signature.certificate_checked_at == signature.timestamp


def test_a_timestamp_nobody_can_check_is_a_reason(b_t: bytes, trust: list[bytes]) -> None:
    """Without the TSA's root the timestamp is not taken on trust: the reason says what to do."""
    result = verify_report(b_t, trust_roots=trust)
    assert not result.valid
    assert result.reasons == ("signature 1 (Signature1) is time-stamped by “sprintclear demo "
                              "TSA”, and no time-stamping authority's root was given to check "
                              "it (--trust-tsa)",)


def test_a_timestamp_from_an_untrusted_tsa_is_rejected_and_named(
        flare: Any, sign: Any, rogue_tsa: LoopbackTsa, trust: list[bytes],
        tsa_roots: list[bytes]) -> None:
    """A timestamp by another authority than the trusted ones: invalid, the authority named."""
    signed = sign(flare.pdf, signed_at=dt.datetime.now(dt.UTC), tsa_url=rogue_tsa.url)
    result = verify_report(signed, trust_roots=trust, tsa_roots=tsa_roots)
    assert not result.valid
    assert result.reasons == ("signature 1 (Signature1): the timestamp is by “Rogue TSA”, which "
                              "is not among the trusted time-stamping authorities (--trust-tsa)",)


def test_a_document_timestamp_makes_the_report_b_lta(
        b_t: bytes, tsa: LoopbackTsa, trust: list[bytes], tsa_roots: list[bytes],
        assert_pdfa: Any) -> None:
    """timestamp: validation data and an invisible document timestamp; VALID, still PDF/A-3b."""
    stamped = timestamp_report(b_t, tsa_url=tsa.url, trust_roots=trust, tsa_roots=tsa_roots,
                               at=dt.datetime.now(dt.UTC))
    result = verify_report(stamped, trust_roots=trust, tsa_roots=tsa_roots)
    assert result.valid, result.reasons
    assert [s.kind for s in result.signatures] == ["signature", "document timestamp"]
    assert result.signatures[0].later_changes == "lta_updates"
    assert result.signatures[1].coverage == "entire file"
    assert_pdfa(stamped)
    with pikepdf.open(io.BytesIO(stamped)) as pdf:
        assert "/DSS" in pdf.Root and len(pdf.Root.DSS.Certs) >= 2
        stamp = next(f for f in pdf.Root.AcroForm.Fields if f.T == "DocumentTimestamp1")
        assert [float(v) for v in stamp.Rect] == [0, 0, 0, 0]


def test_a_document_timestamp_from_an_untrusted_tsa_is_refused(
        b_t: bytes, rogue_tsa: LoopbackTsa, trust: list[bytes], tsa_roots: list[bytes]) -> None:
    """timestamp checks the authority against --trust-tsa before anything is written."""
    with pytest.raises(ReportError, match="Rogue TSA"):
        timestamp_report(b_t, tsa_url=rogue_tsa.url, trust_roots=trust, tsa_roots=tsa_roots,
                         at=dt.datetime.now(dt.UTC))


def test_timestamping_an_unsigned_report_is_refused(flare: Any, tsa: LoopbackTsa,
                                                    trust: list[bytes],
                                                    tsa_roots: list[bytes]) -> None:
    """A document timestamp proves signatures existed: there must be one."""
    with pytest.raises(ReportInputError, match="not signed"):
        timestamp_report(flare.pdf, tsa_url=tsa.url, trust_roots=trust, tsa_roots=tsa_roots,
                         at=dt.datetime.now(dt.UTC))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_tsa_that_does_not_answer_is_an_error_naming_it(flare: Any, sign: Any) -> None:
    """No timestamp, no signature: the error names the authority's address."""
    url = f"http://127.0.0.1:{_closed_port()}/"
    with pytest.raises(ReportError, match=f"the time-stamping authority at {url} gave no "
                                          "timestamp"):
        sign(flare.pdf, signed_at=dt.datetime.now(dt.UTC), tsa_url=url)


@pytest.fixture(scope="module")
def old_signer(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClinicianSigner, bytes]:
    """A clinician whose certificate ran from 2009-12-31 to 2019-12-29."""
    pki = make_demo_pki(tmp_path_factory.mktemp("old"), clinician_name="Dr. Old Clinician",
                        password="pw", now=dt.datetime(2010, 1, 1, tzinfo=dt.UTC))
    return (ClinicianSigner.from_pkcs12(pki.clinician_p12.read_bytes(), b"pw"),
            pki.ca_certificate.read_bytes())


@pytest.fixture(scope="module")
def archive_tsa(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An authority with a long-lived certificate (2009–2049), its root, and a way to serve
    tokens dated at a given time."""
    return make_demo_tsa(tmp_path_factory.mktemp("archive-tsa"), name="Archive TSA",
                         now=dt.datetime(2009, 6, 1, tzinfo=dt.UTC), years=40)


def test_a_certificate_that_expired_after_a_trusted_timestamp_is_valid_saying_why(
        flare: Any, old_signer: tuple[ClinicianSigner, bytes], archive_tsa: Any) -> None:
    """Signed and time-stamped in 2012, read after the certificate expired: VALID, with the
    note that the trusted time proves it; without the TSA's root it is invalid."""
    signer, root = old_signer
    with LoopbackTsa(archive_tsa, at=dt.datetime(2012, 6, 1, 9, 0, 5, tzinfo=dt.UTC)) as server:
        signed = sign_report(flare.pdf, signer, meaning="Reviewed and approved",
                             signed_at=dt.datetime(2012, 6, 1, 9, 0, tzinfo=dt.UTC),
                             tsa_url=server.url)
    authority = [archive_tsa.root_certificate.read_bytes()]
    result = verify_report(signed, trust_roots=[root], tsa_roots=authority)
    assert result.valid, result.reasons
    assert result.notes == (
        "signature 1 (Signature1): the certificate expired on 2019-12-29, after its own "
        "timestamp (PAdES B-T) by “Archive TSA” proved the signature existed at "
        "2012-06-01T09:00:05Z; it was checked at that trusted time",)
    untimed = verify_report(signed, trust_roots=[root])
    assert not untimed.valid


def test_a_document_timestamp_before_expiry_keeps_a_b_b_signature_valid(
        flare: Any, old_signer: tuple[ClinicianSigner, bytes], archive_tsa: Any) -> None:
    """Signed B-B in 2012, time-stamped (B-LTA) in 2015, read after 2019: VALID, saying why."""
    signer, root = old_signer
    signed = sign_report(flare.pdf, signer, meaning="Reviewed and approved",
                         signed_at=dt.datetime(2012, 6, 1, 9, 0, tzinfo=dt.UTC))
    authority = [archive_tsa.root_certificate.read_bytes()]
    in_2015 = dt.datetime(2015, 1, 5, tzinfo=dt.UTC)
    with LoopbackTsa(archive_tsa, at=in_2015) as server:
        stamped = timestamp_report(signed, tsa_url=server.url, trust_roots=[root],
                                   tsa_roots=authority, at=in_2015)
    result = verify_report(stamped, trust_roots=[root], tsa_roots=authority)
    assert result.valid, result.reasons
    assert any("after the document timestamp DocumentTimestamp1 by “Archive TSA” proved the "
               "signature existed at 2015-01-05T00:00:00Z" in note for note in result.notes)


def test_the_commands_sign_timestamp_and_verify_with_a_tsa(
        tmp_path: Path, flare: Any, tsa: LoopbackTsa, demo_tsa: Any) -> None:
    """sign --tsa, timestamp --tsa and verify --trust-tsa, through the command line."""
    from click.testing import CliRunner

    from sprintclear.cli import main

    pki = make_demo_pki(tmp_path / "pki", clinician_name="Dr. Lena Brandt", password="pw")
    (tmp_path / "report.pdf").write_bytes(flare.pdf)

    def run(*args: Any) -> Any:
        return CliRunner().invoke(main, [str(a) for a in args])

    signed = run("sign", tmp_path / "report.pdf", "--p12", pki.clinician_p12,
                 "--password-file", pki.password_file, "--meaning", "Reviewed", "--tsa",
                 tsa.url, "-o", tmp_path / "signed.pdf")
    assert signed.exit_code == 0, signed.output
    assert f"time-stamped by {tsa.url} (PAdES B-T)" in signed.stdout
    stamped = run("timestamp", tmp_path / "signed.pdf", "--tsa", tsa.url, "--trust",
                  pki.ca_certificate, "--trust-tsa", demo_tsa.root_certificate,
                  "-o", tmp_path / "lta.pdf")
    assert stamped.exit_code == 0, stamped.output
    assert "(PAdES B-LTA)" in stamped.stdout
    verified = run("verify", tmp_path / "lta.pdf", "--trust", pki.ca_certificate,
                   "--trust-tsa", demo_tsa.root_certificate)
    assert verified.exit_code == 0, verified.output
    assert "time-stamped" in verified.stdout and "by sprintclear demo TSA (trusted)" in \
        verified.stdout
    assert "(DocumentTimestamp1): document timestamp by sprintclear demo TSA" in verified.stdout
    untrusted = run("verify", tmp_path / "lta.pdf", "--trust", pki.ca_certificate)
    assert untrusted.exit_code == 1 and "--trust-tsa" in untrusted.stdout
