"""The clinicians' web pages: server-rendered (jinja2) from the same app, over the same store.

:func:`install_web` adds the page routers (kept out of the OpenAPI document),
the static files (``/static``: one stylesheet, one small script for the live
limb symmetry index) and the session keeper (:mod:`api.web.session`), and
returns the error pages that ``api.errors`` uses for page requests.

==========================  ======================================  =========================
page                        what                                    operation (api.roles)
==========================  ======================================  =========================
``/signin``, ``/signout``   sign in with an API key, sign out       —
``/``                       the first page the role may open        signed in
``/squad``                  every athlete: phase, clearance, flags  athlete.read
``/squad/new-athlete``      add an athlete                          athlete.create
``/athletes/{id}``          injuries, timeline, charts              athlete.read
                            add an injury                           injury.create
``/injuries/{id}/assess``   the assessment form                     assessment.create
``/decisions``              open a decision by its id               decision.read
``/decisions/{id}``         the decision and why                    decision.read
                            accept or override                      decision.signoff
``…/report.pdf``            the signed PDF report                   report.read
``/audit``                  decision log, chain check, trail        audit.read
``/keys``                   the API keys (a list)                   key.manage
==========================  ======================================  =========================

Modules: ``session`` (cookie, secret), ``access`` (who is asking, CSRF),
``rendering`` (templates, headers), ``errors`` (error pages), ``forms`` (the
assessment form and form → document), ``view`` and ``charts`` (what pages
show), and one router module per group of pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.settings import Settings
from api.web import assessments, athletes, audit, decisions, signin, squad
from api.web.errors import WebErrorPages
from api.web.session import SessionKeeper

__all__ = ["install_web"]


def install_web(app: FastAPI, settings: Settings,
                clock: Callable[[], dt.datetime]) -> WebErrorPages:
    """Add the pages to ``app``; the error pages to give ``api.errors``."""
    app.state.sessions = SessionKeeper(settings, clock)
    for module in (signin, squad, athletes, assessments, decisions, audit):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("api", "static")]), name="static")
    return WebErrorPages()
