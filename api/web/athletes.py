"""The squad, an athlete's page (injuries, timeline, charts), and adding athletes and injuries.

Reads go through the store as the API's do; the two writes (an athlete, an
injury episode) are validated by the API's own body models (``AthleteIn``,
``InjuryIn``, so a page refuses exactly what the API refuses, in the same
words) and written by the same store methods, so the audit chain records
them with the signed-in key as who.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from api.deps import EvaluatorDep, StoreDep
from api.schemas import AthleteIn, InjuryIn, parse_body
from api.store import Store
from api.store.records import AssessmentEntry, Injury
from api.web import view
from api.web.access import PageAccess, PageForm, PostedForm, WebCaller
from api.web.charts import Chart, MeasureTrend, measure_charts, measure_trends, phase_chart
from api.web.forms import FieldView, field_view
from api.web.rendering import redirect, render
from engine.decision import Decision
from rules.dictionary import FIELDS_BY_PATH, MUSCLES_BY_REGION
from rules.errors import Conflict, InvalidInput, Problem
from rules.protocol import Protocol

router = APIRouter(include_in_schema=False)

ATHLETE_FIELDS = ("athlete.id", "athlete.name", "athlete.sport", "athlete.position")
INJURY_FIELDS = ("injury.region", "injury.side", "injury.date", "injury.muscle",
                 "injury.bamic_grade", "injury.mechanism")


def _form_values(posted: PostedForm, paths: Sequence[str]) -> tuple[dict[str, str],
                                                                    dict[str, str]]:
    """(what was typed by input name, the body by the API's key); empty means absent."""
    entered, body = {}, {}
    for path in paths:
        value = posted.get(path)
        if value is None:
            continue
        entered[path] = value
        if value.strip():
            body[path.split(".", 1)[1]] = value.strip()
    return entered, body


def _by_input(problems: Sequence[Problem], group: str) -> tuple[dict[str, list[str]],
                                                                list[Problem]]:
    """Problems of a body (``date``) at their input (``injury.date``); the rest apart."""
    placed: dict[str, list[str]] = {}
    other = []
    for problem in problems:
        path = f"{group}.{problem.field}"
        if path in FIELDS_BY_PATH:
            placed.setdefault(path, []).append(problem.message)
        else:
            other.append(problem)
    return placed, other


def _fields(paths: Sequence[str], entered: Mapping[str, str],
            placed: Mapping[str, Sequence[str]]) -> list[FieldView]:
    muscles = [(m, f"{m.replace('_', ' ')} ({region})")
               for region, names in MUSCLES_BY_REGION.items() for m in names]
    return [field_view(FIELDS_BY_PATH[path], entered, placed,
                       choice_labels={"injury.muscle": muscles}) for path in paths]


# ---- adding an athlete ---------------------------------------------------------------


@router.get("/squad/new-athlete")
def new_athlete(request: Request,
                caller: Annotated[WebCaller, Depends(PageAccess("athlete.create"))]) -> Response:
    return render(request, "athlete_new.html", caller, title="Add an athlete",
                  fields=_fields(ATHLETE_FIELDS, {}, {}), problems=[], conflict=None)


@router.post("/squad/new-athlete")
def add_athlete(request: Request,
                posted: Annotated[PostedForm, Depends(PageForm("athlete.create"))],
                store: StoreDep) -> Response:
    entered, body = _form_values(posted, ATHLETE_FIELDS)
    conflict = None
    try:
        new = parse_body(AthleteIn, json.dumps(body).encode("utf-8"), "athlete")
        athlete = store.create_athlete(posted.caller.principal, athlete_id=new.id,
                                       name=new.name, sport=new.sport, position=new.position)
    except InvalidInput as exc:
        problems = list(exc.problems)
    except Conflict as exc:
        problems, conflict = [], str(exc)
    else:
        return redirect(f"/athletes/{athlete_path(athlete.id)}")
    placed, _ = _by_input(problems, "athlete")
    return render(request, "athlete_new.html", posted.caller, title="Add an athlete",
                  status=409 if conflict else 422, fields=_fields(ATHLETE_FIELDS, entered, placed),
                  problems=problems, conflict=conflict)


def athlete_path(athlete_id: str) -> str:
    return quote(athlete_id, safe="")


# ---- an athlete ------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineLine:
    entry: AssessmentEntry
    status: view.EntryStatus
    red_flags: tuple[str, ...]
    cautions: tuple[str, ...]
    blocking: tuple[str, ...]
    days: int


@dataclass(frozen=True)
class InjurySection:
    injury: Injury
    text: str
    lines: tuple[TimelineLine, ...]
    phase_chart: Chart | None
    trends: tuple[MeasureTrend, ...]
    charts: tuple[Chart, ...]
    latest_assessment: str | None
    days_since_injury: int
    reassess_by: str | None = None
    """The plan's re-assessment date of the latest current decision (none for 2026.1)."""
    reassess_of: str | None = None
    """The assessment date of that decision."""
    reassess_passed: bool = False
    """Today is after the re-assessment date."""
    in_force: view.InForce | None = None
    """The signed phase in force and any recommendation awaiting sign-off."""


def _current_decisions(store: Store, entries: Sequence[AssessmentEntry]) -> list[Decision]:
    """The decisions of the episode's assessments that no correction superseded, oldest first."""
    current = [e for e in entries if e.superseded_by is None]
    if not current:
        return []
    latest = current[-1].decision.id
    texts = [*store.earlier_decisions(latest), store.get_decision(latest).decision_json]
    return [view.decided(text) for text in texts]


def _injury_section(store: Store, protocol: Protocol, injury: Injury,
                    entries: Sequence[AssessmentEntry]) -> InjurySection:
    start = dt.date.fromisoformat(injury.date)
    decision_of = {e.id: e.decision.id for e in entries}
    lines = tuple(TimelineLine(
        entry=e, status=view.entry_status(e, protocol, decision_of),
        red_flags=tuple(view.flag_names(e.decision.red_flags, protocol)),
        cautions=tuple(view.flag_names(e.decision.cautions, protocol)),
        blocking=tuple(e.decision.blocking),
        days=(dt.date.fromisoformat(e.assessment_date) - start).days) for e in entries)
    decisions = _current_decisions(store, entries)
    trends = measure_trends(decisions) if decisions else []
    current = [e for e in entries if e.superseded_by is None]
    signed = [e.signoff.signed_phase if e.signoff else None for e in current]
    plan = decisions[-1].plan if decisions else None
    today = store.now().date()
    return InjurySection(
        injury=injury, text=view.injury_text(injury), lines=lines,
        phase_chart=phase_chart(decisions, signed, [p.id for p in protocol.phases])
        if decisions else None,
        trends=tuple(trends), charts=tuple(measure_charts(trends)),
        latest_assessment=current[-1].id if current else None,
        days_since_injury=(today - start).days,
        reassess_by=plan.reassess_by if plan else None,
        reassess_of=decisions[-1].assessment.date if plan else None,
        reassess_passed=plan is not None and dt.date.fromisoformat(plan.reassess_by) < today,
        in_force=view.in_force(entries, protocol) if entries else None)


def _athlete_page(request: Request, caller: WebCaller, store: Store, protocol: Protocol,
                  athlete_id: str, *, status: int = 200, entered: Mapping[str, str] | None = None,
                  placed: Mapping[str, Sequence[str]] | None = None,
                  problems: Sequence[Problem] = (), conflict: str | None = None) -> Response:
    timeline = store.timeline(athlete_id)
    sections = [_injury_section(store, protocol, item.injury, item.assessments)
                for item in reversed(timeline.injuries)]
    return render(request, "athlete.html", caller, status=status,
                  title=timeline.athlete.name or timeline.athlete.id,
                  athlete=timeline.athlete, sections=sections,
                  athlete_path=athlete_path(timeline.athlete.id),
                  injury_fields=_fields(INJURY_FIELDS, entered or {}, placed or {}),
                  problems=problems, conflict=conflict, today=store.now().date())


@router.get("/athletes/{athlete_id:path}")
def athlete_page(request: Request, athlete_id: str,
                 caller: Annotated[WebCaller, Depends(PageAccess("athlete.read"))],
                 store: StoreDep, evaluator: EvaluatorDep) -> Response:
    """Injury episodes, each with its timeline of assessments and phases and its charts."""
    return _athlete_page(request, caller, store, evaluator.protocol, athlete_id)


@router.post("/athletes/{athlete_id:path}/injuries")
def add_injury(request: Request, athlete_id: str,
               posted: Annotated[PostedForm, Depends(PageForm("injury.create"))],
               store: StoreDep, evaluator: EvaluatorDep) -> Response:
    entered, body = _form_values(posted, INJURY_FIELDS)
    store.get_athlete(athlete_id)  # 404 before anything else
    conflict = None
    try:
        new = parse_body(InjuryIn, json.dumps(body).encode("utf-8"), "injury")
        injury = store.create_injury(posted.caller.principal, athlete_id, region=new.region,
                                     side=new.side, date=new.date.isoformat(),
                                     muscle=new.muscle, bamic_grade=new.bamic_grade,
                                     mechanism=new.mechanism)
    except InvalidInput as exc:
        problems = list(exc.problems)
    except Conflict as exc:
        problems, conflict = [], str(exc)
    else:
        return redirect(f"/athletes/{athlete_path(athlete_id)}#injury-{injury.id}")
    placed, _ = _by_input(problems, "injury")
    return _athlete_page(request, posted.caller, store, evaluator.protocol, athlete_id,
                         status=409 if conflict else 422, entered=entered, placed=placed,
                         problems=problems, conflict=conflict)
