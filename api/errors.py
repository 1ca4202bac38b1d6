"""The one place where errors become HTTP status codes.

=========================================  ======
InvalidAssessment, InvalidInput            422
NotAuthenticated                           401
NotPermitted                               403
NotFound                                   404
Conflict                                   409
StoreUnavailable, NotConfigured            503
any other SprintclearError                 500
=========================================  ======

Every error answer has the same body, ``{"error": {"message", "fields"}}``;
``fields`` lists each offending field with the rule it broke (empty when the
error is not about a field). FastAPI's own validation errors (a query
parameter out of range) and Starlette's (an unknown path, a wrong method, a
body too large) are written the same way. Anything unexpected is a 500 with a
generic message; the traceback goes to the log, never to the client.

The web pages get the same status codes, written as pages: a request for a
page (``PageErrors.handles``) is answered by ``PageErrors.respond`` with the
status decided here (``api.web.errors``: an HTML page that says why, or the
sign-in page for a 401).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import error_body
from rules.errors import (
    Conflict,
    InvalidAssessment,
    InvalidInput,
    NotAuthenticated,
    NotConfigured,
    NotFound,
    NotPermitted,
    Problem,
    SprintclearError,
    StoreUnavailable,
)

__all__ = ["PageErrors", "install_error_handlers", "status_of"]

logger = logging.getLogger("sprintclear.api")

_STATUS: tuple[tuple[type[SprintclearError], int], ...] = (
    (InvalidAssessment, 422),
    (InvalidInput, 422),
    (NotAuthenticated, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (Conflict, 409),
    (StoreUnavailable, 503),
    (NotConfigured, 503),
)


_UNEXPECTED = "internal error: the request was not completed; nothing was stored"


class PageErrors(Protocol):
    """How the web pages write an error (``api.web.errors``)."""

    def handles(self, request: Request) -> bool:
        """Is this a request for a page (not for the API)?"""

    def respond(self, request: Request, error: Exception, status: int, message: str,
                problems: Sequence[Problem]) -> Response:
        """The page that says what went wrong, with this status."""


def status_of(error: SprintclearError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


def install_error_handlers(app: FastAPI, pages: PageErrors | None = None) -> None:
    """The handlers of every error; requests for pages are answered by ``pages``."""

    def answer(request: Request, error: Exception, status: int, message: str,
               problems: Sequence[Problem] = (),
               headers: dict[str, str] | None = None) -> Response:
        if pages is not None and pages.handles(request):
            return pages.respond(request, error, status, message, problems)
        return JSONResponse(error_body(message, list(problems)), status_code=status,
                            headers=headers)

    async def sprintclear_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SprintclearError)
        status = status_of(exc)
        problems = [p for p in getattr(exc, "problems", ()) if isinstance(p, Problem)]
        # with Problems the fields carry the details; otherwise the message must
        message = getattr(exc, "summary", None) if problems else str(exc)
        if status == 500:
            logger.error("request failed: %s", exc, exc_info=exc)
        headers = {"WWW-Authenticate": "ApiKey"} if status == 401 else None
        return answer(request, exc, status, message or str(exc), problems, headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [Problem(".".join(str(part) for part in error.get("loc", ())) or "<input>",
                            str(error.get("type", "invalid")),
                            str(error.get("msg", "is not valid")))
                    for error in exc.errors()]
        return answer(request, exc, 422, "the request is not valid", problems)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return answer(request, exc, exc.status_code, str(exc.detail),
                      headers=dict(exc.headers) if exc.headers else None)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        logger.error("unexpected error", exc_info=exc)
        return answer(request, exc, 500, _UNEXPECTED)

    app.add_exception_handler(SprintclearError, sprintclear_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
