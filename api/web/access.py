"""Who is asking for a page, and may they: the session, the role, the form's CSRF token.

``PageAccess("athlete.read")`` is to the pages what ``api.deps.Allowed`` is to
the API: it opens the session cookie (:mod:`api.web.session`), authenticates
the key it holds with the store (so a revoked key is refused at once), and
checks the role with the same table (``api.deps.permit`` over ``api.roles``).
No session, an expired one, or a key no longer accepted → :class:`SignInRequired`
(the sign-in page); the wrong role → ``NotPermitted`` (a 403 page that says
why). ``PageForm("decision.signoff")`` does the same for a form post, then
reads the form (urlencoded, within the body limit) and refuses it unless its
CSRF token is the session's.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import SettingsDep, StoreDep, permit, read_body
from api.roles import roles_for
from api.store import Principal
from api.web.session import SESSION_COOKIE, SessionKeeper
from rules.errors import InvalidInput, NotAuthenticated, NotPermitted, Problem

__all__ = ["CSRF_FIELD", "CsrfRefused", "PageAccess", "PageForm", "PostedForm",
           "SessionsDep", "SignInRequired", "WebCaller", "read_form"]

CSRF_FIELD = "csrf_token"
MAX_FORM_FIELDS = 500

SignInReason = Literal["required", "expired", "refused"]


class SignInRequired(NotAuthenticated):
    """The page needs a signed-in key: none, an expired session, or a key no longer accepted."""

    def __init__(self, reason: SignInReason) -> None:
        super().__init__({"required": "sign in to see this page",
                          "expired": "the session is over: sign in again",
                          "refused": "the API key is no longer accepted"}[reason])
        self.reason: SignInReason = reason


class CsrfRefused(NotPermitted):
    """A form post without this session's CSRF token."""


@dataclass(frozen=True, slots=True)
class WebCaller:
    """The signed-in key's holder, and the CSRF token to put in the page's forms."""

    principal: Principal
    csrf: str

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        return self.principal.role

    def may(self, operation: str) -> bool:
        """May this role perform ``operation`` (``api.roles``)? Pages show only what it may."""
        return self.principal.role in roles_for(operation)


def _sessions(request: Request) -> SessionKeeper:
    keeper: SessionKeeper = request.app.state.sessions
    return keeper


SessionsDep = Annotated[SessionKeeper, Depends(_sessions)]


def signed_in(request: Request, store: StoreDep, sessions: SessionKeeper) -> WebCaller:
    """The caller of a page request, or ``SignInRequired``."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignInRequired("required")
    session = sessions.open_session(cookie)
    if session is None:
        raise SignInRequired("expired")
    try:
        principal = store.authenticate(session.key)
    except NotAuthenticated as exc:
        raise SignInRequired("refused") from exc
    caller = WebCaller(principal=principal, csrf=session.csrf)
    request.state.web_caller = caller  # the error pages show who is signed in
    return caller


class PageAccess:
    """A dependency: the signed-in caller, if its role may perform ``operation``."""

    def __init__(self, operation: str | None) -> None:
        self.operation = operation
        if operation is not None:
            roles_for(operation)  # an unknown operation fails when the route is declared

    async def __call__(self, request: Request, store: StoreDep,
                       sessions: SessionsDep) -> WebCaller:
        # inline, like api.deps.Allowed: one indexed lookup
        caller = signed_in(request, store, sessions)
        if self.operation is not None:
            permit(caller.principal, self.operation)
        return caller


@dataclass(frozen=True, slots=True)
class PostedForm:
    """A form post that passed the checks: who sent it and its fields (without the token)."""

    caller: WebCaller
    fields: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        """The one value of ``name`` (``None`` if absent); a repeated name is refused."""
        values = [value for key, value in self.fields if key == name]
        if len(values) > 1:
            raise InvalidInput("the form is not valid", [Problem(
                name, "duplicate_key", "is given more than once")])
        return values[0] if values else None


async def read_form(request: Request, limit: int) -> tuple[tuple[str, str], ...]:
    """The fields of an urlencoded form body, in order; anything else is refused."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise StarletteHTTPException(415, "a form must be sent as "
                                          "application/x-www-form-urlencoded")
    raw = await read_body(request, limit)
    try:
        return tuple(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                               errors="strict", max_num_fields=MAX_FORM_FIELDS))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("the form is not valid", [Problem(
            "<form>", "form", f"cannot be read ({exc.__class__.__name__}); at most "
                              f"{MAX_FORM_FIELDS} fields of UTF-8 text")]) from exc


def check_token(given: str | None, expected: str) -> None:
    """Refuse a form whose CSRF token is missing or not ``expected``."""
    if given is None or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise CsrfRefused("this form did not come from a page of this session (its security "
                          "token is missing or out of date); nothing was saved. Open the page "
                          "again and resubmit.")


class PageForm:
    """A dependency: a form post of a signed-in caller whose role may perform ``operation``."""

    def __init__(self, operation: str | None) -> None:
        self.access = PageAccess(operation)

    async def __call__(self, request: Request, store: StoreDep, sessions: SessionsDep,
                       settings: SettingsDep) -> PostedForm:
        caller = await self.access(request, store, sessions)
        fields = await read_form(request, settings.max_body_bytes)
        tokens = [value for name, value in fields if name == CSRF_FIELD]
        check_token(tokens[0] if len(tokens) == 1 else None, caller.csrf)
        return PostedForm(caller=caller,
                          fields=tuple((n, v) for n, v in fields if n != CSRF_FIELD))
