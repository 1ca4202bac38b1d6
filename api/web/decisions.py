"""The decision page: the recommendation and why, the sign-off, and the signed PDF report.

The page lays out the stored decision exactly as it was made, with the PDF
report's own view of it (``reports.view.build_view``: the banner claims, the
signed phase it started from, the criteria by gate, what blocks the next
phase, red flags, holds, cautions, the plan, activities and sources), so the
page and the signed report say the same sentences. When red flags or holds keep
the phase below what the criteria allow, they come first in "what stands
between the athlete and the next phase", each with what ends it, before the
next gate's criteria; then the criteria carried forward from the signed phase
and the screening not recorded. A 2026.1 decision (format 1) shows what it
recorded and says it had no plan. The fired-rule explanation is folded
(``<details>``).

A clinician accepts the recommendation or overrides it (another phase and a
reason, both required, checked by the API's ``SignoffIn`` and the store);
the sign-off goes through ``Store.sign_off`` like ``POST /v1/decisions/{id}/signoff``.
The report is the one ``GET /v1/decisions/{id}/report.pdf`` serves (made once,
signed with the clinic's key, then kept), downloaded as a file.

A decision signed off without a report (no signing key then, or issuing failed at
the sign-off) shows a clinician an "Issue the signed report" button: a form post
(with the session's CSRF token, like every page form) to
``/decisions/{id}/report``, which calls the very service ``POST /v1/decisions/{id}/report``
calls (``ReportService.issue``), attributed to that clinician. Other roles see only
whether a report exists. When issuing fails (no signing key, a conflict, the renderer
or the signer failing), the page says why (``report_problem``, as the API's sign-off
answer does), never a 500; the sign-off stands and nothing else is written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.deps import EvaluatorDep, ReportsDep, StoreDep
from api.schemas import SignoffIn, parse_body
from api.scope import scoped_decision
from api.store import Store
from api.store.records import StoredDecision
from api.store.signoffs import signoff_problems
from api.web import view
from api.web.access import PageAccess, PageForm, PostedForm, WebCaller
from api.web.rendering import SECURITY_HEADERS, redirect, render
from engine.confirmation import Confirmation, confirmation
from engine.decision import read_decision
from rules.errors import Conflict, InvalidInput, NotConfigured, NotFound, Problem
from rules.protocol import Protocol

router = APIRouter(include_in_schema=False)

_LOG = logging.getLogger(__name__)

SIGNOFF_FIELDS = ("action", "phase", "reason")


@dataclass(frozen=True)
class SignoffStatus:
    """The sign-off as the page shows it: who, what, and what it clears."""

    done: bool
    overridden: bool
    phase: str | None
    """The signed phase, ``3 · run — Progressive running``."""
    headline: str
    sprint: view.Badge | None
    play: view.Badge | None
    reason: str | None
    badge: view.Badge
    css: str
    """``ok`` (cleared to sprint), ``no`` (not), ``pending`` (not signed yet), ``superseded``
    (never to be signed): colour and outline only."""


def signoff_status(stored: StoredDecision, protocol: Protocol,
                   superseded_by: str | None = None) -> SignoffStatus:
    """This decision's sign-off: done, or none yet (then the recommendation is not in force),
    or never (a correction superseded it; ``superseded_by`` is the correction's decision)."""
    signoff = stored.signoff
    badge = view.signoff_badge(signoff, protocol, superseded=stored.superseded_by is not None)
    if signoff is None:
        if stored.superseded_by is not None:
            return SignoffStatus(False, False, None,
                                 "Superseded by a correction before it was signed: this "
                                 "recommendation can never be signed and was never in force.",
                                 None, None, None, badge, "superseded")
        return SignoffStatus(False, False, None,
                             "This recommendation is the rules'. It is not in force until "
                             "a clinician accepts it, or overrides it with a reason.",
                             None, None, None,
                             view.pending_badge(protocol, stored.summary.phase.id), "pending")
    sprint, play = view.clearance_of(protocol, signoff.signed_phase)
    if signoff.action == "accept":
        headline = (f"Accepted by {signoff.clinician} on {signoff.signed_at[:10]}: signed phase "
                    f"{view.phase_label(protocol, signoff.signed_phase)}.")
    else:
        headline = (f"Overridden by {signoff.clinician} on {signoff.signed_at[:10]}: signed "
                    f"phase {view.phase_label(protocol, signoff.signed_phase)}, instead of the "
                    f"recommended {view.phase_label(protocol, signoff.recommended_phase)}.")
    return SignoffStatus(True, signoff.action == "override",
                         view.phase_label(protocol, signoff.signed_phase), headline,
                         view.cleared_badge(sprint, "sprint"), view.cleared_badge(play, "play"),
                         signoff.reason, badge, "ok" if sprint else "no")


def _decision_page(request: Request, caller: WebCaller, store: Store, protocol: Protocol,
                   decision_id: str, *, status: int = 200,
                   entered: Mapping[str, str] | None = None,
                   errors: Mapping[str, Sequence[str]] | None = None,
                   form_problems: Sequence[Problem] = (), conflict: str | None = None,
                   report_problem: str | None = None) -> Response:
    from reports.view import activity_groups, build_view  # imports WeasyPrint's package

    stored = store.get_decision(decision_id)
    decision = read_decision(stored.decision_json)
    decided_by = protocol if protocol.content_hash == decision.rulebase.protocol_sha256 else None
    shown = build_view(decision, record_sha256="", generated_at=store.now(),
                       protocol=decided_by)
    signed_activities = None
    if stored.signoff is not None and stored.signoff.action == "override":
        signed_activities = activity_groups(
            decision, decided_by or protocol,
            at_phase=protocol.phase_by_id[stored.signoff.signed_phase].number)
    rulebase = [item for item in shown.rulebase if item.label != "Record SHA-256"]
    episode = store.list_assessments(stored.injury_id)
    decision_of = {entry.id: entry.decision.id for entry in episode}
    superseded_by = decision_of.get(stored.superseded_by or "")
    episode_status = view.in_force(episode, protocol)
    may_sign = (caller.may("decision.signoff") and stored.signoff is None
                and stored.superseded_by is None)
    return render(
        request, "decision.html", caller, status=status,
        title=f"Decision · {decision.athlete.name or decision.athlete.id} · "
              f"{decision.assessment.date}",
        stored=stored, decision=decision, shown=shown, rulebase=rulebase,
        held=view.held_steps(decision, protocol),
        standing=view.standing_red_flags(decision, protocol),
        holds=list(zip(shown.holds, decision.holds, strict=True)),
        carried=[row for gate in shown.gates for row in gate.rows
                 if row.id in decision.carried_forward],
        screens=view.missing_screens(decision, protocol),
        signed_activities=signed_activities,
        signoff=signoff_status(stored, protocol, superseded_by),
        superseded_by=superseded_by, episode=episode_status,
        steps=view.explanation_steps(decision.explanation, decided_by),
        may_sign=may_sign, may_report=caller.may("report.read"),
        may_issue=(caller.may("decision.signoff") and stored.signoff is not None
                   and stored.report is None),
        report_problem=report_problem,
        may_correct=caller.may("assessment.create") and stored.superseded_by is None,
        may_athlete=caller.may("athlete.read"),
        phases=[(pid, label) for pid, label in view.phase_choices(protocol)
                if pid != decision.phase.id],
        entered=entered or {}, errors=errors or {}, form_problems=form_problems,
        conflict=conflict)


@router.get("/decisions")
def find_decision(request: Request,
                  caller: Annotated[WebCaller, Depends(PageAccess("decision.read"))],
                  store: StoreDep, decision_id: Annotated[str | None, Query(alias="id")] = None
                  ) -> Response:
    """Open a decision by its id (what an insurer has from a report or a claim)."""
    error = None
    if decision_id is not None and decision_id.strip():
        wanted = decision_id.strip()
        try:
            store.get_decision(wanted)
        except NotFound:
            error = f"No decision has the id {wanted[:80]!r}."
        else:
            return redirect(f"/decisions/{wanted}")
    return render(request, "decision_find.html", caller, status=404 if error else 200,
                  title="Find a decision", error=error, given=decision_id or "")


@router.get("/decisions/{decision_id}")
def decision_page(request: Request, decision_id: str,
                  caller: Annotated[WebCaller, Depends(PageAccess("decision.read"))],
                  store: StoreDep, evaluator: EvaluatorDep) -> Response:
    stored = scoped_decision(store, caller.principal, decision_id)  # insurers: signed only
    page = _decision_page(request, caller, store, evaluator.protocol, decision_id)
    store.record_read(caller.principal, action="decision.read", decision_id=stored.id,
                      athlete_id=stored.athlete_id, via="page")
    return page


def _confirm_page(request: Request, caller: WebCaller, store: Store, protocol: Protocol,
                  decision_id: str, confirm: Confirmation, *, status: int = 200,
                  problems: Sequence[str] = ()) -> Response:
    stored = store.get_decision(decision_id)
    decision = read_decision(stored.decision_json)
    return render(request, "signoff_confirm.html", caller, status=status,
                  title=f"Confirm the sign-off · {decision.athlete.name or decision.athlete.id}",
                  stored=stored, decision=decision, confirm=confirm, problems=problems)


@router.post("/decisions/{decision_id}/signoff")
def sign_off(request: Request, decision_id: str,
             posted: Annotated[PostedForm, Depends(PageForm("decision.signoff"))],
             store: StoreDep, evaluator: EvaluatorDep, reports: ReportsDep) -> Response:
    """Two steps. The first (accept, or override with a phase and a reason) is checked and
    answered with the confirmation step, which lists the red flags, holds and cautions to
    acknowledge (and, for an override above the recommendation, what it clears, to confirm
    by name). The second (``step=confirm``) signs, recording what was acknowledged, and
    issues the report when the service signs reports; refused input shows the page again."""
    protocol = evaluator.protocol
    entered = {name: posted.get(name) or "" for name in SIGNOFF_FIELDS}
    body = {name: value for name, value in entered.items() if value.strip()}
    stored = store.get_decision(decision_id)  # 404 before anything else
    try:
        new = parse_body(SignoffIn, json.dumps(body).encode("utf-8"), "sign-off")
        problems = signoff_problems(stored.summary.phase.id, new.action, new.phase, new.reason)
        if problems:
            raise InvalidInput("the sign-off is not valid", problems)
        if stored.signoff is not None or stored.superseded_by is not None:
            # the store says why, in its words
            store.sign_off(posted.caller.principal, decision_id, action=new.action,
                           phase=new.phase, reason=new.reason)
        decision = read_decision(stored.decision_json)
        confirm = confirmation(decision, protocol, new.action,
                               new.phase or stored.summary.phase.id, new.reason)
        if posted.get("step") != "confirm":
            return _confirm_page(request, posted.caller, store, protocol, decision_id, confirm)
        ticked = [value for key, value in posted.fields if key == "acknowledged"]
        missing = [item for item in confirm.items if item.id not in ticked]
        refused = [f"{item.kind} {item.id} · {item.name}: tick it to acknowledge it"
                   for item in missing]
        if confirm.above and posted.get("confirm_above") != confirm.phase_id:
            refused.append(f"An override above the recommendation needs its own confirmation: "
                           f"tick \"{confirm.statement}\"")
        if refused:
            return _confirm_page(request, posted.caller, store, protocol, decision_id, confirm,
                                 status=422, problems=refused)
        store.sign_off(posted.caller.principal, decision_id, action=new.action, phase=new.phase,
                       reason=new.reason, acknowledged=[item.id for item in confirm.items])
    except InvalidInput as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            errors.setdefault(problem.field, []).append(problem.message)
        return _decision_page(request, posted.caller, store, protocol, decision_id,
                              status=422, entered=entered, errors=errors,
                              form_problems=exc.problems)
    except Conflict as exc:
        return _decision_page(request, posted.caller, store, protocol, decision_id,
                              status=409, entered=entered, conflict=str(exc))
    _, unissued = reports.after_signoff(store, posted.caller.principal, decision_id)  # no raise
    if unissued is not None:  # signed, but the report was not issued: say why, here
        return _decision_page(request, posted.caller, store, protocol, decision_id,
                              report_problem=unissued)
    return redirect(f"/decisions/{decision_id}#signoff-status")


@router.post("/decisions/{decision_id}/report")
def issue_report(request: Request, decision_id: str,
                 posted: Annotated[PostedForm, Depends(PageForm("decision.signoff"))],
                 store: StoreDep, evaluator: EvaluatorDep, reports: ReportsDep) -> Response:
    """Issue the signed report of a decision signed off without one, attributed to the
    signed-in clinician (``ReportService.issue``, as ``POST /v1/decisions/{id}/report``);
    then back to the page. A failure is said on the page: 409 (not signed off, or already
    issued), 503 (no signing key, or the report could not be rendered or signed)."""
    store.get_decision(decision_id)  # 404 before anything else
    try:
        reports.issue(store, posted.caller.principal, decision_id)
    except Conflict as exc:
        status, why = 409, str(exc)
    except NotConfigured as exc:
        status, why = 503, f"the report was not issued: {exc}"
    except Exception as exc:  # the renderer or the signer: said on the page, never a 500
        _LOG.exception("the report of decision %s was not issued", decision_id)
        status, why = 503, (f"the report was not issued ({exc}); nothing was stored. "
                            f"Try again; if it fails again, tell the clinic's IT")
    else:
        return redirect(f"/decisions/{decision_id}#report")
    return _decision_page(request, posted.caller, store, evaluator.protocol, decision_id,
                          status=status, report_problem=why)


@router.get("/decisions/{decision_id}/report.pdf")
def report(decision_id: str,
           caller: Annotated[WebCaller, Depends(PageAccess("report.read"))],
           store: StoreDep, reports: ReportsDep) -> Response:
    """The signed report, as a file to keep (as issued; a download creates nothing)."""
    stored = scoped_decision(store, caller.principal, decision_id)  # insurers: signed only
    kept = reports.read(store, stored.id)
    store.record_read(caller.principal, action="report.read", decision_id=stored.id,
                      athlete_id=stored.athlete_id, via="page")
    return Response(content=kept.pdf, media_type="application/pdf", headers={
        **SECURITY_HEADERS, "X-Report-SHA256": kept.info.sha256,
        "Content-Disposition": f'attachment; filename="sprintclear-{decision_id}.pdf"'})
