"""Step three: the clinician's PAdES signature (B-B, or B-T with a TSA), drawn in its slot.

``ClinicianSigner.from_pkcs12`` reads a PKCS#12 file once and keeps the parsed
private key, so each signature costs one signing operation instead of a key
parse per operation. :func:`sign_report` appends an incremental update with
an approval signature (never a certification, so a second signer, e.g. the
team physician, can countersign without breaking the first signature):

- the signature goes into the first free slot of the template (Signature1,
  then Signature2), found through the slot's named destination;
- the visible block shows the printed name, the date and time in UTC, the
  meaning of the signature and the certificate's subject, set in the shipped
  DejaVu Sans copy (embedded, so the signed file stays PDF/A-3b), with no
  background (no transparency);
- the signing time is ``signed_at`` (the clock is passed in), written both in
  the signature dictionary and in the CMS signed attributes. Without a
  timestamp authority that time is the signer's claim (PAdES B-B); with
  ``tsa_url`` the signature also carries an RFC 3161 timestamp (PAdES B-T);
- the printed name is the certificate's subject (or the same name spelt with
  other white space or letter case); any other name is refused;
- the file is inspected first (:mod:`reports.inspection`): a file that is not
  a report as ``report`` writes it, whose pages do not say what its record
  says, or with anything after it but sprintclear's own signatures, is
  refused, so a clinician never signs content planted between ``report`` and
  ``sign``.

pyHanko and cryptography errors are translated into the error tree here, the
one place they are.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, cast

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR, DocumentMetadata
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.signers import constants
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner, PdfSigningSession
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from reports.layout import SIGNATURE_SLOTS, SignatureSlot
from reports.pdf_reading import PdfContentError, named_destinations, record_attachment
from reports.record import ReportRecord
from reports.stamp_font import (
    missing_characters,
    stamp_font_bytes,
    stamp_font_path,
    text_width,
)
from reports.stamp_text import certificate_name, same_name, stamp_paragraphs
from rules.errors import ReportError, ReportInputError

__all__ = ["ClinicianSigner", "ReportWriter", "StampText", "certificate_name", "error_cause",
           "inspect_before_signing", "is_timestamp_failure", "printed_name", "sign_report",
           "stamp_lines", "stamp_paragraphs", "time_stamper"]

# (font size, leading) in whole points (pyHanko lays the box out with fractions): the
# block is set in the first size at which its lines fit the slot.
STAMP_SIZES = ((7, 8), (6, 7))
STAMP_PADDING = 4
STAMP_INSET = 1.5
MAX_NAME_LENGTH = 120
MAX_MEANING_LENGTH = 240


class _CachedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with the private key parsed once, not at every signature."""

    def __init__(self, *, private_key: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algorithm = mechanism.signature_algo
        key = self._private_key
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(),
                            get_pyca_cryptography_hash(digest_algorithm))
        if algorithm == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            pss, hash_algorithm = process_pss_params(mechanism["parameters"])
            return key.sign(data, pss, hash_algorithm)
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        result: bytes = super().sign_raw(data, digest_algorithm)  # pragma: no cover
        return result  # pragma: no cover


@dataclass(frozen=True)
class ClinicianSigner:
    """A clinician's signing key and certificate chain, parsed once from a PKCS#12 file."""

    _signer: _CachedKeySigner
    subject: str
    issuer: str
    not_valid_before: dt.datetime
    not_valid_after: dt.datetime
    _reserved_bytes: int

    @classmethod
    def from_pkcs12(cls, data: bytes, password: bytes | None) -> ClinicianSigner:
        """Read a PKCS#12 file; a bad file or password raises ReportInputError."""
        try:
            key, certificate, others = pkcs12.load_key_and_certificates(data, password)
        except (ValueError, TypeError) as exc:
            raise ReportInputError(
                "the PKCS#12 file cannot be opened: it is not a PKCS#12 file, or the "
                "password is wrong") from exc
        if key is None or certificate is None:
            raise ReportInputError("the PKCS#12 file holds no private key with its certificate")
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
                          | ed25519.Ed25519PrivateKey):
            raise ReportInputError(f"the PKCS#12 key type {type(key).__name__} is not "
                                   "supported (RSA, ECDSA or Ed25519 keys are)")
        der = serialization.Encoding.DER
        key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        signing_cert = asn1_x509.Certificate.load(certificate.public_bytes(der))
        chain = [asn1_x509.Certificate.load(other.public_bytes(der)) for other in others]
        store = cast(Any, SimpleCertificateStore)()
        store.register_multiple(chain)
        signer = _CachedKeySigner(private_key=key, signing_cert=signing_cert,
                                  signing_key=key_info, cert_registry=store)
        # The CMS blob holds the chain and a signature; reserve room for both so pyHanko
        # need not sign once just to measure the size.
        reserved = 8192 + len(signing_cert.dump()) + sum(len(c.dump()) for c in chain)
        reserved += reserved % 2  # pyHanko wants an even count
        return cls(_signer=signer, subject=certificate_name(signing_cert.subject),
                   issuer=certificate_name(signing_cert.issuer),
                   not_valid_before=signing_cert.not_valid_before,
                   not_valid_after=signing_cert.not_valid_after, _reserved_bytes=reserved)


class _StampFont(GlyphAccumulatorFactory):
    """The stamp font, read once and handed to pyHanko from memory.

    pyHanko's factory opens the font file at every signature and never closes it.
    """

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer, font_handle=io.BytesIO(stamp_font_bytes()),
            font_size=self.font_size, ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag, writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code, obj_stream=obj_stream)


class _ClockedPdfSigner(PdfSigner):
    """pyHanko's PdfSigner, with the signing time passed in and PDF/A-3 kept.

    - the signing time is ``signed_at``, not the machine's clock;
    - only the PAdES (ESIC) developer extension is declared: for ECDSA keys
      pyHanko would also declare ISO/TS 32002, which raises the catalog's
      ``/Version`` to 2.0, and a PDF/A-3 file is a PDF 1.7 file.
    """

    def __init__(self, *args: Any, signed_at: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signed_at = signed_at

    def init_signing_session(self, pdf_out: Any,
                             existing_fields_only: bool = False) -> PdfSigningSession:
        session: PdfSigningSession = super().init_signing_session(
            pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._signed_at
        return session

    def register_extensions(self, pdf_out: Any, *, md_algorithm: str) -> None:
        del md_algorithm
        pdf_out.ensure_output_version(version=(1, 7))
        pdf_out.register_extension(constants.ESIC_EXTENSION_1)


class _DatedMetadata(DocumentMetadata):
    """Document metadata whose "now" is the signing time passed in."""

    moment: dt.datetime | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "last_modified" and value == "now" and self.moment is not None:
            value = self.moment
        super().__setattr__(name, value)


class ReportWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, keeping the report's PDF/A metadata consistent.

    pyHanko stamps the modification date with the machine's clock and writes a
    different producer into the info dictionary than into the XMP packet;
    PDF/A needs the two to agree, and the clock is passed in.
    """

    def __init__(self, data: bytes, *, modified_at: dt.datetime) -> None:
        super().__init__(io.BytesIO(data), strict=True)
        metadata = _DatedMetadata()
        metadata.moment = modified_at
        self._meta = metadata

    def _update_meta(self) -> None:
        cast(Any, super())._update_meta()
        if self._info is not None:
            info = cast(Any, self._info).get_object()
            info["/Producer"] = generic.TextStringObject(VENDOR)
            self.mark_update(self._info)


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of ``text`` no wider than ``width`` points in the stamp font at ``size``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while text_width(word, size) > width:  # a word longer than the line
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _clean(value: str, what: str, limit: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise ReportInputError(f"the {what} of the signature is empty")
    if len(text) > limit:
        raise ReportInputError(f"the {what} of the signature is longer than {limit} characters")
    missing = missing_characters(text)
    if missing:
        raise ReportInputError(f"the {what} holds characters the signature block cannot show: "
                               + " ".join(missing))
    return text


@dataclass(frozen=True)
class StampText:
    lines: tuple[str, ...]
    font_size: int
    leading: int


def stamp_lines(*, name: str, meaning: str, signed_at: dt.datetime, subject: str,
                slot: SignatureSlot) -> StampText:
    """The lines of the visible signature block; refuse text that does not fit the slot."""
    width = slot.width_pt - 2 * (STAMP_INSET + STAMP_PADDING) - 2
    paragraphs = stamp_paragraphs(name=name, meaning=meaning, signed_at=signed_at,
                                  subject=subject)
    needed = 0
    for size, leading in STAMP_SIZES:
        lines = [line for paragraph in paragraphs for line in _wrap(paragraph, width, size)]
        room = int((slot.height_pt - 2 * (STAMP_INSET + STAMP_PADDING)) // leading)
        if len(lines) <= room:
            return StampText(tuple(lines), size, leading)
        needed = len(lines)
    raise ReportInputError(
        f"the name and meaning need {needed} lines in the signature block, which holds "
        f"{room}: shorten them")


def _free_slot(reader: PdfFileReader) -> SignatureSlot:
    taken = {name for name, _, _ in fields.enumerate_sig_fields(reader, filled_status=True)}
    for slot in SIGNATURE_SLOTS:
        if slot.field_name not in taken:
            return slot
    raise ReportInputError(f"the report is already signed {len(SIGNATURE_SLOTS)} times; it "
                           "has no free signature slot")


def printed_name(name: str | None, signer: ClinicianSigner) -> str:
    """The name a signature prints: the certificate's subject, or a name that is the same.

    A name that is not the certificate's subject (white space, letter case and
    Unicode composition aside) is refused: a report never carries a name over
    a certificate that was issued to someone else (issue 9).
    """
    if name is None:
        return _clean(signer.subject, "certificate's subject", MAX_NAME_LENGTH)
    printed = _clean(name, "printed name", MAX_NAME_LENGTH)
    if not same_name(printed, signer.subject):
        raise ReportInputError(
            f"the printed name “{printed}” is not the name the certificate was issued to "
            f"(“{signer.subject}”): a signature prints its signer's own name; give that name, "
            "or leave the name out to print the certificate's")
    return printed


def inspect_before_signing(writer: IncrementalPdfFileWriter, pdf: bytes) -> list[str]:
    """Why the file must not be signed: it is not a report as ``report`` writes it, its pages do
    not say what its record says, or a revision after it is not sprintclear's own signature."""
    from reports.inspection import ReportFile, content_problems, metadata_problems

    reader = writer.prev
    with ReportFile(pdf, reader) as report_file:
        latest = len(report_file.documents) - 1
        try:
            record = ReportRecord.from_bytes(report_file.record_bytes(latest))
            decision = record.decision()
        except PdfContentError:
            raise
        except Exception as exc:  # JSON, pydantic: a record this sprintclear cannot read
            return [f"the embedded record cannot be read: {exc}"]
        problems = report_file.problems(decision, record.content.get("history") or [])
        problems += content_problems(report_file.page_texts(latest), record, decision)
        problems += metadata_problems(report_file.documents[0], record, decision)
    return problems


def sign_report(pdf: bytes, signer: ClinicianSigner, *, name: str | None = None, meaning: str,
                signed_at: dt.datetime, tsa_url: str | None = None) -> bytes:
    """The report with one more PAdES approval signature, drawn in its next free slot.

    ``name`` is printed as the signer's and must be the certificate's subject
    (``None``: the subject itself). The file must be a report as ``report``
    writes it, with nothing but sprintclear's signatures after it: anything
    else is refused before signing (:mod:`reports.inspection`), so a
    clinician never signs content planted in the file. With ``tsa_url``, the
    signature carries an RFC 3161 timestamp from that time-stamping authority
    (PAdES B-T); without, the signing time is the signer's claim (B-B).
    Raises :class:`~rules.errors.ReportInputError` (refused) or
    :class:`~rules.errors.ReportError` (the TSA or pyHanko failed).
    """
    if signed_at.tzinfo is None or signed_at.utcoffset() is None:
        raise ReportInputError("signed_at must be timezone-aware (UTC)")
    if not signer.not_valid_before <= signed_at <= signer.not_valid_after:
        raise ReportInputError(
            f"the signing time {signed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC is outside "
            f"the certificate's validity ({signer.not_valid_before:%Y-%m-%d} to "
            f"{signer.not_valid_after:%Y-%m-%d})")
    name = printed_name(name, signer)
    meaning = _clean(meaning, "meaning", MAX_MEANING_LENGTH)
    moment = signed_at.astimezone(dt.UTC)
    try:
        writer = ReportWriter(pdf, modified_at=moment)
        reader = writer.prev  # the file as it stands, parsed once for both reading and signing
        record_attachment(reader.root)
        problems = inspect_before_signing(writer, pdf)
        slot = _free_slot(reader)
        destination = named_destinations(reader.root).get(slot.anchor)
    except PdfContentError as exc:
        raise ReportInputError(f"this is not a sprintclear report: {exc}") from exc
    except ReportInputError:
        raise
    except Exception as exc:  # pyHanko's reader raises PdfReadError and built-in errors
        raise ReportInputError(f"the report cannot be read as a PDF: {exc}") from exc
    if problems:
        raise ReportInputError("this file is not a report as `sprintclear report` writes it, "
                               "with only sprintclear's signatures after it; it was not signed",
                               problems)
    if destination is None:
        raise ReportInputError(f"the report has no signature slot {slot.number} "
                               f"({slot.anchor})")
    stamp = stamp_lines(name=name, meaning=meaning, signed_at=signed_at,
                        subject=signer.subject, slot=slot)
    box = (round(destination.left + STAMP_INSET),
           round(destination.top - slot.height_pt + STAMP_INSET),
           round(destination.left + slot.width_pt - STAMP_INSET),
           round(destination.top - STAMP_INSET))
    style = TextStampStyle(
        stamp_text="%(block)s",
        text_box_style=TextBoxStyle(
            font=_StampFont(str(stamp_font_path()), font_size=stamp.font_size),
            font_size=stamp.font_size, leading=stamp.leading),
        border_width=1,
        background=None,
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(left=STAMP_PADDING + 2)),
    )
    metadata = PdfSignatureMetadata(
        field_name=slot.field_name, subfilter=fields.SigSeedSubFilter.PADES, reason=meaning,
        name=name, md_algorithm="sha256")
    pdf_signer = _ClockedPdfSigner(
        metadata, signer=signer._signer, stamp_style=style,
        new_field_spec=fields.SigFieldSpec(slot.field_name, on_page=destination.page_index,
                                           box=box),
        signed_at=moment, timestamper=None if tsa_url is None else time_stamper(tsa_url))
    output = io.BytesIO()
    reserved = signer._reserved_bytes + (TIMESTAMP_RESERVE if tsa_url else 0)
    try:
        pdf_signer.sign_pdf(writer, output=output, bytes_reserved=reserved,
                            appearance_text_params={"block": "\n".join(stamp.lines)})
    except Exception as exc:  # pyHanko raises SigningError, PdfWriteError and built-ins
        if tsa_url is not None and is_timestamp_failure(exc):
            raise ReportError(f"the time-stamping authority at {tsa_url} gave no timestamp: "
                              f"{error_cause(exc)}") from exc
        raise ReportError(f"the report could not be signed: {exc}") from exc
    return output.getvalue()


TIMESTAMP_RESERVE = 16384
"""Room for a timestamp token in the signature container (the TSA's certificates and its
signature; twice the bytes, in hex)."""


def time_stamper(url: str) -> Any:
    """pyHanko's RFC 3161 client for the time-stamping authority at ``url`` (HTTP POST)."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    if not url.startswith(("http://", "https://")):
        raise ReportInputError(f"the time-stamping authority's address must be an http(s) URL, "
                               f"not {url!r}")
    return HTTPTimeStamper(url, timeout=15)


def is_timestamp_failure(exc: BaseException) -> bool:
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimestampRequestError | OSError) or \
                type(seen).__module__.startswith("aiohttp"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def error_cause(exc: BaseException) -> str:
    """The innermost message of a chain of exceptions (the one that says what went wrong)."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 8:
        if str(seen):
            messages.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return messages[-1] if messages else type(exc).__name__
