"""The auditor's page (the decision log, the audit chain's check, the trail) and the admin's.

``/audit`` runs ``Store.verify_audit`` at every visit (what ``GET
/v1/audit/verify`` answers), lists the stored decisions newest first, filtered
by athlete and by assessment date, each with its sign-off and rule base
version, and shows the audit trail, latest entries first, page by page.
``/keys`` lists the API keys for the admin (never the keys themselves);
keys are made and revoked with ``sprintclear keys`` or ``/v1/keys``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.deps import EvaluatorDep, StoreDep
from api.web import view
from api.web.access import PageAccess, WebCaller
from api.web.rendering import render

router = APIRouter(include_in_schema=False)

LOG_LIMIT = 500
TRAIL_PAGE = 50


def _date(text: str | None, name: str, problems: list[str]) -> str | None:
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        problems.append(f"{name}: must be a date YYYY-MM-DD (got {text.strip()[:40]!r})")
        return None


@router.get("/audit")
def audit_page(request: Request,
               caller: Annotated[WebCaller, Depends(PageAccess("audit.read"))],
               store: StoreDep, evaluator: EvaluatorDep,
               athlete: Annotated[str | None, Query(max_length=64)] = None,
               assessed_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
               assessed_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
               before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    """The chain's check, the decision log (filtered) and a page of the audit trail."""
    verification = store.verify_audit()
    problems: list[str] = []
    start = _date(assessed_from, "from", problems)
    end = _date(assessed_to, "to", problems)
    if start and end and start > end:
        problems.append(f"from ({start}) is after to ({end})")
    athletes = store.list_athletes()
    chosen = athlete if athlete else None
    if chosen is not None and chosen not in {a.id for a in athletes}:
        problems.append(f"athlete: no athlete has the id {chosen[:64]!r}")
    entries, more = ([], False) if problems else store.decision_log(
        athlete_id=chosen, assessed_from=start, assessed_to=end, limit=LOG_LIMIT)
    names = {a.id: a.name for a in athletes}
    protocol = evaluator.protocol
    log = [(entry, names.get(entry.athlete_id), view.entry_status(entry, protocol),
            view.flag_names(entry.decision.red_flags, protocol)) for entry in entries]
    last = before - 1 if before is not None else verification.head_seq
    first = max(last - TRAIL_PAGE, 0)
    trail = list(reversed(store.audit_entries(after=first, limit=max(last - first, 1))))
    trail = [e for e in trail if e.seq <= last]
    return render(request, "audit.html", caller, title="Audit", verification=verification,
                  athletes=athletes, chosen=chosen or "", start=assessed_from or "",
                  end=assessed_to or "", problems=problems, log=log, more=more,
                  limit=LOG_LIMIT, trail=trail, earlier=first if first > 0 else None,
                  status=422 if problems else 200)


@router.get("/keys")
def keys_page(request: Request, caller: Annotated[WebCaller, Depends(PageAccess("key.manage"))],
              store: StoreDep) -> Response:
    """The API keys: who holds which role, since when, revoked or not."""
    return render(request, "keys.html", caller, title="API keys", keys=store.list_keys())
