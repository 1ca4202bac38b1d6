"""The clinician's sign-off on the report: printed under the recommendation, recorded, verified."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from reports import ReportSignoff, render_report_html, verify_report
from reports.html import prepare_report
from reports.pdf import html_to_pdf
from reports.record import ReportRecord
from rules.errors import ReportInputError


def _signoff(flare: Any, **changes: Any) -> ReportSignoff:
    base = {"action": "override", "clinician": "Dr. Test Clinician",
            "signed_at": dt.datetime(2026, 3, 10, 14, 20, tzinfo=dt.UTC),
            "signed_phase": "load",
            "reason": "Next-morning pain again after the last session; one more week at load."}
    return ReportSignoff(**{**base, **changes})


def test_an_override_is_printed_under_the_unchanged_recommendation(flare: Any,
                                                                  clock: dt.datetime) -> None:
    """An override leads the banner with the signed phase and what it clears, who overrode
    it and why; the rule base's recommendation follows, unchanged and labelled as such."""
    html = render_report_html(flare.decision, flare.assessment, generated_at=clock,
                              signoff=_signoff(flare))
    banner = html.split('id="decision">', 1)[1].split("</section>", 1)[0]
    assert "In force: the clinician&#39;s sign-off" in banner  # HTML-escaped
    assert "Signed: Phase 2 of 6 · Early loading and walk–jog" in banner
    assert "✗ NOT CLEARED to sprint" in banner and "✗ NOT CLEARED to play" in banner
    assert "⚠ OVERRIDDEN by Dr. Test Clinician" in banner
    assert "one more week at load" in banner
    after = html.split('id="recommendation">', 1)[1].split("</section>", 1)[0]
    assert "Recommendation of the rule base: Phase 3 of 6 · Progressive running" in after
    assert "recommended: cleared to sprint NO, to play NO" in after
    assert html.index('id="decision"') < html.index('id="recommendation"')


def test_an_acceptance_signs_the_recommended_phase(flare: Any, clock: dt.datetime) -> None:
    """Accepting prints the recommended phase as the signed one; accepting another is refused."""
    accepted = _signoff(flare, action="accept", signed_phase=flare.decision.phase.id, reason=None)
    html = render_report_html(flare.decision, flare.assessment, generated_at=clock,
                              signoff=accepted)
    assert "✓ ACCEPTED by Dr. Test Clinician" in html
    with pytest.raises(ReportInputError) as refused:
        render_report_html(flare.decision, flare.assessment, generated_at=clock,
                           signoff=_signoff(flare, action="accept", signed_phase="play"))
    assert any("signed_phase" in problem for problem in refused.value.problems)


@pytest.mark.parametrize(("changes", "field"), [
    ({"reason": "  "}, "reason"),
    ({"reason": None}, "reason"),
    ({"signed_phase": "jog"}, "signed_phase"),
    ({"clinician": " "}, "clinician"),
    ({"signed_at": dt.datetime(2026, 3, 10, 14, 20)}, "signed_at"),
])
def test_an_unusable_signoff_is_refused_naming_the_field(flare: Any, clock: dt.datetime,
                                                         changes: dict[str, Any],
                                                         field: str) -> None:
    """An override without a reason, an unknown phase, no name or a naive time is refused."""
    with pytest.raises(ReportInputError) as refused:
        render_report_html(flare.decision, flare.assessment, generated_at=clock,
                           signoff=_signoff(flare, **changes))
    assert any(problem.startswith(field) for problem in refused.value.problems)


def test_the_signoff_is_in_the_embedded_record(flare: Any, clock: dt.datetime) -> None:
    """The record carries the sign-off next to the recommendation it concerns."""
    prepared = prepare_report(flare.decision, flare.assessment, generated_at=clock,
                              signoff=_signoff(flare))
    recorded = json.loads(prepared.record.data)["signoff"]
    assert recorded == {"action": "override", "clinician": "Dr. Test Clinician",
                        "signed_at": "2026-03-10T14:20:00Z", "recommended_phase": "run",
                        "signed_phase": "load",
                        "reason": "Next-morning pain again after the last session; one more "
                                  "week at load."}
    plain = prepare_report(flare.decision, flare.assessment, generated_at=clock)
    assert json.loads(plain.record.data)["signoff"] is None


def test_a_signed_report_with_a_signoff_verifies(flare: Any, clock: dt.datetime, sign: Any,
                                                trust: list[bytes]) -> None:
    """Rendered with a sign-off, signed: valid, and the verification sees the sign-off."""
    pdf = html_to_pdf(prepare_report(flare.decision, flare.assessment, generated_at=clock,
                                     signoff=_signoff(flare), inline_stylesheet=False))
    result = verify_report(sign(pdf), trust_roots=trust)
    assert result.valid, result.reasons
    assert result.record is not None and result.record["signoff"]["signed_phase"] == "load"


def test_a_recorded_signoff_the_page_does_not_show_is_invalid(flare: Any, clock: dt.datetime,
                                                             sign: Any, sign_anyway: Any,
                                                             trust: list[bytes]) -> None:
    """A record claiming an override while the pages print none (consistent hash): signing
    refuses it, and verification of such a file signed anyway names the missing sign-off."""
    with_signoff = prepare_report(flare.decision, flare.assessment, generated_at=clock,
                                  signoff=_signoff(flare))
    without = prepare_report(flare.decision, flare.assessment, generated_at=clock)
    html = without.html.replace(without.record.sha256, with_signoff.record.sha256)
    forged = html_to_pdf(dataclasses.replace(with_signoff, html=html))
    with pytest.raises(ReportInputError) as refused:
        sign(forged)
    assert any("In force: the clinician's sign-off" in p for p in refused.value.problems)
    result = verify_report(sign_anyway(forged), trust_roots=trust)
    assert not result.valid
    assert any("the first page does not show “⚠ OVERRIDDEN by Dr. Test Clinician”" in reason
               for reason in result.reasons)


def test_record_reads_its_signoff(flare: Any, clock: dt.datetime) -> None:
    """ReportRecord gives the sign-off back from the bytes."""
    prepared = prepare_report(flare.decision, flare.assessment, generated_at=clock,
                              signoff=_signoff(flare, action="accept",
                                               signed_phase=flare.decision.phase.id,
                                               reason=None))
    record = ReportRecord.from_bytes(prepared.record.data)
    assert record.signoff is not None and record.signoff["action"] == "accept"


def test_an_override_lists_the_activities_of_the_signed_phase(flare: Any,
                                                             clock: dt.datetime) -> None:
    """Overridden down to load, the report lists what load allows, and says whose phase it is."""
    html = render_report_html(flare.decision, flare.assessment, generated_at=clock,
                              signoff=_signoff(flare))
    section = html.split('<section class="activities">', 1)[1].split("</section>", 1)[0]
    assert "Activities at the signed phase 2 load" in section
    assert "the recommendation was 3 run" in section
    rows = section.split("<table", 1)[1].split("<tr")
    run_row = next(row for row in rows if "3 run" in row)
    assert "not yet" in run_row  # the recommendation allowed it; the signed phase does not
