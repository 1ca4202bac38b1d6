"""Signed PDF clearance reports: decision → HTML → PDF/A-3b → PAdES signature → verification.

Three pure steps and a check, each in its own module:

- :mod:`reports.html`: a decision (and earlier decisions of the same injury)
  → the report's HTML, with jinja2 (display data from :mod:`reports.view` and
  :mod:`reports.charts`);
- :mod:`reports.pdf`: HTML → PDF/A-3b with WeasyPrint, the decision record
  (:mod:`reports.record`) attached as the document's associated file;
- :mod:`reports.signing`: a clinician's PAdES signature with pyHanko (B-B, or
  B-T with a time-stamping authority), after :mod:`reports.inspection` found
  the file to be a report as rendered with only sprintclear's signatures;
- :mod:`reports.timestamping`: validation data and a document timestamp
  (B-LTA);
- :mod:`reports.verification`: is a signed report the one that was signed,
  does every revision hold and draw only what it may (:mod:`reports.structure`),
  is it still PDF/A-3b, and does it say what the rules decide.

What is in force (the signed phase, or a recommendation not signed off) is
computed once, in :mod:`reports.view`, for the page, the metadata and every
summary. The report is set only in the fonts shipped in ``reports/fonts/``
(:mod:`reports.typography`). :mod:`reports.pki` makes an offline demo CA,
clinician certificate and time-stamping authority. The clock is always passed
in (``generated_at``, ``signed_at``). This package imports ``rules`` and
``engine`` and nothing above them.
"""

from reports.html import render_report_html
from reports.pdf import render_report_pdf
from reports.pki import DemoPki, DemoTsa, LoopbackTsa, make_demo_pki, make_demo_tsa
from reports.record import RECORD_FILENAME, ReportRecord, ReportSignoff
from reports.signing import ClinicianSigner, sign_report
from reports.timestamping import timestamp_report
from reports.verification import ReportVerification, SignatureCheck, verify_report
from reports.view import StatusInForce, history_problems, status_in_force

__all__ = [
    "RECORD_FILENAME",
    "ClinicianSigner",
    "DemoPki",
    "DemoTsa",
    "LoopbackTsa",
    "ReportRecord",
    "ReportSignoff",
    "ReportVerification",
    "SignatureCheck",
    "StatusInForce",
    "history_problems",
    "make_demo_pki",
    "make_demo_tsa",
    "render_report_html",
    "render_report_pdf",
    "sign_report",
    "status_in_force",
    "timestamp_report",
    "verify_report",
]
