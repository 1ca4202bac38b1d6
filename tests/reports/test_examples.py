"""Every example in examples/ renders to a report that says its decision (once per session)."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest
from support import example_files

from reports.view import banner_claims, contradicting_claims

NAMES = [path.stem for path in example_files()]


@pytest.mark.parametrize("name", NAMES)
def test_example_renders_to_a_short_report_of_its_decision(
        name: str, examples: dict[str, Any], pdftotext: Any) -> None:
    """The report is two or three A4 pages and reads as the decision: banner, what holds the
    athlete, gate, flags, holds, plan, footer."""
    rendered = examples[name]
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        assert 2 <= len(pdf.pages) <= 3
        assert list(pdf.attachments) == ["sprintclear-record.json"]
    text = " ".join(pdftotext(rendered.pdf).split())
    decision = rendered.decision
    for claim in banner_claims(decision):
        assert claim in text
    for claim in contradicting_claims(decision):
        assert claim not in text
    for flag in decision.red_flags:
        assert f"RED FLAG {flag.id}" in text
    for caution in decision.cautions:
        assert f"CAUTION {caution.id}" in text
    if decision.next_gate is not None:
        assert decision.next_gate.name in text
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        pages = len(pdf.pages)
    assert text.count("Record SHA-256") == pages + 1  # every footer and the provenance block
    for held in decision.held_by:
        assert held.ends in text
    if decision.plan is not None:
        assert "Re-assess by" in text and decision.plan.reassess_by in text


def test_every_example_is_rendered(examples: dict[str, Any]) -> None:
    """The session renders one report for each file of examples/."""
    assert sorted(examples) == sorted(NAMES) and len(NAMES) == 18


@pytest.mark.parametrize("name", ["hamstring-red-flag-increasing-swelling-refer",
                                  "hamstring-rugby-back-reinjury-cleared-to-play-conservative"])
def test_examples_pass_the_structural_pdfa_checks(name: str, examples: dict[str, Any],
                                                 assert_pdfa: Any) -> None:
    """A refer case and a cleared-to-play case are PDF/A-3b with every font embedded."""
    assert_pdfa(examples[name].pdf)
