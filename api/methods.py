"""Which methods a path accepts: the ``Allow`` header of ``OPTIONS`` and of every 405.

Starlette answers a wrong method with the methods of the *first* route whose
path matches, so ``GET /v1/athletes`` and ``POST /v1/athletes`` (two routes)
would each name only their own. :func:`allowed_methods` takes the union over
every route of the application that matches the path, and
:class:`OptionsMiddleware` answers ``OPTIONS`` with it (RFC 9110 §9.3.7:
``204`` with ``Allow``; a path no route has goes on to the 404).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match, Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["OptionsMiddleware", "allow_header", "allowed_methods"]

_READ_ONLY = frozenset({"GET", "HEAD"})
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
"""The methods a route of this service may have (OPTIONS is answered for every path)."""


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> frozenset[str]:
    """Every method some route accepts at the scope's path, ``OPTIONS`` included.

    Each route is asked, through its own ``matches``, whether it takes the path
    with each method (FastAPI's included routers answer for their routes), so no
    prefix or path convertor is re-implemented here. Static files take ``GET``
    and ``HEAD``. Empty when no route has the path (that is a 404, not a 405).
    """
    methods: set[str] = set()
    matched = False
    for route in routes:
        if isinstance(route, WebSocketRoute):
            continue
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            match, _ = route.matches({**scope, "type": "http", "method": "GET"})
            if match is not Match.NONE:
                matched = True
                methods |= _READ_ONLY
            continue
        for method in _METHODS:
            match, _ = route.matches({**scope, "type": "http", "method": method})
            if match is Match.FULL:
                methods.add(method)
            matched = matched or match is not Match.NONE
    return frozenset(methods | {"OPTIONS"}) if matched else frozenset()


def allow_header(methods: Iterable[str]) -> str:
    """``GET, HEAD, OPTIONS``: the methods, sorted, as the ``Allow`` header lists them."""
    return ", ".join(sorted(methods))


class OptionsMiddleware:
    """Answers ``OPTIONS`` on any known path with ``204`` and its ``Allow`` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(scope["app"].router.routes, scope)
        if not methods:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 204,
                    "headers": [(b"allow", allow_header(methods).encode("ascii"))]})
        await send({"type": "http.response.body", "body": b""})
