"""Step one: a decision (and earlier decisions of the injury) → the report's HTML (jinja2).

The HTML is complete and self-contained (the stylesheet is inlined, the
charts are inline SVG), so it can be shown in a browser as it is, and it is
exactly what step two turns into the PDF. Everything it prints is computed
in :mod:`reports.view` and :mod:`reports.charts`; the template only lays it
out, with autoescaping on.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html as html_text
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from engine.assessment import canonical_json, parse_assessment
from engine.decision import Decision
from reports.charts import FONT, Chart, TrendPoint, symmetry_charts, trend_charts
from reports.layout import SIGNATURE_SLOTS
from reports.record import RECORD_FILENAME, ReportRecord, ReportSignoff, build_record
from reports.typography import describe_character, unprintable, unprintable_in
from reports.view import (
    build_view,
    history_problems,
    history_record,
    key_measures,
    signoff_problems,
)
from rules.dictionary import PHASE_IDS
from rules.errors import ReportInputError
from rules.loading import default_protocol
from rules.protocol import Protocol

__all__ = ["PreparedReport", "chart_labels", "prepare_report", "render_report_html",
           "report_charts", "stylesheet"]

MAX_HISTORY = 11
"""At most this many earlier decisions are shown (the most recent ones)."""


@dataclass(frozen=True)
class PreparedReport:
    """A report before it becomes a PDF: its HTML, its record, its metadata."""

    html: str
    record: ReportRecord
    title: str
    author: str
    generated_at: dt.datetime


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def stylesheet() -> str:
    """The report's stylesheet, as text."""
    return str(_stylesheet())


@cache
def _stylesheet() -> Markup:
    """The report's stylesheet (our own file, inlined as it is)."""
    return Markup(resources.files("reports").joinpath("static", "report.css").read_text("utf-8"))


def _chart_source(chart: Chart) -> str:
    """The chart as an SVG image in a data URL (drawn by WeasyPrint's SVG renderer)."""
    svg = _environment().get_template("chart.svg.j2").render(chart=chart, font=FONT)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _canonical_assessment(decision: Decision, assessment: Mapping[str, Any]) -> Mapping[str, Any]:
    """The canonical input the decision was made for; refuse any other input."""
    if hashlib.sha256(canonical_json(assessment).encode("utf-8")).hexdigest() == \
            decision.input_sha256:
        return assessment
    document = parse_assessment(dict(assessment)).document
    if hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest() != \
            decision.input_sha256:
        raise ReportInputError("the assessment is not the one the decision was made for", [
            f"decision {decision.decision_id} was made for input {decision.input_sha256}"])
    return document


def _protocol_for(decision: Decision, protocol: Protocol | None) -> Protocol | None:
    """The protocol to embed: the one given, or the default one if it decided; else none."""
    wanted = decision.rulebase.protocol_sha256
    if protocol is not None:
        if protocol.content_hash != wanted:
            raise ReportInputError("the protocol given is not the one that decided", [
                f"decision {decision.decision_id} was decided under protocol "
                f"{decision.rulebase.protocol} {decision.rulebase.protocol_version} "
                f"(SHA-256 {wanted}), not {protocol.id} {protocol.version} "
                f"(SHA-256 {protocol.content_hash})"])
        return protocol
    default = default_protocol()
    return default if default.content_hash == wanted else None


def report_charts(decision: Decision, history: Sequence[Mapping[str, Any]]
                  ) -> tuple[list[Chart], Chart | None, list[Chart]]:
    """The report's charts: the symmetry panels, and with history the phase and measure trends.

    ``history`` is the record's list of earlier decisions (what the trend
    charts plot, :func:`reports.view.history_record`), so the charts of a
    report can be drawn again from its embedded record alone.
    """
    measures = key_measures(decision)
    bars = symmetry_charts(measures)
    if not history:
        return bars, None, []
    points = [
        TrendPoint(day=entry["days_since_injury"], date=entry["assessment_date"],
                   phase=entry["phase"]["number"], criteria_phase=entry["criteria_phase"]["number"],
                   measures=dict(entry["measures"]))
        for entry in history
    ]
    points.append(TrendPoint(day=decision.injury.days_since_injury, date=decision.assessment.date,
                             phase=decision.phase.number,
                             criteria_phase=decision.criteria_phase.number,
                             measures={m.key: m.value for m in measures}))
    phase_trend, measure_trends = trend_charts(points, measures, PHASE_IDS)
    return bars, phase_trend, measure_trends


def chart_labels(decision: Decision, history: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """Every text the report's charts draw, white space removed (what a chart may print)."""
    bars, phase_trend, measure_trends = report_charts(decision, history)
    charts = [*bars, *([phase_trend] if phase_trend else []), *measure_trends]
    return frozenset("".join(shape.text.split()) for chart in charts for shape in chart.shapes
                     if shape.text)


_TAG = re.compile(r"<[^>]*>")


def _unprintable_problems(document: Mapping[str, Any], signoff: ReportSignoff | None,
                          protocol: Protocol | None) -> list[str]:
    """Each input field holding a character the shipped fonts cannot draw, with the character."""
    problems = unprintable_in(document)
    if signoff is not None:
        problems += unprintable_in({"clinician": signoff.clinician, "reason": signoff.reason},
                                   prefix="signoff")
    if protocol is not None:
        problems += _protocol_unprintable(protocol)
    return problems


_PROTOCOL_PROBLEMS: dict[str, list[str]] = {}


def _protocol_unprintable(protocol: Protocol) -> list[str]:
    """The protocol's texts the fonts cannot draw (checked once per protocol)."""
    found = _PROTOCOL_PROBLEMS.get(protocol.content_hash)
    if found is None:
        import json

        found = unprintable_in(json.loads(protocol.canonical_json()), prefix="protocol")
        _PROTOCOL_PROBLEMS[protocol.content_hash] = found
    return found


def _unprintable_text(html: str, charts: Sequence[Chart]) -> list[str]:
    """A last check of everything the page prints (text and chart labels), for what slipped by."""
    body = html.split("<body>", 1)[-1]
    printed = html_text.unescape(_TAG.sub(" ", body))
    labels = " ".join(shape.text for chart in charts for shape in chart.shapes)
    problems = []
    for char in unprintable(printed + " " + labels):
        where = printed.find(char)
        context = printed[max(0, where - 30):where + 30] if where >= 0 else labels
        problems.append(f"report text: {describe_character(char)} cannot be printed "
                        f"(in “{' '.join(context.split())}”)")
    return problems


def prepare_report(decision: Decision, assessment: Mapping[str, Any], *,
                   history: Sequence[Decision] = (), generated_at: dt.datetime,
                   protocol: Protocol | None = None,
                   signoff: ReportSignoff | None = None,
                   inline_stylesheet: bool = True) -> PreparedReport:
    """Check the inputs, build the embedded record and render the HTML.

    With ``inline_stylesheet=False`` the stylesheet is left out of the HTML:
    the PDF step applies it as a parsed stylesheet it keeps between reports.
    """
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise ReportInputError("generated_at must be timezone-aware (UTC)")
    problems = history_problems(decision, history)
    if problems:
        raise ReportInputError("the earlier decisions are not of the same athlete and injury",
                               problems)
    if signoff is not None:
        problems = signoff_problems(decision, signoff)
        if problems:
            raise ReportInputError("the sign-off cannot be printed with this decision", problems)
    document = _canonical_assessment(decision, assessment)
    embedded_protocol = _protocol_for(decision, protocol)
    problems = _unprintable_problems(document, signoff, embedded_protocol)
    if problems:
        raise ReportInputError("the report's fonts cannot print every character; nothing "
                               "was rendered", problems)
    shown = sorted(history, key=lambda d: (d.assessment.date, d.decision_id))[-MAX_HISTORY:]
    record = build_record(decision, document, protocol=embedded_protocol,
                          history=history_record(shown), generated_at=generated_at,
                          signoff=signoff)
    view = build_view(decision, record_sha256=record.sha256, generated_at=generated_at,
                      history_count=len(shown), signoff=record.signoff,
                      protocol=_protocol_for(decision, protocol))
    bars, phase_trend, measure_trends = report_charts(decision, record.content["history"])
    charts = [*bars, *([phase_trend] if phase_trend else []), *measure_trends]
    created = record.content["generated_at"]
    html = _environment().get_template("report.html.j2").render(
        v=view,
        css=_stylesheet() if inline_stylesheet else None,
        record_name=RECORD_FILENAME,
        author=decision.assessment.assessor or "sprintclear",
        engine=decision.rulebase.engine,
        created=created,
        symmetry_charts=bars,
        chart_sources={chart.id: _chart_source(chart) for chart in charts},
        phase_trend=phase_trend,
        measure_trends=measure_trends,
        slots=SIGNATURE_SLOTS,
    )
    problems = _unprintable_text(html, charts)
    if problems:
        raise ReportInputError("the report's fonts cannot print every character; nothing "
                               "was rendered", problems)
    return PreparedReport(html=html, record=record, title=view.title,
                          author=decision.assessment.assessor or "sprintclear",
                          generated_at=generated_at)


def render_report_html(decision: Decision, assessment: Mapping[str, Any], *,
                       history: Sequence[Decision] = (), generated_at: dt.datetime,
                       protocol: Protocol | None = None,
                       signoff: ReportSignoff | None = None) -> str:
    """The report as one self-contained HTML document."""
    return prepare_report(decision, assessment, history=history, generated_at=generated_at,
                          protocol=protocol, signoff=signoff).html
