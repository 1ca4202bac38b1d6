"""Errors on pages: the status ``api.errors`` decided, written as a page that says why.

A request is for a page unless it is for the API (``/v1/…``) or one of the
service's own documents (``/healthz``, ``/openapi.json``, ``/docs``,
``/redoc``): those keep their JSON errors. On a page, a 401 (no session, an
expired one, a key no longer accepted) sends the browser to the sign-in page,
saying which, and back to the page afterwards; a 403 says which role the
page needs and who is signed in; any other error says what happened and that
nothing was saved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from api.web.access import CsrfRefused, SignInRequired, WebCaller, signed_in
from api.web.rendering import redirect, render
from api.web.session import SESSION_COOKIE, SessionKeeper
from api.web.signin import signin_url
from rules.errors import Problem, SprintclearError

__all__ = ["API_PATHS", "WebErrorPages", "is_page_path"]

API_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})

TITLES = {400: "The request is not valid", 403: "Not allowed", 404: "Not found",
          405: "Not possible here", 409: "In conflict with what is stored",
          413: "Too large", 415: "Not a form", 422: "Not valid",
          500: "Something went wrong", 503: "Not available"}


def is_page_path(path: str) -> bool:
    return not (path == "/v1" or path.startswith("/v1/") or path in API_PATHS
                # CDS Hooks (api/cds): an EHR's calls, answered in JSON
                or path == "/cds-services" or path.startswith("/cds-services/"))


class WebErrorPages:
    """``api.errors.PageErrors`` for the pages."""

    def handles(self, request: Request) -> bool:
        return is_page_path(request.url.path)

    def respond(self, request: Request, error: Exception, status: int, message: str,
                problems: Sequence[Problem]) -> Response:
        if status == 401:
            reason = error.reason if isinstance(error, SignInRequired) else "required"
            response = redirect(signin_url(request, reason))
            if reason != "required":
                sessions: SessionKeeper = request.app.state.sessions
                sessions.delete_cookie(response, request, SESSION_COOKIE)
            return response
        caller: WebCaller | None = getattr(request.state, "web_caller", None)
        if caller is None and status in (404, 405):  # a page that does not exist: who asks?
            with contextlib.suppress(SprintclearError):
                caller = signed_in(request, request.app.state.store, request.app.state.sessions)
        return render(request, "error.html", caller, status=status,
                      title=TITLES.get(status, "Not done"), code=status, message=message,
                      problems=problems, csrf=isinstance(error, CsrfRefused),
                      nothing_saved=request.method != "GET")
