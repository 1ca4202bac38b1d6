"""The athlete page's phase chart: the signed phase is plotted, recommendations apart."""

from __future__ import annotations

from support import load_example

from api.web.charts import phase_chart
from engine import evaluator_for

PHASES = ["protect", "load", "run", "sprint", "train", "play"]


def test_the_line_follows_sign_offs_and_every_recommendation_is_a_hollow_diamond() -> None:
    """Two decisions, the first signed run, the second unsigned (recommends sprint): one
    filled square at run, two hollow diamonds, no line through the recommendation."""
    decision = evaluator_for().decide(load_example("hamstring-winger-cleared-to-sprint"))
    chart = phase_chart([decision, decision], ["run", None], PHASES)
    squares = [s for s in chart.shapes if s.tag == "rect"]
    diamonds = [s for s in chart.shapes if s.tag == "polygon"]
    assert len(squares) == 2  # the one plotted, and the legend's
    assert len(diamonds) == 3  # two recommendations, and the legend's
    assert all(dict(d.attributes)["fill"] == "#ffffff" for d in diamonds)
    assert not [s for s in chart.shapes if s.tag == "polyline"]  # one sign-off: no line
    assert "signed phase 3 run" in chart.description and "not signed" in chart.description
    assert chart.title == "Signed phase by day since injury"
