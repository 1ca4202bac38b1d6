"""``/healthz``: is the service up, is its database reachable and at the right schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import EvaluatorDep, StoreDep
from api.openapi import error_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check (no key needed)",
            responses=error_responses(503))
def healthz(store: StoreDep, evaluator: EvaluatorDep) -> dict[str, Any]:
    """200 when the database answers and its schema is current; 503 otherwise."""
    store.ping()
    store.check_schema()
    return {"status": "ok", "database": store.dialect, "rulebase": evaluator.version,
            "protocol": evaluator.protocol.id}
