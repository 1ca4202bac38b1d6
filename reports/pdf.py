"""Step two: the report's HTML → a PDF/A-3b file with the decision record inside (WeasyPrint).

The record (:mod:`reports.record`) is attached as the document's associated
file with ``/AFRelationship /Data``. WeasyPrint 70 lists each attachment twice
in the catalog's ``/AF`` array; the finisher keeps one. The PDF identifier is
derived from the record hash and the dates from ``generated_at``, so the same
decision rendered at the same time gives the same file.

WeasyPrint reports problems by logging, not by raising: a failure to lay out
or write raises, and is translated into :class:`~rules.errors.ReportError`
here, the one place WeasyPrint errors are translated.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from weasyprint import CSS, HTML, Attachment

from engine.decision import Decision
from reports.html import PreparedReport, prepare_report, stylesheet
from reports.record import RECORD_DESCRIPTION, RECORD_FILENAME, ReportSignoff
from reports.typography import ShippedFontConfiguration
from rules.errors import ReportError
from rules.protocol import Protocol

__all__ = ["PDF_VARIANT", "html_to_pdf", "render_report_pdf"]

PDF_VARIANT = "pdf/a-3b"


_PER_THREAD = threading.local()


def _layout_resources() -> tuple[Any, CSS]:
    """The shipped fonts' configuration and the parsed stylesheet, made once per thread.

    Reusing them saves each report the font and stylesheet setup; they hold
    Pango and fontconfig state, which is not shared between threads. Only the
    shipped fonts are in the configuration (:mod:`reports.typography`), so the
    host's fonts never change a report.
    """
    resources: tuple[Any, CSS] | None = getattr(_PER_THREAD, "resources", None)
    if resources is None:
        fonts = ShippedFontConfiguration()
        resources = (fonts, CSS(string=stylesheet(), font_config=fonts))
        _PER_THREAD.resources = resources
    return resources


def _drop_duplicate_associated_files(document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists every attachment twice in the catalog's /AF array: keep one."""
    del document
    associated = pdf.catalog.get("AF")
    if associated is None:
        return
    unique = list(dict.fromkeys(associated))
    associated.clear()
    associated.extend(unique)


def html_to_pdf(prepared: PreparedReport) -> bytes:
    """The prepared report as PDF/A-3b with its record attached."""
    moment = prepared.generated_at.astimezone(dt.UTC).replace(tzinfo=None)
    record = prepared.record
    attachment = Attachment(
        file_obj=io.BytesIO(record.data), name=RECORD_FILENAME,
        description=RECORD_DESCRIPTION, relationship="Data",
        created=moment, modified=moment)
    fonts, css = _layout_resources()
    try:
        pdf: bytes = HTML(string=prepared.html).write_pdf(
            pdf_variant=PDF_VARIANT,
            attachments=[attachment],
            pdf_identifier=bytes.fromhex(record.sha256[:32]),
            finisher=_drop_duplicate_associated_files,
            font_config=fonts,
            stylesheets=[css],
        )
    except Exception as exc:  # WeasyPrint raises assorted built-in errors
        raise ReportError(f"the report could not be written as PDF: {exc}") from exc
    return pdf


def render_report_pdf(decision: Decision, assessment: Mapping[str, Any], *,
                      history: Sequence[Decision] = (), generated_at: dt.datetime,
                      protocol: Protocol | None = None,
                      signoff: ReportSignoff | None = None) -> bytes:
    """The decision as a PDF/A-3b report with the embedded record (not yet signed)."""
    prepared = prepare_report(decision, assessment, history=history,
                              generated_at=generated_at, protocol=protocol, signoff=signoff,
                              inline_stylesheet=False)
    return html_to_pdf(prepared)
