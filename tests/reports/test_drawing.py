"""The one SVG drawing module: two sizes, shapes that differ by form, used by both charts."""

from __future__ import annotations

from reports.drawing import PRINT, SCREEN, Pen, Shape, day_range, nice_step


def _attributes(shape: Shape) -> dict[str, str]:
    return dict(shape.attributes)


def test_the_two_sizes_draw_the_same_shapes_at_different_scales() -> None:
    """A print label is 9 units, a screen label 14; markers and lines scale alike."""
    small, large = Pen(PRINT), Pen(SCREEN)
    assert _attributes(small.text(1, 2, "x"))["font-size"] == "9"
    assert _attributes(large.text(1, 2, "x"))["font-size"] == "14"
    assert float(_attributes(small.marker("circle", 0, 0, stroke="#000"))["r"]) < float(
        _attributes(large.marker("circle", 0, 0, stroke="#000"))["r"])
    assert small.n(1.234567) == "1.23" and large.n(1.234567) == "1.2"


def test_markers_differ_by_form_and_hollow_ones_are_white_inside() -> None:
    """Circle, square, triangle, diamond are different elements or outlines, never only a
    colour; a hollow marker is filled white."""
    pen = Pen(SCREEN)
    tags = [pen.marker(kind, 10, 10, stroke="#123456").tag
            for kind in ("circle", "square", "triangle", "diamond")]
    assert tags == ["circle", "rect", "polygon", "polygon"]
    diamond = _attributes(pen.marker("diamond", 10, 10, stroke="#123456", filled=False))
    assert diamond["fill"] == "#ffffff" and len(diamond["points"].split()) == 4


def test_the_report_and_the_page_draw_with_the_same_module() -> None:
    """Both chart modules use reports.drawing's Shape (no second copy of the primitives)."""
    from api.web import charts as page_charts
    from reports import charts as report_charts

    assert report_charts.Shape is Shape and page_charts.Shape is Shape


def test_axes_are_round_and_padded() -> None:
    """Round steps; one day gets a day either side."""
    assert nice_step(100, 4) == 25 and nice_step(7, 4) == 2
    assert day_range([5]) == (4, 6) and day_range([0, 100]) == (-8, 108)
