"""Every write route, walked with hostile ids: refused with nothing stored, or answered usably.

A write that commits and then fails to answer (a header that cannot be encoded, an id
no URL can reach) is the fault this file hunts (issue 10, item 7): for each write
route of the API, each hostile id gives either a 4xx and no new row or audit entry, or
a 2xx whose body is JSON and whose ``Location`` reads back what was written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from support import REMOVE, load_example, varied

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

WINGER = "hamstring-winger-cleared-to-sprint"
HOSTILE = ["FC-23 ", " FC-23", "Ω-1", "a/b", "a%2Fb", "a b", "😀", "a\u2028b", "a\r\nb",
           "a?b", "a#b", ".", "..", "x" * 65, "", "a\\b", "ä", "%", "FC-23\t", "\ud7ff"]
TABLES = ("athletes", "injuries", "assessments", "decisions", "signoffs", "reports",
          "api_keys", "audit_entries")

Case = tuple[str, str, Any]  # method, url, JSON body


def _path(template: str, value: str) -> str:
    return template.replace("{}", quote(value, safe=""))


def _cases(ids: dict[str, str]) -> dict[tuple[str, str], Callable[[str], list[Case]]]:
    """Write route (method, OpenAPI path) → the requests a hostile value makes of it."""
    document = varied(load_example(WINGER), {"previous": REMOVE})
    return {
        ("POST", "/v1/athletes"): lambda v: [("POST", "/v1/athletes", {"id": v}),
                                             ("POST", "/v1/athletes", {"id": "OK-1", "name": v})],
        ("POST", "/v1/athletes/{athlete_id}/injuries"): lambda v: [
            ("POST", _path("/v1/athletes/{}/injuries", v),
             {"region": "hamstring", "side": "right", "date": "2026-02-10"})],
        ("POST", "/v1/injuries/{injury_id}/assessments"): lambda v: [
            ("POST", _path("/v1/injuries/{}/assessments", v), document),
            ("POST", f"/v1/injuries/{ids['injury']}/assessments",
             varied(document, {"athlete.id": v})),
            ("POST", f"/v1/injuries/{ids['injury']}/assessments?supersedes={quote(v)}",
             varied(document, {"pain.rest": 1}))],
        ("POST", "/v1/decisions/{decision_id}/signoff"): lambda v: [
            ("POST", _path("/v1/decisions/{}/signoff", v), {"action": "accept"}),
            ("POST", f"/v1/decisions/{ids['decision']}/signoff",
             {"action": "override", "phase": "load", "reason": v})],
        ("POST", "/v1/decisions/{decision_id}/report"): lambda v: [
            ("POST", _path("/v1/decisions/{}/report", v), None)],
        ("POST", "/v1/keys"): lambda v: [("POST", "/v1/keys", {"role": "auditor", "name": v})],
        ("POST", "/v1/keys/{key_id}/revoke"): lambda v: [
            ("POST", _path("/v1/keys/{}/revoke", v), None)],
        ("POST", "/v1/evaluate"): lambda v: [
            ("POST", "/v1/evaluate", varied(document, {"athlete.id": v}))],
        # the jobs take no id and no body: each start must answer a Location that reads back
        ("POST", "/v1/replays"): lambda v: [("POST", "/v1/replays", None)],
        ("POST", "/v1/reports/issues"): lambda v: [("POST", "/v1/reports/issues", None)],
    }


def _counts(service: Service) -> dict[str, int]:
    return {table: service.store.count(table) for table in TABLES}


def _setup(service: Service) -> dict[str, str]:
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    response = service.assess(injury["id"], varied(load_example(WINGER), {"previous": REMOVE}))
    assert response.status_code == 201, response.text
    return {"injury": injury["id"], "decision": response.json()["id"]}


def test_every_write_route_is_walked(service: Service) -> None:
    """A new write route must join the walk: the table covers every POST of the API."""
    paths = service.client.get("/openapi.json").json()["paths"]
    posts = {("POST", path) for path, operations in paths.items() if "post" in operations}
    writes = {(m.upper(), p) for p, ops in paths.items() for m in ops
              if m in {"put", "patch", "delete"}}
    assert posts | writes == set(_cases({"injury": "i", "decision": "d"}))


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v) for v in HOSTILE])
def test_a_hostile_id_is_refused_with_nothing_stored_or_answered_usably(
        service: Service, value: str) -> None:
    """Never a 5xx; a 4xx stores nothing; a 2xx is JSON whose Location reads back."""
    ids = _setup(service)
    roles = {"/v1/keys": "admin", "/v1/replays": "auditor"}
    for make in _cases(ids).values():
        for method, url, body in make(value):
            role = next((r for prefix, r in roles.items() if url.startswith(prefix)),
                        "clinician")
            before = _counts(service)
            response = service.client.request(method, url, json=body,
                                              headers=service.as_(role))
            where = (method, url, value)
            assert response.status_code < 500, (where, response.text)
            if response.status_code >= 400:
                assert _counts(service) == before, where
                continue
            answer = response.json()
            assert answer, where
            if "location" in response.headers:
                reader = role if role == "admin" or url.startswith("/v1/reports/issues") \
                    else "auditor"  # a report issue job is the clinician's to follow
                read = service.client.get(response.headers["location"],
                                          headers=service.as_(reader))
                assert read.status_code == 200, (where, response.headers["location"])
