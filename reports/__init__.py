"""Signed PDF clearance reports: decision → HTML → PDF/A-3b → PAdES signature → verification.

Three pure steps and a check, each in its own module:

- :mod:`reports.html`: a decision (and earlier decisions of the same injury)
  → the report's HTML, with jinja2 (display data from :mod:`reports.view` and
  :mod:`reports.charts`);
- :mod:`reports.pdf`: HTML → PDF/A-3b with WeasyPrint, the decision record
  (:mod:`reports.record`) attached as the document's associated file;
- :mod:`reports.signing`: a clinician's PAdES B-B signature with pyHanko;
- :mod:`reports.verification`: is a signed report the one that was signed,
  and does it say what the rules decide.

:mod:`reports.pki` makes an offline demo CA and clinician certificate. The
clock is always passed in (``generated_at``, ``signed_at``). This package
imports ``rules`` and ``engine`` and nothing above them.
"""

from reports.html import render_report_html
from reports.pdf import render_report_pdf
from reports.pki import DemoPki, make_demo_pki
from reports.record import RECORD_FILENAME, ReportRecord, ReportSignoff
from reports.signing import ClinicianSigner, sign_report
from reports.verification import ReportVerification, SignatureCheck, verify_report
from reports.view import history_problems

__all__ = [
    "RECORD_FILENAME",
    "ClinicianSigner",
    "DemoPki",
    "ReportRecord",
    "ReportSignoff",
    "ReportVerification",
    "SignatureCheck",
    "history_problems",
    "make_demo_pki",
    "render_report_html",
    "render_report_pdf",
    "sign_report",
    "verify_report",
]
