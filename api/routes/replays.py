"""Replays of the whole archive as jobs: start one, follow its progress, read its summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.deps import Allowed, EvaluatorDep, SettingsDep, StoreDep
from api.jobs import job_view, start_replay
from api.openapi import error_responses
from api.store import Principal
from api.store.jobs import JobStore
from rules.errors import NotFound

router = APIRouter(prefix="/v1/replays", tags=["audit"])


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
    job_id = start_replay(store, evaluator, protocol_text=protocol_text,
                          created_by=caller.name, redis_url=settings.redis_url)
    response.headers["Location"] = f"/v1/replays/{job_id}"
    state = JobStore(store.database).state(job_id)
    assert state is not None
    return job_view(state)


@router.get("/{replay_id}", summary="A replay's progress and, once done, its summary",
            responses=error_responses(401, 403, 404))
def read_replay(replay_id: str, _caller: Annotated[Principal, Depends(Allowed("replay.run"))],
                store: StoreDep) -> dict[str, Any]:
    """``status`` is ``running``, ``done`` or ``failed``; ``progress`` counts the decisions
    replayed so far of ``decisions``. Once done, ``result`` gives how many were replayed,
    would change and would not, how many stored inputs took ``previous`` from the store's
    sign-offs (protocol 2027.1, section 2.1), and ``summary``: each kind of change, most
    frequent first, with how many cases show it and the first few decision ids."""
    state = JobStore(store.database).state(replay_id)
    if state is None:
        raise NotFound(f"replay {replay_id[:80]!r} does not exist")
    return job_view(state)
