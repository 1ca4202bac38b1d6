"""Errors as RFC 9457 problem details, ``OPTIONS`` and ``Allow``, and a client that goes away.

Every error answer of the API is ``application/problem+json`` with the field
list as the extension member ``fields``; the pages keep their HTML errors.
``OPTIONS`` answers every path with the methods it takes, and a 405 names the
same methods. A client that disconnects before its body was read is not an
unexpected error in the log.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import pytest
from support import problem

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _documented(service: Service) -> dict[str, set[str]]:
    """Each documented path (parameters filled in) with its documented methods, upper case."""
    paths = service.client.get("/openapi.json").json()["paths"]
    return {re.sub(r"\{[^}]+\}", "x", path): {method.upper() for method in operations}
            for path, operations in paths.items()}


def test_an_invalid_assessment_is_a_problem_with_its_fields(service: Service) -> None:
    response = service.client.post("/v1/evaluate", headers=service.as_("clinician"), json={
        "athlete": {"id": "FC-23"}, "injury": {"region": "hamstring", "side": "right",
                                               "date": "2026-02-10"},
        "assessment": {"date": "2026-02-12"}, "pain": {"rest": 11}})
    assert response.status_code == 422
    body = problem(response)
    assert body["title"] == "Unprocessable Content"
    assert body["detail"] == "the assessment is not valid"
    assert {"field": "pain.rest", "rule": "range",
            "message": "must be between 0 and 10 (got 11)"} in body["fields"]


@pytest.mark.parametrize(("role", "path", "status"), [
    (None, "/v1/athletes", 401),
    ("insurer", "/v1/athletes", 403),
    ("clinician", "/v1/athletes/NOPE", 404),
    ("clinician", "/v1/no-such-thing", 404),
    ("auditor", "/v1/audit/entries?limit=-1", 422),
])
def test_every_kind_of_error_is_a_problem(service: Service, role: str | None, path: str,
                                          status: int) -> None:
    response = service.client.get(path, headers=service.as_(role))
    assert response.status_code == status
    body = problem(response)
    assert (body["fields"] != []) is (status == 422)
    if status == 401:
        assert response.headers["www-authenticate"] == "ApiKey"


def test_options_names_the_methods_of_every_documented_path(service: Service) -> None:
    for path, methods in _documented(service).items():
        response = service.client.options(path)
        assert response.status_code == 204, path
        assert response.headers["allow"] == ", ".join(sorted(methods | {"OPTIONS"})), path
        assert response.content == b""


def test_a_wrong_method_is_405_naming_every_method_of_the_path(service: Service) -> None:
    for path, methods in _documented(service).items():
        wrong = "DELETE" if "DELETE" not in methods else "PUT"
        response = service.client.request(wrong, path, headers=service.as_("admin"))
        assert response.status_code == 405, path
        assert response.headers["allow"] == ", ".join(sorted(methods | {"OPTIONS"})), path
        assert problem(response)["title"] == "Method Not Allowed"
    # GET and POST /v1/athletes are two routes: each names both
    assert service.client.options("/v1/athletes").headers["allow"] == "GET, OPTIONS, POST"


def test_pages_keep_their_html_errors_with_allow_on_a_405(service: Service) -> None:
    response = service.client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    response = service.client.delete("/")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["allow"] == "GET, OPTIONS"
    assert service.client.options("/static/missing.css").headers["allow"] == "GET, HEAD, OPTIONS"
    assert service.client.options("/no-such-page").status_code == 404


def test_a_client_that_disconnects_is_not_an_unexpected_error(
        service: Service, caplog: pytest.LogCaptureFixture) -> None:
    """The body is cut off by a disconnect: logged at INFO as that, nothing stored."""
    app: Any = service.client.app
    key = service.keys["clinician"].encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/athletes", "raw_path":
             b"/v1/athletes", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"x-api-key", key),
                         (b"content-type", b"application/json"),
                         (b"content-length", b"40")],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    incoming = [{"type": "http.request", "body": b'{"id": "FC-', "more_body": True},
                {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    before = service.store.count("audit_entries")
    with caplog.at_level(logging.INFO):
        asyncio.run(app(scope, receive, send))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("disconnected" in r.getMessage() for r in caplog.records
               if r.name == "sprintclear.api")
    assert service.store.count("audit_entries") == before
