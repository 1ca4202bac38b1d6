"""Dependencies of the routes, as ``Annotated`` aliases.

``create_app`` puts the store, the evaluator, the settings and the report
signer on ``app.state``; these read them back. ``Allowed("decision.read")``
authenticates the caller's API key (``X-API-Key``) and checks that its role
may perform the operation (``api.roles``): no key or an unknown one → 401,
the wrong role → 403. The web pages find the key in their session cookie
instead (``api.web.access``) and make the same check, :func:`permit`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.reporting import ReportService
from api.roles import roles_for
from api.schemas import parse_assessment_body
from api.settings import Settings
from api.store import Principal, Store
from engine.assessment import Assessment
from engine.decide import Evaluator
from rules.errors import NotPermitted

__all__ = [
    "Allowed",
    "AssessmentBody",
    "EvaluatorDep",
    "RawBody",
    "ReportsDep",
    "SettingsDep",
    "StoreDep",
    "permit",
    "read_body",
]


# The app's shared objects, read on the event loop: a plain ``def`` dependency is run in
# the thread pool, a hop per dependency per request (three on /v1/evaluate) that cost
# more than the read (bench/service.py).
async def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _evaluator(request: Request) -> Evaluator:
    evaluator: Evaluator = request.app.state.evaluator
    return evaluator


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _reports(request: Request) -> ReportService:
    reports: ReportService = request.app.state.reports
    return reports


StoreDep = Annotated[Store, Depends(_store)]
EvaluatorDep = Annotated[Evaluator, Depends(_evaluator)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ReportsDep = Annotated[ReportService, Depends(_reports)]

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="ApiKey",
    description="An API key from `sprintclear keys create` (or POST /v1/keys); its role "
                "decides what it may do.")


def permit(principal: Principal, operation: str) -> Principal:
    """``principal`` if its role may perform ``operation`` (``api.roles``); else NotPermitted."""
    roles = roles_for(operation)
    if principal.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise NotPermitted(f"the {principal.role} role may not do this ({operation}); "
                           f"it needs: {allowed}")
    return principal


class Allowed:
    """A dependency: the authenticated caller, if its role may perform ``operation``."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        roles_for(operation)  # an unknown operation fails when the route is declared

    async def __call__(self, store: StoreDep,
                       key: Annotated[str | None, Security(api_key_header)]) -> Principal:
        # Inline on the event loop (one indexed lookup, well under a millisecond): handing
        # it to the thread pool made CPU-bound decisions and database calls contend for
        # the GIL, and p99 of concurrent requests tripled (bench/service.py).
        return permit(store.authenticate(key), self.operation)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (before reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise StarletteHTTPException(413, f"the request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise StarletteHTTPException(413, f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _raw_body(request: Request, settings: SettingsDep) -> bytes:
    return await read_body(request, settings.max_body_bytes)


async def _assessment(raw: Annotated[bytes, Depends(_raw_body)]) -> Assessment:
    return parse_assessment_body(raw)


RawBody = Annotated[bytes, Depends(_raw_body)]
AssessmentBody = Annotated[Assessment, Depends(_assessment)]
