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
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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

__all__ = ["install_error_handlers", "status_of"]

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


def status_of(error: SprintclearError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


async def _sprintclear_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SprintclearError)
    status = status_of(exc)
    problems = [p for p in getattr(exc, "problems", ()) if isinstance(p, Problem)]
    # with Problems the fields carry the details; otherwise the message must
    message = getattr(exc, "summary", None) if problems else str(exc)
    if status == 500:
        logger.error("request failed: %s", exc, exc_info=exc)
    headers = {"WWW-Authenticate": "ApiKey"} if status == 401 else None
    return JSONResponse(error_body(message or str(exc), problems), status_code=status,
                        headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [Problem(".".join(str(part) for part in error.get("loc", ())) or "<input>",
                        str(error.get("type", "invalid")), str(error.get("msg", "is not valid")))
                for error in exc.errors()]
    return JSONResponse(error_body("the request is not valid", problems), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(error_body(str(exc.detail)), status_code=exc.status_code,
                        headers=exc.headers)


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal error: the request was not completed; nothing "
                                   "was stored"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SprintclearError, _sprintclear_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
