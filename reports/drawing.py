"""SVG drawing primitives shared by the report's charts and the pages' charts, in two sizes.

A chart is a list of :class:`Shape` (tag, attributes in order, text) that a template
writes out; this module makes the shapes. :class:`Pen` draws at one :class:`Size`:

- :data:`PRINT`: the signed PDF report (``reports.charts``), drawn 680 units wide and
  scaled to the A4 page (about 0.27 mm a unit: a 9-unit label prints at about 6.7 pt);
- :data:`SCREEN`: the athlete page (``api.web.charts``), drawn 560 units wide for a
  screen: larger type and markers, thicker lines.

Markers differ by shape, not only by colour (circle, square, triangle, diamond; filled
or hollow), so a chart never relies on colour alone. The layering is ``reports → api``:
this module is below both users.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PRINT", "SCREEN", "Pen", "Shape", "Size", "day_range", "fmt_number", "nice_step"]

INK = "#1f2328"
GRID = "#d0d7de"


@dataclass(frozen=True, slots=True)
class Shape:
    """One SVG element: its tag, its attributes (in order) and its text."""

    tag: str
    attributes: tuple[tuple[str, str], ...]
    text: str = ""


@dataclass(frozen=True, slots=True)
class Size:
    """The measures of one size of chart, in SVG user units."""

    name: str
    text: float
    """The default font size."""
    grid_width: float
    """A grid or axis line."""
    line_width: float
    """A data line."""
    circle_r: float
    square_half: float
    """Half the side of a square marker."""
    marker_stroke: float
    decimals: int
    """Coordinates are written with at most this many decimals."""


PRINT = Size("print", text=9, grid_width=0.8, line_width=1.4, circle_r=3.2, square_half=3,
             marker_stroke=1.2, decimals=2)
SCREEN = Size("screen", text=14, grid_width=1, line_width=2, circle_r=5, square_half=5,
              marker_stroke=2, decimals=1)


class Pen:
    """Makes shapes at one :class:`Size`."""

    def __init__(self, size: Size) -> None:
        self.size = size

    def n(self, value: float) -> str:
        """A coordinate, short and stable (``12.5``, ``0``)."""
        text = f"{value:.{self.size.decimals}f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text

    def text(self, x: float, y: float, text: str, *, size: float | None = None,
             anchor: str = "start", fill: str = INK, bold: bool = False) -> Shape:
        attributes = [("x", self.n(x)), ("y", self.n(y)),
                      ("font-size", self.n(self.size.text if size is None else size)),
                      ("fill", fill)]
        if bold:
            attributes.append(("font-weight", "bold"))
        if anchor != "start":
            attributes.append(("text-anchor", anchor))
        return Shape("text", tuple(attributes), text)

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str = GRID,
             width: float | None = None, dash: str = "") -> Shape:
        attributes = [("x1", self.n(x1)), ("y1", self.n(y1)), ("x2", self.n(x2)),
                      ("y2", self.n(y2)), ("stroke", stroke),
                      ("stroke-width", self.n(self.size.grid_width if width is None
                                              else width))]
        if dash:
            attributes.append(("stroke-dasharray", dash))
        return Shape("line", tuple(attributes))

    def rect(self, x: float, y: float, width: float, height: float, *, fill: str,
             stroke: str = "none") -> Shape:
        return Shape("rect", (("x", self.n(x)), ("y", self.n(y)), ("width", self.n(width)),
                              ("height", self.n(height)), ("fill", fill), ("stroke", stroke)))

    def polyline(self, points: Sequence[tuple[float, float]], *, stroke: str, dash: str = "",
                 width: float | None = None) -> Shape:
        attributes = [("points", " ".join(f"{self.n(x)},{self.n(y)}" for x, y in points)),
                      ("fill", "none"), ("stroke", stroke),
                      ("stroke-width", self.n(self.size.line_width if width is None
                                              else width))]
        if dash:
            attributes.append(("stroke-dasharray", dash))
        return Shape("polyline", tuple(attributes))

    def marker(self, kind: str, x: float, y: float, *, stroke: str,
               filled: bool = True) -> Shape:
        """A ``circle``, ``square``, ``triangle`` or ``diamond`` centred on (x, y); hollow
        markers are filled white."""
        fill = stroke if filled else "#ffffff"
        width = ("stroke-width", self.n(self.size.marker_stroke))
        h = self.size.square_half
        if kind == "square":
            return Shape("rect", (("x", self.n(x - h)), ("y", self.n(y - h)),
                                  ("width", self.n(2 * h)), ("height", self.n(2 * h)),
                                  ("fill", fill), ("stroke", stroke), width))
        if kind in ("triangle", "diamond"):
            r = self.size.circle_r
            if kind == "triangle":
                corners = [(x, y - 1.1875 * r), (x + 1.125 * r, y + 0.875 * r),
                           (x - 1.125 * r, y + 0.875 * r)]
            else:
                corners = [(x, y - 1.5 * r), (x + 1.5 * r, y), (x, y + 1.5 * r),
                           (x - 1.5 * r, y)]
            points = " ".join(f"{self.n(px)},{self.n(py)}" for px, py in corners)
            return Shape("polygon", (("points", points), ("fill", fill), ("stroke", stroke),
                                     width))
        return Shape("circle", (("cx", self.n(x)), ("cy", self.n(y)),
                                ("r", self.n(self.size.circle_r)), ("fill", fill),
                                ("stroke", stroke), width))


def nice_step(span: float, ticks: int) -> float:
    """A round axis step (1, 2, 2.5 or 5 × a power of ten) giving about ``ticks`` ticks."""
    raw = span / max(ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def fmt_number(value: float) -> str:
    """``90`` or ``92.5``: an axis label or a value."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def day_range(days: Sequence[int]) -> tuple[float, float]:
    """The x axis of days since injury, padded 8 % each side (± 1 day for a single day)."""
    low, high = min(days), max(days)
    if low == high:
        return low - 1, high + 1
    pad = (high - low) * 0.08
    return low - pad, high + pad
