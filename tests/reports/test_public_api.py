"""The contract the service codes against, and the guard that fails tests on WeasyPrint warnings."""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pytest
from weasyprint import HTML

import reports


def test_every_public_name_exists() -> None:
    """Each name in reports.__all__ is importable from the package."""
    for name in reports.__all__:
        assert hasattr(reports, name), name


@pytest.mark.parametrize(("name", "keywords"), [
    ("render_report_html", {"history", "generated_at"}),
    ("render_report_pdf", {"history", "generated_at"}),
    ("sign_report", {"name", "meaning", "signed_at"}),
    ("verify_report", {"trust_roots"}),
    ("make_demo_pki", {"clinician_name", "password"}),
])
def test_the_contract_functions_keep_their_keyword_names(name: str, keywords: set[str]) -> None:
    """The keyword-only parameters the service passes are still there."""
    parameters = inspect.signature(getattr(reports, name)).parameters
    keyword_only = {p for p, v in parameters.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
    assert keywords <= keyword_only


def test_the_warning_guard_catches_a_weasyprint_warning(quiet: Any) -> None:
    """The guard every report test runs under does fail on a warning WeasyPrint logs."""
    logger = logging.getLogger("weasyprint")
    outer = list(logger.handlers)  # this test's own guard, set aside while it is tested
    for handler in outer:
        logger.removeHandler(handler)
    try:
        with pytest.raises(AssertionError, match="WeasyPrint warned"), quiet():
            HTML(string="<p style='colour: red'>x</p>").write_pdf()
        with quiet():
            HTML(string="<p style='color: red'>x</p>").write_pdf()
    finally:
        for handler in outer:
            logger.addHandler(handler)
