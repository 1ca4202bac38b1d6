"""Step one: the report's HTML says what the decision says, and refuses what does not belong."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
from typing import Any

import pytest
from support import hamstring_play, varied

from engine.assessment import canonical_json
from reports import render_report_html
from reports.html import prepare_report
from reports.layout import SIGNATURE_SLOTS
from rules.errors import InvalidAssessment, ReportInputError
from rules.loading import default_protocol


@pytest.fixture(scope="module")
def flare_html(flare: Any, clock: dt.datetime) -> str:
    return render_report_html(flare.decision, flare.assessment, generated_at=clock)


def _text(markup: str) -> str:
    """The visible text of the HTML, tags removed, entities decoded, whitespace collapsed."""
    body = markup[markup.index("<body>"):]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_header_names_athlete_injury_assessment_and_profile(flare: Any,
                                                            flare_html: str) -> None:
    """Athlete, sport and position, injury, days since, assessment date, assessor and profile."""
    text = _text(flare_html)
    decision = flare.decision
    for expected in (decision.athlete.id, decision.athlete.name, decision.athlete.sport,
                     decision.athlete.position, decision.injury.region, decision.injury.side,
                     f"BAMIC {decision.injury.bamic_grade}", decision.injury.date,
                     f"day {decision.injury.days_since_injury}", decision.assessment.date,
                     decision.assessment.assessor, decision.assessment.profile):
        assert str(expected) in text, expected


def test_banner_states_phase_clearances_and_red_flags(flare: Any, flare_html: str) -> None:
    """The banner has the phase line, both clearance lines in words and every red flag id."""
    banner = flare_html[flare_html.index('id="decision"'):flare_html.index("</section>",
                                                                         flare_html.index(
                                                                             'id="decision"'))]
    text = _text("<body>" + banner)
    decision = flare.decision
    assert f"Phase {decision.phase.number} of 6 · {decision.phase.name}" in text
    assert "✗ NOT CLEARED to sprint" in text and "✗ NOT CLEARED to play" in text
    assert "✓ CLEARED" not in text
    for flag in decision.red_flags:
        assert flag.id in text and "RED FLAG" in text
    assert f"criteria allow phase {decision.criteria_phase.number}" in text


def test_every_criterion_is_in_the_table_with_status_word_and_symbol(flare: Any,
                                                                      flare_html: str) -> None:
    """Each applicable criterion shows id, symbol and status word; the others are named as n/a."""
    text = _text(flare_html)
    words = {"met": "✓ met", "unmet": "✗ not met", "not_assessed": "? not assessed"}
    for criterion in flare.decision.criteria:
        assert criterion.id in text
        if criterion.status == "not_applicable":
            assert f"not applicable ({criterion.region} criteria)" in text
            continue
        row = re.search(rf'<tr class="[a-z]+">\s*<td><span class="mark">([^<]+)</span></td>\s*'
                        rf"<td><b>{criterion.id}</b>", flare_html)
        assert row is not None, criterion.id
        assert html.unescape(row.group(1)) == words[criterion.status]
        for part in criterion.parts:
            assert part.value_text in text and part.threshold_text in text
        for source in criterion.sources:
            assert default_protocol().source_by_id[source].short in text


def test_what_blocks_the_next_phase_is_the_decisions_own_sentences(flare: Any,
                                                                    flare_html: str) -> None:
    """The blocking criteria are listed with what each needs, word for word from the decision."""
    text = _text(flare_html)
    assert flare.decision.blocking_details
    for blocking in flare.decision.blocking_details:
        assert blocking.needs in text


def test_red_flags_and_cautions_carry_message_finding_and_effect(example: Any,
                                                                 decide_document: Any,
                                                                 clock: dt.datetime) -> None:
    """Red flags show message, what was found and the effect; cautions their message too."""
    decision, assessment = decide_document(
        example("hamstring-red-flag-increasing-swelling-refer"))
    text = _text(render_report_html(decision, assessment, generated_at=clock))
    assert decision.red_flags and decision.cautions
    for flag in decision.red_flags:
        assert flag.message in text and flag.effect in text and flag.because in text
    for caution in decision.cautions:
        assert caution.message in text and caution.because in text
    assert "REFER TO A PHYSICIAN" in text


def test_activities_allowed_and_not_yet_allowed_are_all_listed(flare: Any,
                                                               flare_html: str) -> None:
    """Every activity of the injury region's catalogue is named, under allowed or not yet."""
    text = _text(flare_html)
    catalogue = default_protocol().activity_by_id
    for activity_id in flare.decision.allowed_activities + flare.decision.restricted_activities:
        assert catalogue[activity_id].name in text
    assert "✓ allowed" in text and "✗ not yet" in text


def test_charts_are_svg_images_with_labels_and_thresholds(flare_html: str) -> None:
    """The symmetry charts are SVG (data URLs) with test labels, threshold lines and statuses."""
    sources = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', flare_html)
    assert len(sources) == 3
    svg = "".join(base64.b64decode(source).decode("utf-8") for source in sources)
    assert "isometric 90/90 LSI" in svg and "Nordic LSI" in svg
    assert "stroke-dasharray" in svg and "≥ 90.0" in svg
    assert "✓ C302" in html.unescape(svg)
    alts = re.findall(r'<img class="chart"[^>]* alt="([^"]+)"', flare_html)
    assert all("needs" in html.unescape(alt) for alt in alts)


def test_footer_shows_the_sha256_of_the_embedded_record(flare: Any, clock: dt.datetime) -> None:
    """The footer hash is the SHA-256 of the exact record bytes; the record holds input and
    decision."""
    prepared = prepare_report(flare.decision, flare.assessment, generated_at=clock)
    record = prepared.record
    assert record.sha256 == hashlib.sha256(record.data).hexdigest()
    assert f'Record SHA-256 <span class="hash">{record.sha256}</span>' in prepared.html
    assert record.content["decision"]["decision_id"] == flare.decision.decision_id
    assert canonical_json(record.content["assessment"]) == canonical_json(flare.assessment)
    assert record.data == canonical_json(record.content).encode("utf-8")


def test_rule_base_version_protocol_and_decision_id_are_printed(flare: Any,
                                                                flare_html: str) -> None:
    """The full rule base version, the protocol id and version, and the decision id appear."""
    text = _text(flare_html)
    rulebase = flare.decision.rulebase
    assert rulebase.version in text and rulebase.protocol_sha256 in text
    assert f"{rulebase.protocol} {rulebase.protocol_version}" in text
    assert flare.decision.decision_id in text


def test_signature_slots_are_empty_boxes_with_anchors(flare_html: str) -> None:
    """Each signature slot is an empty box with the id the signing step looks for."""
    for slot in SIGNATURE_SLOTS:
        assert f'id="{slot.anchor}"' in flare_html
        assert slot.caption in html.unescape(flare_html)


def test_text_from_the_input_is_escaped(decide_document: Any, clock: dt.datetime) -> None:
    """An athlete name with markup is printed as text, never as HTML."""
    decision, assessment = decide_document(varied(hamstring_play(), {
        "athlete.name": "<script>alert(1)</script> & Co"}))
    markup = render_report_html(decision, assessment, generated_at=clock)
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in markup


def test_the_html_is_the_same_for_the_same_decision_and_clock(flare: Any,
                                                              clock: dt.datetime) -> None:
    """Rendering is a pure function of the decision and the clock passed in."""
    first = render_report_html(flare.decision, flare.assessment, generated_at=clock)
    later = render_report_html(flare.decision, flare.assessment,
                               generated_at=clock + dt.timedelta(hours=1))
    assert first == render_report_html(flare.decision, flare.assessment, generated_at=clock)
    assert first != later and "2026-03-10 15:05:00 UTC" in later


def test_an_assessment_that_was_not_decided_is_refused(flare: Any, clock: dt.datetime) -> None:
    """The input must be the one the decision records (its SHA-256)."""
    other = varied(flare.assessment, {"pain.rest": 1})
    with pytest.raises(ReportInputError, match="not the one the decision was made for"):
        render_report_html(flare.decision, other, generated_at=clock)


def test_an_invalid_assessment_is_refused(flare: Any, clock: dt.datetime) -> None:
    """An input that breaks the data dictionary is refused as invalid, not rendered."""
    with pytest.raises(InvalidAssessment):
        render_report_html(flare.decision, varied(flare.assessment, {"pain.rest": 11}),
                           generated_at=clock)


def test_a_non_canonical_input_of_the_decision_is_accepted(decide_document: Any,
                                                           clock: dt.datetime) -> None:
    """The raw input (profile left to its default) is the decided one, once made canonical."""
    raw = varied(hamstring_play(), {"assessment.profile": None})
    decision, _ = decide_document(raw)
    markup = render_report_html(decision, raw, generated_at=clock)
    assert decision.decision_id in markup


def test_a_naive_clock_is_refused(flare: Any) -> None:
    """The report's time must be timezone-aware."""
    with pytest.raises(ReportInputError, match="timezone-aware"):
        render_report_html(flare.decision, flare.assessment,
                           generated_at=dt.datetime(2026, 3, 10, 14, 5))


def test_history_of_another_athlete_is_refused(decide_document: Any,
                                               clock: dt.datetime) -> None:
    """Earlier decisions of another athlete stop the report with every problem named."""
    current, assessment = decide_document(hamstring_play())
    other, _ = decide_document(varied(hamstring_play(), {"athlete.id": "X-2",
                                                         "assessment.date": "2026-02-01"}))
    with pytest.raises(ReportInputError) as caught:
        render_report_html(current, assessment, history=[other], generated_at=clock)
    assert any("athlete X-2" in problem for problem in caught.value.problems)


def test_history_adds_the_phase_trend_and_the_measure_trends(decide_document: Any,
                                                             clock: dt.datetime) -> None:
    """With earlier decisions the report shows the phase over time and one chart per measure."""
    current, assessment = decide_document(hamstring_play())
    earlier = [decide_document(varied(hamstring_play(), {
        "assessment.date": date, "strength.isometric_90_90": (value, 300)}))[0]
        for date, value in (("2026-02-01", 240), ("2026-02-15", 265))]
    markup = render_report_html(current, assessment, history=earlier, generated_at=clock)
    assert "Progress over 3 assessments of this injury" in markup
    sources = re.findall(r'id="(chart-[a-z0-9-]+)" src="data:image/svg\+xml;base64,([^"]+)"',
                         markup)
    ids = [chart_id for chart_id, _ in sources]
    assert "chart-phase-trend" in ids and sum(i.startswith("chart-trend-") for i in ids) >= 5
    trend = next(base64.b64decode(s).decode() for i, s in sources if i == "chart-trend-0")
    assert "isometric 90/90 LSI" in trend and "80" in trend and "88.3" in trend
