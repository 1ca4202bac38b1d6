"""Signing in with an API key, signing out, and the start page.

``GET /`` sends a signed-in caller to the first page its role may open, and
anyone else to the sign-in page. The sign-in form carries a token of its own
(checked against a short-lived cookie), so no other site can sign a browser
in with a key of its choosing.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import StoreDep
from api.web.access import (
    CSRF_FIELD,
    SessionsDep,
    SignInRequired,
    WebCaller,
    check_token,
    read_form,
    signed_in,
)
from api.web.rendering import home_of, redirect, render
from api.web.session import SESSION_COOKIE, SIGNIN_COOKIE, SIGNIN_MINUTES
from rules.errors import NotAuthenticated

router = APIRouter(include_in_schema=False)

KEY_FIELD = "api_key"
MAX_SIGNIN_BYTES = 4096

NOTICES = {
    "required": "Sign in to see that page.",
    "expired": "Your session is over (sessions last a working day). Sign in again; if you "
               "were sending a form, it was not saved.",
    "refused": "Your API key is no longer accepted (it was revoked, or this service does not "
               "know it): you are signed out. Ask your administrator for a valid key.",
    "signed_out": "You are signed out.",
}


def safe_next(target: str | None) -> str | None:
    """A local path to go to after signing in; anything else (another site) is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 for c in target) or len(target) > 2000:
        return None
    return target


def _plain_http_to_another_host(request: Request) -> bool:
    if request.url.scheme == "https":
        return False
    host = request.url.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _signin_page(request: Request, sessions: SessionsDep, *, status: int = 200,
                 next_page: str | None = None, notice: str | None = None,
                 error: str | None = None) -> Response:
    token, cookie = sessions.new_signin()
    response = render(request, "signin.html", None, status=status, title="Sign in",
                      token=token, next_page=next_page, notice=notice, error=error,
                      key_field=KEY_FIELD, insecure=_plain_http_to_another_host(request))
    sessions.set_cookie(response, request, SIGNIN_COOKIE, cookie,
                        dt.timedelta(minutes=SIGNIN_MINUTES))
    return response


@router.get("/")
def start(request: Request, store: StoreDep, sessions: SessionsDep) -> Response:
    """The first page of the caller's role, or the sign-in page."""
    try:
        caller = signed_in(request, store, sessions)
    except SignInRequired:
        return redirect("/signin")
    return redirect(home_of(caller))


@router.get("/signin")
def signin_form(request: Request, sessions: SessionsDep,
                next_page: Annotated[str | None, Query(alias="next")] = None,
                reason: str | None = None) -> Response:
    return _signin_page(request, sessions, next_page=safe_next(next_page),
                        notice=NOTICES.get(reason or ""))


@router.post("/signin")
async def signin(request: Request, store: StoreDep, sessions: SessionsDep) -> Response:
    """Check the key with the store, then keep it in a sealed session cookie."""
    fields = await read_form(request, MAX_SIGNIN_BYTES)
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    next_page = safe_next(next(iter(values.get("next", [])), None))
    tokens = values.get(CSRF_FIELD, [])
    expected = sessions.open_signin(request.cookies.get(SIGNIN_COOKIE))
    if expected is None:
        return _signin_page(request, sessions, status=403, next_page=next_page, error=(
            "The sign-in form was too old, or your browser did not keep its cookie. Cookies "
            "must be allowed for this site. Try again."))
    check_token(tokens[0] if len(tokens) == 1 else None, expected)
    keys = values.get(KEY_FIELD, [])
    key = keys[0].strip() if len(keys) == 1 else ""
    if not key:
        return _signin_page(request, sessions, status=422, next_page=next_page,
                            error="Enter your API key.")
    try:
        principal = store.authenticate(key)
    except NotAuthenticated as exc:
        return _signin_page(request, sessions, status=422, next_page=next_page,
                            error=f"Not signed in: {exc}.")
    session, cookie = sessions.new_session(key)
    caller = WebCaller(principal=principal, csrf=session.csrf)
    response = redirect(next_page or home_of(caller))
    sessions.set_cookie(response, request, SESSION_COOKIE, cookie, sessions.lifetime)
    sessions.delete_cookie(response, request, SIGNIN_COOKIE)
    return response


@router.post("/signout")
async def signout(request: Request, store: StoreDep, sessions: SessionsDep) -> Response:
    """Delete the session cookie (a form post with the session's token)."""
    fields = await read_form(request, MAX_SIGNIN_BYTES)
    session = sessions.open_session(request.cookies.get(SESSION_COOKIE))
    response = redirect("/signin?reason=signed_out")
    if session is not None:
        tokens = [value for name, value in fields if name == CSRF_FIELD]
        check_token(tokens[0] if len(tokens) == 1 else None, session.csrf)
    sessions.delete_cookie(response, request, SESSION_COOKIE)
    return response


def signin_url(request: Request, reason: str) -> str:
    """Where a page that needs a sign-in sends the browser (back here afterwards)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        return f"/signin?reason={reason}"
    return f"/signin?reason={reason}&next={quote(target, safe='')}"
