"""The assessment form: enter a test battery for an injury episode, store it, see the decision.

``GET /injuries/{id}/assess`` shows the form (``?supersedes=asm_…`` starts
from a stored assessment, to correct it). ``POST`` reads it
(:mod:`api.web.forms`), validates it with the engine, decides it and stores
it with the same store method as ``POST /v1/injuries/{id}/assessments``, then
sends the browser to the decision. Any problem shows the form again, with
every value as typed and each problem next to its input; nothing is stored.

Filled in for the clinician, never as results: the assessment date (today: the
server's date in UTC, which the page's script replaces with the device's own
date, so a morning session east of UTC is not dated yesterday),
the assessor (the signed-in key's holder), the injury's descriptors from the
episode or its latest assessment (the physician review among them), and the
phase a clinician last signed with
the date of the assessment it was signed for (protocol section 2.1).
Test results always start empty ("not assessed").

The form lays out the tests of the injury's region: which fields belong to
which region is read from the protocol that decides
(``rules.protocol.field_regions``), so a calf injury is asked for knee-bent heel
raises and knee-to-wall, a hamstring injury for Nordics and the H-test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.deps import EvaluatorDep, StoreDep
from api.store import Store
from api.store.records import Injury
from api.web import view
from api.web.access import PageAccess, PageForm, PostedForm, WebCaller
from api.web.forms import (
    FROM_EPISODE,
    assess_form,
    entered_from_document,
    form_view,
    html_id,
    label_of,
    muscles_of,
    place_problems,
    read_assessment_form,
)
from api.web.rendering import redirect, render
from engine.decide import Evaluator
from rules.errors import Conflict, InvalidAssessment, Problem
from rules.protocol import field_regions

router = APIRouter(include_in_schema=False)

_INJURY_DESCRIPTORS = ("muscle", "bamic_grade", "mechanism", "tendon_involved",
                       "previous_same_site", "physician_review")
"""Facts of the injury a later visit starts from: a recorded physician review (R11) stays
recorded, rather than holding a reviewed injury at protect again at the next visit."""


def episode_fields(store: Store, injury: Injury) -> dict[str, dict[str, Any]]:
    """The document's fields that are the stored athlete's and injury episode's."""
    athlete = store.get_athlete(injury.athlete_id)
    return {"athlete": {k: v for k, v in (("id", athlete.id), ("name", athlete.name),
                                          ("sport", athlete.sport),
                                          ("position", athlete.position)) if v is not None},
            "injury": {"region": injury.region, "side": injury.side, "date": injury.date}}


def _starting_values(store: Store, caller: WebCaller, injury: Injury,
                     supersedes: str | None) -> dict[str, str]:
    """What the form starts with: a stored assessment to correct, or the session's defaults."""
    if supersedes is not None:
        stored = store.get_assessment(supersedes)
        if stored.entry.injury_id != injury.id:
            raise Conflict(f"assessment {supersedes} is of injury {stored.entry.injury_id}, not "
                           f"{injury.id}: a correction must be of the same injury")
        return entered_from_document(stored.document)
    entered = {"assessment.date": store.now().date().isoformat(),
               "assessment.assessor": caller.name, "assessment.profile": "standard"}
    for name in ("muscle", "bamic_grade", "mechanism"):
        value = getattr(injury, name)
        if value is not None:
            entered[f"injury.{name}"] = str(value)
    current = [e for e in store.list_assessments(injury.id) if e.superseded_by is None]
    if current:
        latest = store.get_assessment(current[-1].id).document.get("injury", {})
        for name in _INJURY_DESCRIPTORS:
            if name in latest:
                entered.update({key: value for key, value in entered_from_document(
                    {"injury": {name: latest[name]}}).items()})
        signed = [(e.assessment_date, s) for e in current if (s := e.signoff) is not None]
        if signed:  # the latest sign-off of the episode and its assessment's date (§2.1)
            date, signoff = sorted(signed, key=lambda pair: pair[0])[-1]
            entered["previous.phase"] = signoff.signed_phase
            entered["previous.date"] = date
    return entered


def _choice_labels(evaluator: Evaluator, injury: Injury) -> dict[str, list[tuple[str, str]]]:
    protocol = evaluator.protocol
    return {
        "injury.muscle": [(m, m.replace("_", " ")) for m in muscles_of(injury.region)],
        "previous.phase": view.phase_choices(protocol),
        "assessment.profile": [(p.id, f"{p.id} — exercise pain limit {p.exercise_pain_limit}/10")
                               for p in protocol.profiles],
    }


def _form_page(request: Request, caller: WebCaller, store: Store, evaluator: Evaluator,
               injury: Injury, entered: Mapping[str, str], *, supersedes: str | None,
               problems: Sequence[Problem] = (), conflict: str | None = None,
               status: int = 200, proposed_date: str | None = None) -> Response:
    placed = place_problems(problems)
    athlete = store.get_athlete(injury.athlete_id)
    summary = [(p, label_of(p.field),
                "#" + html_id(placed.anchors[p]) if p in placed.anchors else None)
               for p in problems]
    action = f"/injuries/{injury.id}/assess"
    if supersedes:
        action += f"?supersedes={quote(supersedes, safe='')}"
    return render(
        request, "assessment.html", caller, status=status,
        title=f"Assessment · {athlete.name or athlete.id}",
        injury=injury, athlete=athlete, action=action, supersedes=supersedes,
        sections=form_view(entered, placed, injured_side=injury.side,
                           choice_labels=_choice_labels(evaluator, injury),
                           region=injury.region, regions=field_regions(evaluator.protocol)),
        summary=summary, conflict=conflict,
        episode_errors={path: placed.by_input.get(path, ()) for path in FROM_EPISODE},
        injury_text=view.injury_text(injury), proposed_date=proposed_date)


@router.get("/injuries/{injury_id}/assess")
def assessment_form(request: Request, injury_id: str,
                    caller: Annotated[WebCaller, Depends(PageAccess("assessment.create"))],
                    store: StoreDep, evaluator: EvaluatorDep,
                    supersedes: Annotated[str | None, Query()] = None) -> Response:
    injury = store.get_injury(injury_id)
    entered = _starting_values(store, caller, injury, supersedes)
    return _form_page(request, caller, store, evaluator, injury, entered,
                      supersedes=supersedes,
                      proposed_date=None if supersedes else entered["assessment.date"])


@router.post("/injuries/{injury_id}/assess")
def store_assessment(request: Request, injury_id: str,
                     posted: Annotated[PostedForm, Depends(PageForm("assessment.create"))],
                     store: StoreDep, evaluator: EvaluatorDep,
                     supersedes: Annotated[str | None, Query()] = None) -> Response:
    """Read, validate, decide and store; on any problem, the form again with the problems."""
    caller = posted.caller
    injury = store.get_injury(injury_id)
    reading = read_assessment_form(posted.fields, episode_fields(store, injury))
    assessment, problems = assess_form(reading)
    if assessment is None:
        return _form_page(request, caller, store, evaluator, injury, reading.entered,
                          supersedes=supersedes, problems=problems, status=422)
    try:  # previous: the signed phase on record (protocol section 2.1), or a 409
        assessment = store.from_records(injury_id, assessment, supersedes=supersedes)
        decision = evaluator.decide(assessment, evaluated_at=store.now())
        stored = store.record_assessment(caller.principal, injury_id, assessment, decision,
                                         supersedes=supersedes, check_previous=True)
    except InvalidAssessment as exc:  # the store's own checks (a NUL character)
        return _form_page(request, caller, store, evaluator, injury, reading.entered,
                          supersedes=supersedes, problems=list(exc.problems), status=422)
    except Conflict as exc:
        return _form_page(request, caller, store, evaluator, injury, reading.entered,
                          supersedes=supersedes, conflict=str(exc), status=409)
    return redirect(f"/decisions/{stored.id}")
