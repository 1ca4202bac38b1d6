"""The charts: every bar has its label, its thresholds, and its status in symbols and ids."""

from __future__ import annotations

from typing import Any

from support import hamstring_play, varied

from reports.charts import Chart, TrendPoint, symmetry_charts, trend_charts
from reports.view import key_measures
from rules.dictionary import PHASE_IDS


def _texts(chart: Chart) -> list[str]:
    return [shape.text for shape in chart.shapes if shape.tag == "text"]


def _attributes(shape: Any) -> dict[str, str]:
    return dict(shape.attributes)


def test_each_test_has_a_labelled_bar_and_a_threshold_line_per_criterion(
        decide_document: Any) -> None:
    """One row per test: its label, its value, one dashed line per threshold, its statuses."""
    decision, _ = decide_document(varied(hamstring_play(), {"strength.isometric_90_90": (250,
                                                                                           300)}))
    measures = key_measures(decision)
    charts = {chart.id: chart for chart in symmetry_charts(measures)}
    assert set(charts) == {"chart-symmetry", "chart-difference", "chart-speed"}
    for measure in measures:
        chart = charts[f"chart-{measure.group}"]
        texts = _texts(chart)
        assert measure.label in texts and measure.value_text in texts
        ids = [cid for threshold in measure.thresholds for cid in threshold.criteria]
        marks = next(t for t in texts if t[:1] in "✓✗?" and all(cid in t for cid in ids))
        for threshold in measure.thresholds:
            for criterion, outcome in zip(threshold.criteria, threshold.outcomes, strict=True):
                symbol = {"passed": "✓", "failed": "✗", "not_assessed": "?"}[outcome]
                assert f"{symbol} {criterion}" in marks
    dashed = [s for s in charts["chart-symmetry"].shapes
              if s.tag == "line" and "stroke-dasharray" in _attributes(s)]
    symmetry = [m for m in measures if m.group == "symmetry"]
    assert len(dashed) == sum(len(m.thresholds) for m in symmetry)


def test_a_failed_threshold_reads_as_a_cross_not_only_as_a_colour(decide_document: Any) -> None:
    """An LSI below C302's 90 % shows ✗ C302 next to the bar."""
    decision, _ = decide_document(varied(hamstring_play(), {"strength.isometric_90_90": (250,
                                                                                           300)}))
    chart = symmetry_charts(key_measures(decision))[0]
    assert "✓ C202  ✗ C302" in _texts(chart)


def test_panels_without_any_measured_value_are_left_out(decide_document: Any,
                                                        example: Any) -> None:
    """A report whose hop and heel-raise tests were not done draws no symmetry panel."""
    decision, _ = decide_document(example("calf-missing-tests-heel-raise-and-hop-not-done"))
    charts = symmetry_charts(key_measures(decision))
    assert [chart.id for chart in charts] == ["chart-speed"]


def test_the_axis_reaches_beyond_the_largest_value(decide_document: Any) -> None:
    """An LSI above 120 % extends the axis instead of running off the chart."""
    decision, _ = decide_document(varied(hamstring_play(), {"hop.single_cm": (260, 200)}))
    chart = symmetry_charts(key_measures(decision))[0]
    ticks = [float(t) for t in _texts(chart) if t.replace(".", "").isdigit()]
    assert max(ticks) >= 130.0
    bars = [s for s in chart.shapes if s.tag == "rect"]
    right_edge = max(float(_attributes(b)["x"]) + float(_attributes(b)["width"]) for b in bars)
    assert right_edge <= 520.5


def test_trend_charts_plot_the_phase_and_each_measure_by_day(decide_document: Any) -> None:
    """The phase chart names every phase; a measure chart labels days and threshold lines."""
    documents = [varied(hamstring_play(), {"assessment.date": date, "pain.rest": rest,
                                           "strength.isometric_90_90": (value, 300)})
                 for date, rest, value in (("2026-02-01", 3, 240), ("2026-02-20", 0, 262),
                                           ("2026-03-02", 0, 290))]
    decisions = [decide_document(document)[0] for document in documents]
    points = [TrendPoint(day=d.injury.days_since_injury, date=d.assessment.date,
                         phase=d.phase.number, criteria_phase=d.criteria_phase.number,
                         measures={m.key: m.value for m in key_measures(d)})
              for d in decisions]
    phase, small = trend_charts(points, key_measures(decisions[-1]), PHASE_IDS)
    assert [f"{n} {p}" for n, p in enumerate(PHASE_IDS, 1)] == [
        t for t in _texts(phase) if t[0].isdigit() and " " in t]
    assert "days since injury" in _texts(phase)
    isometric = next(c for c in small if c.title == "isometric 90/90 LSI")
    texts = _texts(isometric)
    assert {"> 80.0", "≥ 90.0"} <= set(texts)
    assert f"day {points[0].day}" in texts and f"day {points[-1].day}" in texts
    assert "80" in texts and "96.7" in texts
