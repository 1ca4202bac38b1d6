"""Writing a page: the jinja2 environment, the common context, and the security headers.

Templates live in ``api/templates`` and only lay out what the routes and
:mod:`api.web.view` computed; autoescaping is on and an undefined name is an
error. Every page answer carries headers that keep clinical data where it
belongs: ``Cache-Control: no-store`` (a shared tablet's back button after
sign-out shows nothing), a content security policy that allows only this
site's own files (no inline script or style), no framing, no MIME sniffing,
and no referrer outside the site.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.web.access import CSRF_FIELD, WebCaller

__all__ = ["SECURITY_HEADERS", "NavLink", "navigation", "redirect", "render", "when"]

SECURITY_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class NavLink:
    href: str
    label: str


# (operation, link): the pages a role may open, from api.roles
_NAVIGATION: tuple[tuple[str, NavLink], ...] = (
    ("athlete.read", NavLink("/squad", "Squad")),
    ("decision.read", NavLink("/decisions", "Find a decision")),
    ("audit.read", NavLink("/audit", "Audit")),
    ("key.manage", NavLink("/keys", "API keys")),
)


def navigation(caller: WebCaller | None) -> list[NavLink]:
    """The links of the page header that the caller's role may follow."""
    if caller is None:
        return []
    return [link for operation, link in _NAVIGATION if caller.may(operation)]


def home_of(caller: WebCaller) -> str:
    """Where a signed-in caller starts: the first page the role may open."""
    links = navigation(caller)
    return links[0].href if links else "/signed-in"


def when(stamp: str | None) -> str:
    """``2026-03-10T09:15:02.000000Z`` → ``2026-03-10 09:15 UTC``."""
    if not stamp:
        return ""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("api", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["when"] = when
    env.filters["path"] = lambda value: quote(str(value), safe="")
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    return env


def render(request: Request, template: str, caller: WebCaller | None, *, status: int = 200,
           title: str, **context: Any) -> HTMLResponse:
    """The page ``template`` with the common context: who is signed in, the navigation."""
    html = environment().get_template(template).render(
        request=request, viewer=caller, navigation=navigation(caller), title=title,
        current=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=dict(SECURITY_HEADERS))


def redirect(url: str) -> Response:
    """303 See Other: after a form post, the browser asks for ``url`` with GET."""
    return RedirectResponse(url, status_code=303, headers=dict(SECURITY_HEADERS))
