"""The one place where errors become HTTP status codes, answered as problem details.

=========================================  ======
InvalidAssessment, InvalidInput            422
NotAuthenticated                           401
NotPermitted                               403
NotFound                                   404
Conflict                                   409
StoreUnavailable, NotConfigured            503
any other SprintclearError                 500
=========================================  ======

Every error answer of the API is an RFC 9457 problem details object,
``application/problem+json``, written by fastapi-problem (``rfc9457``)::

    {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
     "detail": "the assessment is not valid: 1 problem",
     "fields": [{"field": "pain.rest", "rule": "range",
                 "message": "must be between 0 and 10 (got 11)"}]}

``type`` is ``about:blank`` (the status says what kind of error it is) and
``title`` the status's phrase; ``detail`` says what happened; the extension
member ``fields`` lists each offending field with the rule it broke (empty
when the error is not about a field). FastAPI's own validation errors (a
query parameter out of range) and Starlette's (an unknown path, a wrong
method, a body too large) are written the same way. Anything unexpected is a
500 with a generic detail; the traceback goes to the log, never to the
client. A 405 names, in ``Allow``, every method the path accepts
(``api.methods``). A client that disconnects before its request was read is
logged as that (``INFO``), not as an unexpected error.

The web pages get the same status codes, written as pages: a request for a
page (``PageErrors.handles``) is answered by ``PageErrors.respond`` with the
status decided here (``api.web.errors``: an HTML page that says why, or the
sign-in page for a 401).
"""

from __future__ import annotations

import http
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi_problem.handler import ExceptionHandler
from rfc9457 import Problem as ProblemDetails
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from api.methods import allow_header, allowed_methods
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

__all__ = ["PROBLEM_JSON", "PageErrors", "install_error_handlers", "problem_details",
           "status_of"]

logger = logging.getLogger("sprintclear.api")

PROBLEM_JSON = "application/problem+json"
"""The media type of every error answer of the API (RFC 9457 §3)."""

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

_RFC_9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
"""The phrases RFC 9110 gives these statuses (Python before 3.13 has the older ones)."""

_UNEXPECTED = "internal error: the request was not completed; nothing was stored"
_DISCONNECTED = "the client disconnected before its request was read; nothing was stored"
_CLIENT_CLOSED = 400
"""The status noted for a request whose client went away (no one receives it)."""


class PageErrors(Protocol):
    """How the web pages write an error (``api.web.errors``)."""

    def handles(self, request: Request) -> bool:
        """Is this a request for a page (not for the API)?"""

    def respond(self, request: Request, error: Exception, status: int, message: str,
                problems: Sequence[Problem]) -> Response:
        """The page that says what went wrong, with this status."""


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    message: str
    problems: Sequence[Problem] = ()
    headers: dict[str, str] = field(default_factory=dict)


def status_of(error: SprintclearError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


def problem_details(status: int, detail: str, problems: Sequence[Problem] = (),
                    headers: dict[str, str] | None = None) -> ProblemDetails:
    """The RFC 9457 object of an error: its status's title, ``detail``, the ``fields``."""
    title = _RFC_9110_TITLES.get(status) or http.HTTPStatus(status).phrase
    return ProblemDetails(title=title, type_="about:blank",
                          detail=detail, status=status, headers=headers or None,
                          fields=[problem.as_dict() for problem in problems])


def _answer_of(request: Request, exc: Exception) -> _Answer:
    """Status, message, problems and headers of any exception a request raised."""
    if isinstance(exc, SprintclearError):
        status = status_of(exc)
        problems = [p for p in getattr(exc, "problems", ()) if isinstance(p, Problem)]
        # with Problems the fields carry the details; otherwise the message must
        message = (getattr(exc, "summary", None) if problems else None) or str(exc)
        if status == 500:
            logger.error("request failed: %s", exc, exc_info=exc)
        headers = {"WWW-Authenticate": "ApiKey"} if status == 401 else {}
        return _Answer(status, message, problems, headers)
    if isinstance(exc, RequestValidationError):
        problems = [Problem(".".join(str(part) for part in error.get("loc", ())) or "<input>",
                            str(error.get("type", "invalid")),
                            str(error.get("msg", "is not valid")))
                    for error in exc.errors()]
        return _Answer(422, "the request is not valid", problems)
    if isinstance(exc, StarletteHTTPException):
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            methods = allowed_methods(request.app.router.routes, request.scope)
            if methods:
                headers = {**headers, "Allow": allow_header(methods)}
        return _Answer(exc.status_code, str(exc.detail), (), headers)
    if isinstance(exc, ClientDisconnect):
        logger.info("%s %s: %s", request.method, request.url.path, _DISCONNECTED)
        return _Answer(_CLIENT_CLOSED, _DISCONNECTED)
    logger.error("unexpected error", exc_info=exc)
    return _Answer(500, _UNEXPECTED)


def install_error_handlers(app: FastAPI, pages: PageErrors | None = None) -> None:
    """The handlers of every error; requests for pages are answered by ``pages``."""

    def details(_eh: Any, request: Request, exc: Exception) -> ProblemDetails:
        answer = _answer_of(request, exc)
        return problem_details(answer.status, answer.message, answer.problems, answer.headers)

    # the library writes the body, the media type and the headers; the status and the
    # words are decided above, once for every kind of error (logging included)
    write = ExceptionHandler(handlers={Exception: details})

    async def handle(request: Request, exc: Exception) -> Response:
        if pages is not None and pages.handles(request):
            answer = _answer_of(request, exc)
            response = pages.respond(request, exc, answer.status, answer.message,
                                     answer.problems)
            if response.status_code == answer.status:  # not the sign-in redirect of a 401
                for name, value in answer.headers.items():
                    response.headers.setdefault(name, value)
            return response
        return write(request, exc)

    for kind in (SprintclearError, RequestValidationError, StarletteHTTPException,
                 ClientDisconnect, Exception):
        app.add_exception_handler(kind, handle)
