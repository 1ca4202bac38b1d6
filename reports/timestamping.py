"""Trusted time for a signed report: a document timestamp with the validation data (PAdES B-LTA).

A PAdES B-B signature's time is the signer's claim, and its proof lasts only
as long as the signer's certificate. :func:`timestamp_report` appends one
incremental update holding, first, a document security store (DSS) with the
certificates that validate every approval signature and the time-stamping
authority (checked against the given roots; no revocation data is fetched,
this runs offline), then a document timestamp from an RFC 3161 authority over
the whole file (pyHanko's ``PdfTimeStamper``; its widget is invisible). The
timestamp proves the report and its signatures existed at the authority's
time, so a verifier can check the signers' certificates at that time, years
after they expire (``verify --trust-tsa``).

A signature timestamp at signing time (PAdES B-T) is the other way to trusted
time: ``sign_report(..., tsa_url=...)``.

Errors of pyHanko and of the network are translated here into
:class:`~rules.errors.ReportError` (the authority gave no timestamp) and
:class:`~rules.errors.ReportInputError` (the file or a root is unusable).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings
from pyhanko.sign.validation.dss import collect_validation_info
from pyhanko_certvalidator import ValidationContext

from reports.pdf_reading import PdfContentError
from reports.signing import (
    ReportWriter,
    error_cause,
    inspect_before_signing,
    is_timestamp_failure,
)
from reports.signing import time_stamper as _time_stamper
from reports.verification import load_trust_roots
from rules.errors import ReportError, ReportInputError

__all__ = ["DOCUMENT_TIMESTAMP_PREFIX", "timestamp_report"]

DOCUMENT_TIMESTAMP_PREFIX = "DocumentTimestamp"
"""Document timestamps go into fields DocumentTimestamp1, DocumentTimestamp2 …"""

_RESERVED = 32768


async def _validation_paths(signatures: Sequence[Any], context: ValidationContext) -> list[Any]:
    paths: list[Any] = []
    for signature in signatures:
        paths.extend(await collect_validation_info(signature, context))
    return paths


def timestamp_report(pdf: bytes, *, tsa_url: str, trust_roots: Sequence[bytes],
                     tsa_roots: Sequence[bytes], at: dt.datetime) -> bytes:
    """The signed report with its validation data and a document timestamp (PAdES B-LTA).

    ``trust_roots`` validate the signers' certificates and ``tsa_roots`` the
    authority's, at ``at`` (now, in the command), before anything is written:
    a signature that does not chain to a given root, or an authority outside
    ``tsa_roots``, is refused. ``at`` also dates the file's metadata (the
    timestamp's own time is the authority's).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ReportInputError("the time must be timezone-aware (UTC)")
    roots = load_trust_roots(trust_roots)
    authorities = load_trust_roots(tsa_roots, what="time-stamping authority root")
    try:
        writer = ReportWriter(pdf, modified_at=at.astimezone(dt.UTC))
        reader = writer.prev
        problems = inspect_before_signing(writer, pdf)
        approvals = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
        stamps = [s for s in reader.embedded_signatures if s.sig_object_type != "/Sig"]
    except PdfContentError as exc:
        raise ReportInputError(f"this is not a sprintclear report: {exc}") from exc
    except Exception as exc:  # pyHanko's reader raises PdfReadError and built-in errors
        raise ReportInputError(f"the report cannot be read as a PDF: {error_cause(exc)}") from exc
    if problems:
        raise ReportInputError("this file is not a report as `sprintclear report` writes it, "
                               "with only sprintclear's signatures after it; it was not "
                               "time-stamped", problems)
    if not approvals:
        raise ReportInputError("the report is not signed: time-stamp it after signing")
    context = ValidationContext(trust_roots=[*roots, *authorities], allow_fetching=False,
                                moment=at.astimezone(dt.UTC))
    try:
        paths = asyncio.run(_validation_paths(approvals, context))
    except Exception as exc:  # pyHanko: a signer's certificate does not chain to a root
        raise ReportInputError(f"a signature's certificate cannot be validated with the given "
                               f"roots: {error_cause(exc)}") from exc
    stamper = _time_stamper(tsa_url)
    field_name = f"{DOCUMENT_TIMESTAMP_PREFIX}{len(stamps) + 1}"
    output = io.BytesIO()
    try:
        signers.PdfTimeStamper(stamper, field_name=field_name).timestamp_pdf(
            writer, "sha256", validation_context=context, validation_paths=paths,
            bytes_reserved=_RESERVED, output=output,
            dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
    except Exception as exc:  # pyHanko raises SigningError, TimestampRequestError, aiohttp's
        if is_timestamp_failure(exc):
            raise ReportError(f"the time-stamping authority at {tsa_url} gave no timestamp: "
                              f"{error_cause(exc)}") from exc
        raise ReportError(f"the report could not be time-stamped: {error_cause(exc)}") from exc
    return output.getvalue()
