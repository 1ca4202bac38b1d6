"""The athlete page's charts, as lists of SVG shapes: the template only writes them out.

For one injury episode, from its decisions (oldest first):

- :func:`phase_chart`: the signed phase, and the rules' recommendations drawn
  apart (hollow diamonds), by day since injury;
- :func:`measure_charts`: one chart per key measure the decisions computed
  (limb symmetry indices, side-to-side differences, speeds; the values are the
  decisions' own, from ``reports.view.key_measures``), with a dashed line at
  each threshold, labelled with its criteria, and every point labelled with its
  value and a status symbol (``✓`` every threshold met, ``✗`` one not met):
  never colour alone.

The PDF's charts (``reports.charts``) are drawn for an A4 page at print sizes;
these for a screen (larger type, fewer words per line): both draw with
``reports.drawing``, at its ``PRINT`` and ``SCREEN`` sizes. Each chart also has a
text description and a table of its values in the page, for screen readers and
for whoever wants the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.decision import Decision
from reports.drawing import SCREEN, Pen, Shape, day_range, fmt_number, nice_step

__all__ = ["Chart", "MeasureTrend", "Shape", "measure_charts", "measure_trends", "phase_chart"]

WIDTH = 560
INK = "#1f2328"
MUTED = "#4d5661"
GRID = "#d0d7de"
LINE = "#1f4e8c"
FAIL = "#a3201a"
PASS = "#1f6b3a"
PENDING = "#5b3d8f"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    shapes: tuple[Shape, ...] = field(default=())


_PEN = Pen(SCREEN)


# ---- the phase over time ------------------------------------------------------------


def phase_chart(decisions: Sequence[Decision], signed: Sequence[str | None],
                phase_ids: Sequence[str]) -> Chart:
    """The signed phase in force (solid line, filled squares) and the rules'
    recommendations (hollow diamonds, no line), by day since injury.

    ``signed`` gives, for each decision, the phase a clinician signed for it, or ``None``
    (not signed yet): the line steps only at sign-offs, so a recommendation never
    appears as the phase in force (issue 10, item 2)."""
    left, right, top, bottom = 120.0, WIDTH - 20.0, 16.0, 196.0
    day_low, day_high = day_range([d.injury.days_since_injury for d in decisions])
    number = {pid: index for index, pid in enumerate(phase_ids, 1)}

    def x_of(day: float) -> float:
        return left + (day - day_low) / (day_high - day_low) * (right - left)

    def y_of(value: float) -> float:
        return bottom - (value - 1) / (len(phase_ids) - 1) * (bottom - top)

    shapes: list[Shape] = []
    for value, phase_id in enumerate(phase_ids, 1):
        y = y_of(value)
        shapes.append(_PEN.line(left, y, right, y))
        shapes.append(_PEN.text(left - 10, y + 5, f"{value} {phase_id}", anchor="end"))
    signed_line: list[tuple[float, float]] = []
    for decision, phase in zip(decisions, signed, strict=True):
        if phase is None:
            continue
        x = x_of(decision.injury.days_since_injury)
        if signed_line:  # a step: the signed phase holds until the next sign-off
            signed_line.append((x, signed_line[-1][1]))
        signed_line.append((x, y_of(number[phase])))
    if len(signed_line) > 1:
        shapes.append(_PEN.polyline(signed_line, stroke=LINE, width=2.5))
    for decision, phase in zip(decisions, signed, strict=True):
        x = x_of(decision.injury.days_since_injury)
        shapes.append(_PEN.marker("diamond", x, y_of(decision.phase.number), stroke=PENDING,
                                  filled=False))
        if phase is not None:
            shapes.append(_PEN.marker("square", x, y_of(number[phase]), stroke=LINE))
        shapes.append(_PEN.text(x, bottom + 22, f"day {decision.injury.days_since_injury}",
                                size=13, anchor="middle", fill=MUTED))
    legend = bottom + 50
    shapes.append(_PEN.marker("square", left, legend - 5, stroke=LINE))
    shapes.append(_PEN.text(left + 12, legend, "signed phase (solid line)", size=13))
    shapes.append(_PEN.marker("diamond", left, legend + 17, stroke=PENDING, filled=False))
    shapes.append(_PEN.text(left + 12, legend + 22, "recommendation of the rules (not in force "
                                                    "until signed)", size=13))
    description = "; ".join(
        f"{d.assessment.date} (day {d.injury.days_since_injury}): "
        + (f"signed phase {number[p]} {p}" if p is not None else "not signed")
        + f", recommended {d.phase.number} {d.phase.id}"
        for d, p in zip(decisions, signed, strict=True))
    return Chart(id="phase", title="Signed phase by day since injury", description=description,
                 width=WIDTH, height=int(legend + 32), shapes=tuple(shapes))


# ---- the key measures over time -------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendPoint:
    date: str
    day: int
    value: float | None
    value_text: str
    symbol: str
    """``✓`` every threshold met, ``✗`` one not met, ``?`` not assessed."""
    word: str


@dataclass(frozen=True, slots=True)
class TrendThreshold:
    value: float
    text: str
    criteria: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeasureTrend:
    key: str
    label: str
    group: str
    higher_is_better: bool
    thresholds: tuple[TrendThreshold, ...]
    points: tuple[TrendPoint, ...]


def measure_trends(decisions: Sequence[Decision]) -> list[MeasureTrend]:
    """Each key measure assessed at least once, over the decisions (oldest first).

    Thresholds are the latest decision's (a clinic may change its protocol)."""
    from reports.view import key_measures  # imports WeasyPrint's package: only when drawn

    by_decision = [{m.key: m for m in key_measures(d)} for d in decisions]
    latest = by_decision[-1] if by_decision else {}
    order = list(latest)
    for measures in by_decision:
        order += [key for key in measures if key not in order]
    trends = []
    for key in order:
        reference = latest.get(key) or next(m[key] for m in by_decision if key in m)
        points = []
        for decision, measures in zip(decisions, by_decision, strict=True):
            measure = measures.get(key)
            if measure is None or measure.value is None:
                points.append(TrendPoint(decision.assessment.date,
                                         decision.injury.days_since_injury, None,
                                         "not assessed", "?", "not assessed"))
                continue
            outcomes = [o for t in measure.thresholds for o in t.outcomes]
            failed = "failed" in outcomes
            points.append(TrendPoint(decision.assessment.date, decision.injury.days_since_injury,
                                     measure.value, measure.value_text, "✗" if failed else "✓",
                                     "not met" if failed else "met"))
        if all(p.value is None for p in points):
            continue
        trends.append(MeasureTrend(
            key=key, label=reference.label, group=reference.group,
            higher_is_better=reference.higher_is_better,
            thresholds=tuple(TrendThreshold(t.value, t.text, t.criteria)
                             for t in reference.thresholds),
            points=tuple(points)))
    return trends


def _measure_chart(trend: MeasureTrend, index: int) -> Chart:
    left, right, top, bottom = 56.0, WIDTH - 150.0, 20.0, 170.0
    known = [p.value for p in trend.points if p.value is not None]
    levels = [*known, *(t.value for t in trend.thresholds)]
    low, high = min(levels), max(levels)
    pad = max((high - low) * 0.15, 2.0)
    step = nice_step(high - low + 2 * pad, 4)
    y_low = max(math.floor((low - pad) / step) * step, 0.0)
    y_high = math.ceil((high + pad) / step) * step
    day_low, day_high = day_range([p.day for p in trend.points])

    def x_of(day: float) -> float:
        return left + (day - day_low) / (day_high - day_low) * (right - left)

    def y_of(value: float) -> float:
        return bottom - (value - y_low) / (y_high - y_low) * (bottom - top)

    shapes: list[Shape] = []
    tick = y_low
    while tick <= y_high + 1e-9:
        shapes.append(_PEN.line(left, y_of(tick), right, y_of(tick)))
        shapes.append(_PEN.text(left - 8, y_of(tick) + 5, fmt_number(tick), size=13, anchor="end",
                            fill=MUTED))
        tick += step
    for threshold in trend.thresholds:  # labelled right of the plot, clear of the points
        y = y_of(threshold.value)
        shapes.append(_PEN.line(left, y, right, y, stroke=INK, width=1.5, dash="6 4"))
        shapes.append(_PEN.text(right + 8, y + 5, f"{'/'.join(threshold.criteria)} "
                                              f"{threshold.text}", size=13))
    segment: list[tuple[float, float]] = []
    for point in trend.points:
        if point.value is None:
            if len(segment) > 1:
                shapes.append(_PEN.polyline(segment, stroke=LINE))
            segment = []
            continue
        segment.append((x_of(point.day), y_of(point.value)))
    if len(segment) > 1:
        shapes.append(_PEN.polyline(segment, stroke=LINE))
    for point in trend.points:
        x = x_of(point.day)
        shapes.append(_PEN.text(x, bottom + 22, f"day {point.day}", size=13, anchor="middle",
                            fill=MUTED))
        if point.value is None:
            shapes.append(_PEN.text(x, bottom - 6, "?", size=14, anchor="middle", fill=MUTED))
            continue
        y = y_of(point.value)
        colour = FAIL if point.symbol == "✗" else PASS
        shapes.append(_PEN.marker("circle", x, y, stroke=colour))
        above = y - 11 > top or y + 22 > bottom
        shapes.append(_PEN.text(x, y - 11 if above else y + 22,
                                f"{point.value_text} {point.symbol}", size=13, anchor="middle",
                                bold=True))
    direction = "higher is better" if trend.higher_is_better else "lower is better"
    description = f"{trend.label} ({direction}): " + "; ".join(
        f"{p.date} (day {p.day}) {p.value_text} {p.word}" for p in trend.points) + \
        ". Thresholds: " + "; ".join(f"{'/'.join(t.criteria)} {t.text}"
                                     for t in trend.thresholds) + "."
    return Chart(id=f"measure-{index}", title=f"{trend.label} — {direction}",
                 description=description, width=WIDTH, height=int(bottom + 32),
                 shapes=tuple(shapes))


def measure_charts(trends: Sequence[MeasureTrend]) -> list[Chart]:
    return [_measure_chart(trend, index) for index, trend in enumerate(trends)]
