"""The report's charts as lists of SVG shapes, computed here and only written out by the template.

Two kinds of chart:

- :func:`symmetry_charts`: one bar per test with the decision's value, a
  dashed line at each threshold of the criteria that read it, and beside the
  bar the value and each criterion's status as a symbol and an id (✓ C302),
  never colour alone. Limb symmetry indices (higher is better), side-to-side
  differences (lower is better) and speeds are separate panels, each with its
  own axis, so no value is drawn on a scale it does not belong to.
- :func:`trend_charts`, when earlier decisions of the same injury are given:
  the decided phase (and the phase the criteria allowed) by day since injury,
  and one small chart per key measure with its threshold lines.

Coordinates are SVG user units; the charts are drawn 680 units wide and
scaled to the page width (about 0.27 mm per unit), so a 9-unit label prints
at about 6.7 pt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reports.drawing import PRINT, Pen, Shape, day_range, fmt_number, nice_step
from reports.view import KeyMeasure

__all__ = ["Chart", "Shape", "TrendPoint", "symmetry_charts", "trend_charts"]

WIDTH = 680
FONT = "DejaVu Sans"

INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"
PASS_FILL = "#2f7d4b"
FAIL_FILL = "#b3261e"
MISSING_FILL = "#8c6a00"
THRESHOLD = "#1f2328"

SERIES_STYLES = (
    # (stroke, dash pattern, marker) — lines differ by dash and marker, not only colour
    ("#1f4e8c", "", "circle"),
    ("#8c3b1f", "5 3", "square"),
    ("#2f6b3b", "2 2", "triangle"),
)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    caption: str
    description: str
    width: int
    height: int
    shapes: tuple[Shape, ...] = field(default=())


_PEN = Pen(PRINT)


# ---- bars: each test against its thresholds ------------------------------------

_PANELS = (
    ("symmetry", "Limb symmetry index, % (injured ÷ uninjured × 100) — higher is better"),
    ("difference", "Side-to-side difference, % — lower is better"),
    ("speed", "Speed, % of the reference — higher is better"),
)

_STATUS_SYMBOL = {"passed": "✓", "failed": "✗", "not_assessed": "?"}

_LABEL_RIGHT = 170.0
_PLOT_LEFT = 178.0
_PLOT_RIGHT = 520.0
_STATUS_LEFT = 530.0
_ROW = 21.0


def _bar_panel(group: str, title: str, measures: Sequence[KeyMeasure]) -> Chart:
    values = [m.value for m in measures if m.value is not None]
    thresholds = [t.value for m in measures for t in m.thresholds]
    default_top = 120.0 if group in ("symmetry", "speed") else 30.0
    top = max([default_top, *values, *thresholds])
    step = nice_step(top, 6)
    axis_max = math.ceil(top / step) * step
    if axis_max == top and values and max(values) == top:
        axis_max += step
    scale = (_PLOT_RIGHT - _PLOT_LEFT) / axis_max

    def x_of(value: float) -> float:
        return _PLOT_LEFT + value * scale

    shapes: list[Shape] = []
    top_y = 6.0
    rows_bottom = top_y + _ROW * len(measures)
    tick = 0.0
    while tick <= axis_max + 1e-9:
        x = x_of(tick)
        shapes.append(_PEN.line(x, top_y, x, rows_bottom, stroke=GRID, width=0.6))
        shapes.append(_PEN.text(x, rows_bottom + 11, fmt_number(tick), size=8, anchor="middle",
                            fill=MUTED))
        tick += step
    descriptions = []
    for index, measure in enumerate(measures):
        y = top_y + index * _ROW
        bar_y, bar_h = y + 8, 10.0
        shapes.append(_PEN.text(_LABEL_RIGHT, y + 16, measure.label, size=9, anchor="end"))
        outcomes = [o for t in measure.thresholds for o in t.outcomes]
        if measure.value is None:
            shapes.append(_PEN.text(_PLOT_LEFT + 4, y + 16, "not assessed", size=9, fill=MUTED))
        else:
            fill = FAIL_FILL if "failed" in outcomes else PASS_FILL
            shapes.append(_PEN.rect(_PLOT_LEFT, bar_y, max(x_of(measure.value) - _PLOT_LEFT, 0.8),
                                bar_h, fill=fill))
        last = len(measure.thresholds) - 1
        for position, threshold in enumerate(measure.thresholds):
            # the highest threshold's label sits right of its line, the others left of
            # theirs, so two close thresholds never print over each other
            x = x_of(threshold.value)
            shapes.append(_PEN.line(x, y + 5, x, y + 20, stroke=THRESHOLD, width=1.3, dash="3 2"))
            shapes.append(_PEN.text(x + 2 if position == last else x - 2, y + 6,
                                threshold.text.replace(" %", ""), size=7.5, fill=MUTED,
                                anchor="start" if position == last else "end"))
        shapes.append(_PEN.text(_STATUS_LEFT, y + 11, measure.value_text, size=9, bold=True))
        marks = "  ".join(f"{_STATUS_SYMBOL[o]} {cid}" for t in measure.thresholds
                          for cid, o in zip(t.criteria, t.outcomes, strict=True))
        shapes.append(_PEN.text(_STATUS_LEFT, y + 20.5, marks, size=8.5))
        needs = ", ".join(f"{'/'.join(t.criteria)} {t.text}" for t in measure.thresholds)
        descriptions.append(f"{measure.label}: {measure.value_text} (needs {needs})")
    height = int(rows_bottom + 15)
    return Chart(
        id=f"chart-{group}", title=title,
        caption="Bar: measured value. Dashed line: a criterion's threshold. Beside each bar: "
                "✓ met, ✗ not met, ? not assessed, by criterion.",
        description="; ".join(descriptions), width=WIDTH, height=height, shapes=tuple(shapes))


def symmetry_charts(measures: Sequence[KeyMeasure]) -> list[Chart]:
    """One bar panel per group of key measures, of the measures that were assessed (the
    criteria table lists the tests not done)."""
    charts = []
    for group, title in _PANELS:
        members = [m for m in measures if m.group == group and m.value is not None]
        if members:
            charts.append(_bar_panel(group, title, members))
    return charts


# ---- trends over the earlier decisions ---------------------------------------


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One assessment of the injury: its day, its phases and its key measures."""

    day: int
    date: str
    phase: int
    criteria_phase: int
    measures: Mapping[str, float | None]


def _phase_chart(points: Sequence[TrendPoint], phase_ids: Sequence[str]) -> Chart:
    left, right, top, bottom = 92.0, 660.0, 12.0, 132.0
    day_low, day_high = day_range([p.day for p in points])

    def x_of(day: float) -> float:
        return left + (day - day_low) / (day_high - day_low) * (right - left)

    def y_of(phase: float) -> float:
        return bottom - (phase - 1) / (len(phase_ids) - 1) * (bottom - top)

    shapes: list[Shape] = []
    for number, phase_id in enumerate(phase_ids, 1):
        y = y_of(number)
        shapes.append(_PEN.line(left, y, right, y, stroke=GRID, width=0.6))
        shapes.append(_PEN.text(left - 6, y + 3, f"{number} {phase_id}", size=8.5, anchor="end"))
    step = nice_step(day_high - day_low, 8)
    tick = math.ceil(day_low / step) * step
    while tick <= day_high:
        shapes.append(_PEN.text(x_of(tick), bottom + 13, fmt_number(tick), size=8, anchor="middle",
                            fill=MUTED))
        tick += step
    shapes.append(_PEN.text((left + right) / 2, bottom + 26, "days since injury", size=8.5,
                        anchor="middle", fill=MUTED))
    criteria_line: list[tuple[float, float]] = []
    phase_line: list[tuple[float, float]] = []
    for point in points:
        x = x_of(point.day)
        if criteria_line:
            criteria_line.append((x, criteria_line[-1][1]))
            phase_line.append((x, phase_line[-1][1]))
        criteria_line.append((x, y_of(point.criteria_phase)))
        phase_line.append((x, y_of(point.phase)))
    shapes.append(_PEN.polyline(criteria_line, stroke=MUTED, dash="4 3", width=1.2))
    shapes.append(_PEN.polyline(phase_line, stroke=SERIES_STYLES[0][0], width=1.8))
    for point in points:
        x = x_of(point.day)
        shapes.append(_PEN.marker("circle", x, y_of(point.criteria_phase), stroke=MUTED,
                              filled=False))
        shapes.append(_PEN.marker("square", x, y_of(point.phase), stroke=SERIES_STYLES[0][0]))
        shapes.append(_PEN.text(x, y_of(point.phase) - 6, str(point.phase), size=8.5,
                            anchor="middle", bold=True))
    legend_y = bottom + 40
    shapes.append(_PEN.marker("square", left, legend_y - 3, stroke=SERIES_STYLES[0][0]))
    shapes.append(_PEN.text(left + 8, legend_y, "decided phase (solid line)", size=8.5))
    shapes.append(_PEN.marker("circle", left + 190, legend_y - 3, stroke=MUTED, filled=False))
    shapes.append(_PEN.text(left + 198, legend_y, "phase the criteria allowed (dashed line)",
                        size=8.5))
    description = "; ".join(f"{p.date} (day {p.day}): phase {p.phase}, criteria allowed "
                            f"{p.criteria_phase}" for p in points)
    return Chart(id="chart-phase-trend", title="Phase over time", caption="",
                 description=description, width=WIDTH, height=int(legend_y + 6),
                 shapes=tuple(shapes))


def _measure_chart(measure: KeyMeasure, points: Sequence[TrendPoint], index: int) -> Chart:
    width, height = 214, 120
    left, right, top, bottom = 30.0, 178.0, 22.0, 96.0
    series = [(p.day, p.measures.get(measure.key)) for p in points]
    known = [v for _, v in series if v is not None]
    thresholds = [t.value for t in measure.thresholds]
    low = min([*known, *thresholds])
    high = max([*known, *thresholds])
    pad = max((high - low) * 0.15, 2.0)
    step = nice_step(high - low + 2 * pad, 4)
    y_low = math.floor((low - pad) / step) * step
    y_high = math.ceil((high + pad) / step) * step
    y_low = max(y_low, 0.0)
    day_low, day_high = day_range([p.day for p in points])

    def x_of(day: float) -> float:
        return left + (day - day_low) / (day_high - day_low) * (right - left)

    def y_of(value: float) -> float:
        return bottom - (value - y_low) / (y_high - y_low) * (bottom - top)

    shapes: list[Shape] = [_PEN.text(2, 11, measure.label, size=9, bold=True)]
    tick = y_low
    while tick <= y_high + 1e-9:
        y = y_of(tick)
        shapes.append(_PEN.line(left, y, right, y, stroke=GRID, width=0.5))
        shapes.append(_PEN.text(left - 4, y + 3, fmt_number(tick), size=7.5, anchor="end",
                            fill=MUTED))
        tick += step
    for threshold in measure.thresholds:
        # labelled right of the plot, where no point can cover it
        y = y_of(threshold.value)
        shapes.append(_PEN.line(left, y, right, y, stroke=THRESHOLD, width=1.1, dash="3 2"))
        shapes.append(_PEN.text(right + 3, y + 2.5, threshold.text.replace(" %", ""), size=7.5,
                            fill=MUTED))
    stroke, _, marker = SERIES_STYLES[0]
    segment: list[tuple[float, float]] = []
    for day, value in series:
        if value is None:
            if len(segment) > 1:
                shapes.append(_PEN.polyline(segment, stroke=stroke))
            segment = []
            continue
        segment.append((x_of(day), y_of(value)))
    if len(segment) > 1:
        shapes.append(_PEN.polyline(segment, stroke=stroke))
    labelled = [(day, value) for day, value in series if value is not None]
    for position, (day, value) in enumerate(labelled):
        shapes.append(_PEN.marker(marker, x_of(day), y_of(value), stroke=stroke))
        if len(labelled) <= 5 or position in (0, len(labelled) - 1):
            # above the point, except at a dip, where the line leaves room below
            neighbours = [v for _, v in labelled[max(position - 1, 0):position + 2]]
            dip = len(neighbours) > 1 and all(value < v for v in neighbours if v != value)
            offset = 11 if dip else -5.5
            shapes.append(_PEN.text(x_of(day), y_of(value) + offset, fmt_number(value),
                                size=7.5, anchor="middle"))
    for day in sorted({points[0].day, points[-1].day}):
        shapes.append(_PEN.text(x_of(day), bottom + 13, f"day {day}", size=7.5, anchor="middle",
                            fill=MUTED))
    description = f"{measure.label}: " + ", ".join(
        f"day {day} {'not assessed' if value is None else fmt_number(value)}"
        for day, value in series)
    return Chart(id=f"chart-trend-{index}", title=measure.label, caption="",
                 description=description, width=width, height=height, shapes=tuple(shapes))


def trend_charts(points: Sequence[TrendPoint], measures: Iterable[KeyMeasure],
                 phase_ids: Sequence[str]) -> tuple[Chart, list[Chart]]:
    """The phase chart and one small chart per key measure assessed at least once."""
    phase = _phase_chart(points, phase_ids)
    small = [
        _measure_chart(measure, points, index)
        for index, measure in enumerate(measures)
        if any(p.measures.get(measure.key) is not None for p in points)
    ]
    return phase, small
