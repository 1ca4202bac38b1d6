"""Jobs over the whole archive: replays, and bulk report issues; start one, follow its
progress, read its result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.deps import Allowed, EvaluatorDep, ReportsDep, SettingsDep, StoreDep
from api.jobs import dispatch, job_view, start_replay, start_report_issue
from api.openapi import error_responses
from api.store import Principal, Store
from api.store.jobs import JobState, JobStore
from rules.errors import NotFound

router = APIRouter(prefix="/v1/replays", tags=["audit"])


def _started(store: Store, response: Response, location: str, job_id: str) -> dict[str, Any]:
    """The answer to starting a job: its state now, its ``Location`` header."""
    state = JobStore(store.database).state(job_id)
    if state is None:  # pragma: no cover - the job was written before this read
        raise NotFound(f"job {job_id} was started but cannot be read back")
    response.headers["Location"] = location
    return job_view(state)


def _job(store: Store, job_id: str, kind: str, what: str) -> JobState:
    """The state of a job of ``kind``; ``NotFound`` naming ``what`` otherwise."""
    state = JobStore(store.database).state(job_id)
    if state is None or state.kind != kind:
        raise NotFound(f"{what} {job_id[:80]!r} does not exist")
    return state


@router.post("", status_code=202, summary="Replay every stored assessment with the rule base "
             "in use", responses=error_responses(401, 403))
def create_replay(caller: Annotated[Principal, Depends(Allowed("replay.run"))],
                  store: StoreDep, evaluator: EvaluatorDep, settings: SettingsDep,
                  response: Response) -> dict[str, Any]:
    """Starts a job that decides every stored assessment again with the service's rule base
    and compares each outcome with the stored decision (``sprintclear audit replay`` as a
    job). Answers 202 at once with the job's id and its ``Location``; follow it with ``GET
    /v1/replays/{id}``. On Redis (``SPRINTCLEAR_REDIS_URL``) ``sprintclear worker``
    processes do the work, in chunks; otherwise the service's process. Nothing stored is
    changed: no decision, no audit entry."""
    protocol_text = settings.protocol.read_text("utf-8") if settings.protocol else None
    job_id = start_replay(store, evaluator, protocol_text=protocol_text, actor=caller,
                          redis_url=settings.redis_url)
    return _started(store, response, f"/v1/replays/{job_id}", job_id)


@router.get("/{replay_id}", summary="A replay's progress and, once done, its summary",
            responses=error_responses(401, 403, 404))
def read_replay(replay_id: str, _caller: Annotated[Principal, Depends(Allowed("replay.run"))],
                store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """``status`` is ``running``, ``done`` or ``failed``; ``progress`` counts the decisions
    replayed so far of ``decisions``. Once done, ``result`` gives how many were replayed,
    would change and would not, how many stored inputs took ``previous`` from the store's
    sign-offs (protocol 2027.1, section 2.1), and ``summary``: each kind of change, most
    frequent first, with how many cases show it and the first few decision ids. A replay
    that nobody is working on (its workers died, or the service restarted) is started again
    from its first chunk not done."""
    state = _job(store, replay_id, "replay", "replay")
    if state.stalled:
        dispatch(store, replay_id, settings.redis_url)
    return job_view(state)


issues = APIRouter(prefix="/v1/reports/issues", tags=["reports"])


@issues.post("", status_code=202, summary="Issue the report of every signed-off decision "
             "that has none", responses=error_responses(401, 403))
def create_report_issue(caller: Annotated[Principal, Depends(Allowed("report.issue"))],
                        store: StoreDep, evaluator: EvaluatorDep, settings: SettingsDep,
                        reports: ReportsDep, response: Response) -> dict[str, Any]:
    """Starts a job that renders, signs and keeps the report of each signed-off decision
    without one, as ``POST /v1/decisions/{id}/report`` does for one decision, acting as the
    caller (a download only reads). A report already kept is left as it is: a decision has
    one report, and each report and its audit entry are written once, however often the job
    is started or a chunk redone. Answers 202 with the job's ``Location``; ``result`` gives
    ``issued`` and the decisions whose report could not be made (``failed``, with why). On
    Redis the workers sign with their own ``SPRINTCLEAR_SIGNING_*`` key."""
    job_id = start_report_issue(store, evaluator, actor=caller, redis_url=settings.redis_url,
                                reports=reports)
    return _started(store, response, f"/v1/reports/issues/{job_id}", job_id)


@issues.get("/{issue_id}", summary="A bulk report issue's progress and result",
            responses=error_responses(401, 403, 404))
def read_report_issue(issue_id: str,
                      _caller: Annotated[Principal, Depends(Allowed("report.issue"))],
                      store: StoreDep, settings: SettingsDep,
                      reports: ReportsDep) -> dict[str, Any]:
    """``progress`` counts the stored decisions looked at of ``decisions``; once done,
    ``result`` gives how many reports were issued and which could not be made."""
    state = _job(store, issue_id, "reports", "report issue")
    if state.stalled:
        dispatch(store, issue_id, settings.redis_url, reports=reports)
    return job_view(state)
