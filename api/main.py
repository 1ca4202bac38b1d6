"""The FastAPI application: ``create_app(settings)`` builds it.

It opens the store (the database must be migrated: ``sprintclear serve``
does that before it starts), loads the protocol and builds the evaluator
once, reads the clinic's signing key once, and includes one router per
resource. The clinicians' web pages (``api.web``) are more routers over the
same ``app.state`` and the same roles, kept out of the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import FastAPI

from api.cds import routes as cds_routes
from api.errors import install_error_handlers
from api.methods import OptionsMiddleware
from api.openapi import install_openapi
from api.rebalance import RebalanceKeepAlive
from api.reporting import ReportService
from api.routes import (
    assessments,
    athletes,
    audit,
    decisions,
    evaluate,
    health,
    injuries,
    keys,
    replays,
)
from api.routes import fhir as fhir_routes
from api.routes import rules as rules_routes
from api.settings import Settings
from api.store import Store, utc_now
from api.web import install_web
from engine.decide import evaluator_for
from engine.runtime import settle
from rules.loading import default_protocol, load_protocol

__all__ = ["app_from_env", "create_app"]

DESCRIPTION = """\
Decision support for return-to-sprint clearance after a hamstring or calf muscle
injury. Every assessment and decision is kept, with the rule base version that
decided it and its full explanation; clinicians sign decisions off (accept, or
override with a reason); every write is in a tamper-evident audit chain.

Send an API key in the `X-API-Key` header. Its role decides what it may do:
**clinician** (enter, evaluate, sign off), **auditor** (read everything, audit),
**insurer** (decisions and signed reports), **admin** (keys).

Errors are RFC 9457 problem details (`application/problem+json`): `{"type":
"about:blank", "title", "status", "detail", "fields": [{"field", "rule",
"message"}]}`, `fields` naming each offending field and the rule it broke: 401
no or unknown key, 403 wrong role, 404 unknown id, 409 conflict with what is
stored, 422 invalid input (the command line's messages). `OPTIONS` on any path
answers 204 with its `Allow` header; a 405 carries `Allow` too.
"""

TAGS = [
    {"name": "decisions", "description": "Decide, read, sign off, and the signed report"},
    {"name": "athletes", "description": "Athletes, injury episodes and timelines"},
    {"name": "assessments", "description": "Store an assessment and decide it"},
    {"name": "rules", "description": "The rule catalogue"},
    {"name": "audit", "description": "The audit trail and its verification"},
    {"name": "keys", "description": "API keys (admin)"},
    {"name": "health", "description": "Liveness"},
]


def _version() -> str:
    try:
        return metadata.version("sprintclear")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "0"


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               clock: Callable[[], dt.datetime] = utc_now) -> FastAPI:
    """The service. ``store`` may be given (tests); otherwise it is opened from settings."""
    settings = settings or Settings()
    protocol = load_protocol(settings.protocol) if settings.protocol else default_protocol()
    evaluator = evaluator_for(protocol)
    reports = ReportService.from_settings(settings, clock, evaluator.protocol)
    owned = store is None
    if store is None:
        store = Store.open(settings.database_url, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            store.close()

    app = FastAPI(title="sprintclear", version=_version(), description=DESCRIPTION,
                  openapi_tags=TAGS, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.evaluator = evaluator
    app.state.reports = reports
    app.include_router(replays.issues)
    for module in (health, evaluate, rules_routes, athletes, injuries, assessments, decisions,
                   audit, replays, keys, fhir_routes, cds_routes):
        app.include_router(module.router)
    app.include_router(audit.access_router)
    install_error_handlers(app, pages=install_web(app, settings, clock))
    app.add_middleware(OptionsMiddleware)
    # keep-alive clients re-connect now and then, so that `serve --workers N` spreads them
    app.add_middleware(RebalanceKeepAlive, max_requests=settings.keepalive_requests)
    install_openapi(app)
    return app


def app_from_env() -> FastAPI:
    """The factory ``sprintclear serve`` gives uvicorn (settings from ``SPRINTCLEAR_*``)."""
    app = create_app(Settings())
    # The rule network, protocol and imports are built; keep the collector off them.
    settle()
    return app
