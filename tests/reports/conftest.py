"""Shared material for the report tests: a fixed clock, a demo PKI, rendered and signed reports.

WeasyPrint logs problems instead of raising them, so every test here fails on
any WeasyPrint warning (``no_weasyprint_warnings``), and so does every report
rendered once per session for the tests to share (``quiet_weasyprint``).
Helpers reach the tests as fixtures (``render``, ``sign``, ``clock`` ...).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from support import example_files

from engine import decide, parse_assessment
from engine.decision import Decision
from reports import ClinicianSigner, DemoPki, make_demo_pki, render_report_pdf, sign_report
from reports.pki import DemoTsa, LoopbackTsa, make_demo_tsa

CLOCK = dt.datetime(2026, 3, 10, 14, 5, tzinfo=dt.UTC)
SIGNED_AT = dt.datetime(2026, 3, 10, 14, 21, 7, tzinfo=dt.UTC)
PKI_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PASSWORD = "test-password"
MEANING = "Reviewed and approved: return-to-sprint clearance"
FLARE = "hamstring-symptom-flare-next-morning-pain"


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def quiet_weasyprint() -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's warnings and errors; fail if there were any."""
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        yield collector.records
    finally:
        logger.removeHandler(collector)
    messages = [record.getMessage() for record in collector.records]
    assert not messages, f"WeasyPrint warned: {messages}"


@pytest.fixture(autouse=True)
def no_weasyprint_warnings() -> Iterator[None]:
    with quiet_weasyprint():
        yield


@dataclass(frozen=True)
class Rendered:
    """A decision, its canonical input and its unsigned report."""

    name: str
    decision: Decision
    assessment: dict[str, Any]
    pdf: bytes


def decided(document: dict[str, Any], at: dt.datetime = CLOCK) -> tuple[Decision, dict[str, Any]]:
    return decide(document, evaluated_at=at), dict(parse_assessment(document).document)


def render(name: str, document: dict[str, Any], **kwargs: Any) -> Rendered:
    decision, assessment = decided(document)
    with quiet_weasyprint():
        pdf = render_report_pdf(decision, assessment, generated_at=CLOCK, **kwargs)
    return Rendered(name, decision, assessment, pdf)


def example_document(name: str) -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parents[2] / "examples" / f"{name}.json")
                      .read_text("utf-8"))


def pdf_fonts(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every font dictionary of the document (page resources, forms and appearances)."""
    fonts = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font":
            fonts.append(obj)
    return fonts


def font_is_embedded(font: pikepdf.Dictionary) -> bool:
    if font.get("/Subtype") == "/Type0":
        font = font.DescendantFonts[0]
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def pdftotext(data: bytes, *pages: int) -> str:
    options = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return subprocess.run(["pdftotext", *options, "-enc", "UTF-8", "-", "-"], input=data,
                          capture_output=True, check=True).stdout.decode("utf-8")


def assert_pdfa_3b(data: bytes) -> None:
    """XMP says PDF/A-3 conformance B, with an output intent, and qpdf finds no error."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("{http://www.aiim.org/pdfa/ns/id/}part") == "3"
        assert meta.get("{http://www.aiim.org/pdfa/ns/id/}conformance") == "B"
        assert len(pdf.Root.OutputIntents) == 1
        assert str(pdf.Root.get("/Version", "/1.7")).lstrip("/").startswith("1.")
        fonts = pdf_fonts(pdf)
        assert fonts and all(font_is_embedded(font) for font in fonts)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(data)
        file.flush()
        check = subprocess.run(["qpdf", "--check", file.name], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture(scope="session")
def assert_pdfa() -> Any:
    """``assert_pdfa(pdf_bytes)``: PDF/A-3b declared, fonts embedded, qpdf finds no error."""
    return assert_pdfa_3b


@pytest.fixture(scope="session", name="pdftotext")
def pdftotext_fixture() -> Any:
    """``pdftotext(pdf_bytes, *pages)``: the text poppler reads (annotations included)."""
    return pdftotext


@pytest.fixture(scope="session")
def clock() -> dt.datetime:
    """The time every test report is generated at."""
    return CLOCK


@pytest.fixture(scope="session")
def signed_at() -> dt.datetime:
    """The time every test report is signed at."""
    return SIGNED_AT


@pytest.fixture(scope="session")
def meaning() -> str:
    return MEANING


@pytest.fixture(scope="session")
def quiet() -> Any:
    """The context manager that fails on WeasyPrint warnings (for session-wide rendering)."""
    return quiet_weasyprint


@pytest.fixture(scope="session")
def render_document() -> Any:
    """``render_document(name, document, **render_report_pdf keywords)`` → :class:`Rendered`."""
    return render


@pytest.fixture(scope="session")
def decide_document() -> Any:
    """``decide_document(document)`` → (decision at the test clock, canonical input)."""
    return decided


@pytest.fixture(scope="session")
def example() -> Any:
    """``example(name)`` → the example's JSON document."""
    return example_document


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(tmp_path_factory.mktemp("pki"), clinician_name="Dr. Test Clinician",
                         password=PASSWORD, now=PKI_START)


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(tmp_path_factory.mktemp("other-pki"),
                         clinician_name="Dr. Team Physician", password=PASSWORD, now=PKI_START)


@pytest.fixture(scope="session")
def signer(pki: DemoPki) -> ClinicianSigner:
    return ClinicianSigner.from_pkcs12(pki.clinician_p12.read_bytes(), PASSWORD.encode())


@pytest.fixture(scope="session")
def other_signer(other_pki: DemoPki) -> ClinicianSigner:
    return ClinicianSigner.from_pkcs12(other_pki.clinician_p12.read_bytes(), PASSWORD.encode())


@pytest.fixture(scope="session")
def sign(signer: ClinicianSigner) -> Any:
    """``sign(pdf, signer=..., name=..., meaning=..., signed_at=...)`` with the test defaults
    (the printed name is the certificate's unless given)."""
    def signed(pdf: bytes, signer: ClinicianSigner = signer, *, name: str | None = None,
               meaning: str = MEANING, signed_at: dt.datetime = SIGNED_AT,
               tsa_url: str | None = None) -> bytes:
        return sign_report(pdf, signer, name=name, meaning=meaning, signed_at=signed_at,
                           tsa_url=tsa_url)
    return signed


@pytest.fixture(scope="session")
def sign_anyway(signer: ClinicianSigner) -> Any:
    """``sign`` as a forger's tool would: without sprintclear's inspection of the file.

    Signing refuses a tampered report; these tests need the tampered file signed
    (by someone who holds a trusted key and patched the tool) to show that
    verification catches it too.
    """
    import reports.signing

    def signed(pdf: bytes, signer: ClinicianSigner = signer, *, name: str | None = None,
               meaning: str = MEANING, signed_at: dt.datetime = SIGNED_AT) -> bytes:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(reports.signing, "inspect_before_signing", lambda writer, pdf: [])
            return sign_report(pdf, signer, name=name, meaning=meaning, signed_at=signed_at)
    return signed


@pytest.fixture(scope="session")
def trust(pki: DemoPki) -> list[bytes]:
    return [pki.ca_certificate.read_bytes()]


@pytest.fixture(scope="session")
def demo_tsa(tmp_path_factory: pytest.TempPathFactory) -> DemoTsa:
    """A demo time-stamping authority whose root the tests trust."""
    return make_demo_tsa(tmp_path_factory.mktemp("tsa"), now=PKI_START)


@pytest.fixture(scope="session")
def tsa(demo_tsa: DemoTsa) -> Iterator[LoopbackTsa]:
    """That authority answering RFC 3161 requests on 127.0.0.1 (started by the tests)."""
    with LoopbackTsa(demo_tsa) as server:
        yield server


@pytest.fixture(scope="session")
def tsa_roots(demo_tsa: DemoTsa) -> list[bytes]:
    return [demo_tsa.root_certificate.read_bytes()]


@pytest.fixture(scope="session")
def rogue_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackTsa]:
    """A time-stamping authority nobody trusts, also on 127.0.0.1."""
    authority = make_demo_tsa(tmp_path_factory.mktemp("rogue-tsa"), name="Rogue TSA",
                              now=PKI_START)
    with LoopbackTsa(authority) as server:
        yield server


@pytest.fixture(scope="session")
def examples() -> dict[str, Rendered]:
    """Every example of examples/, decided and rendered once for the session."""
    return {path.stem: render(path.stem, json.loads(path.read_text("utf-8")))
            for path in example_files()}


@pytest.fixture(scope="session")
def flare(examples: dict[str, Rendered]) -> Rendered:
    """The symptom-flare example: not cleared, one red flag, lowered by a safety rule."""
    return examples[FLARE]


@pytest.fixture(scope="session")
def signed_flare(flare: Rendered, signer: ClinicianSigner) -> bytes:
    return sign_report(flare.pdf, signer, name="Dr. Test Clinician", meaning=MEANING,
                       signed_at=SIGNED_AT)
