"""Who may open which page: the API's roles, page by page, and errors that stay pages.

The expected matrix is written here from the issue, as tests/api/test_roles.py
does for the API: the insurer sees decisions and reports only, the auditor
reads everything and the audit page, the admin manages keys and nothing
clinical, and only a clinician writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from page_support import Page
from support import problem

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

C, A, INS, ADMIN = "clinician", "auditor", "insurer", "admin"
ROLES = (C, A, INS, ADMIN)

# (path, who may open it)
PAGES: list[tuple[str, set[str]]] = [
    ("/squad", {C, A}),
    ("/squad/new-athlete", {C}),
    ("/athletes/{athlete}", {C, A}),
    ("/injuries/{injury}/assess", {C}),
    ("/decisions", {C, A, INS}),
    ("/decisions/{signed}", {C, A, INS}),  # an unsigned one is not found for an insurer
    ("/decisions/{signed}/report.pdf", {C, A, INS}),
    ("/audit", {A}),
    ("/keys", {ADMIN}),
]

# (path, form, who may post it)
FORMS: list[tuple[str, dict[str, str], set[str]]] = [
    ("/squad/new-athlete", {"athlete.id": "NEW-1"}, {C}),
    ("/athletes/{athlete}/injuries", {"injury.region": "calf", "injury.side": "left",
                                      "injury.date": "2026-01-01"}, {C}),
    ("/injuries/{injury}/assess", {"assessment.date": "2026-03-20", "pain.rest": "0"}, {C}),
    ("/decisions/{decision}/signoff", {"action": "accept"}, {C}),
]


@pytest.fixture
def ids(service: Service, report_signing: None) -> dict[str, str]:
    stored = service.stored_decision()
    signed = service.stored_decision("hamstring-footballer-progressive-running-strength-"
                                     "deficit")
    service.client.post(f"/v1/decisions/{signed['id']}/signoff", json={"action": "accept"},
                        headers=service.as_(C))
    return {"athlete": "FC-23", "injury": stored["injury_id"], "decision": stored["id"],
            "signed": signed["id"]}


@pytest.mark.parametrize(("path", "allowed"), PAGES, ids=[p for p, _ in PAGES])
def test_every_role_at_every_page(visitors: Any, ids: dict[str, str], path: str,
                                  allowed: set[str]) -> None:
    """Not signed in → the sign-in page; a role not allowed → 403 saying why; allowed → 200."""
    url = path.format(**ids)
    assert visitors(None).get(url).headers["location"].startswith("/signin?reason=required")
    for role in ROLES:
        response = visitors(role).get(url)
        if role in allowed:
            assert response.status_code == 200, (role, response.text[:300])
        else:
            assert response.status_code == 403, role
            page = Page(response.text)
            assert f"the {role} role may not do this" in page.text
            assert f"with the {role} role" in page.text


@pytest.mark.parametrize(("path", "form", "allowed"), FORMS, ids=[p for p, *_ in FORMS])
def test_only_clinicians_write_through_pages(service: Service, visitors: Any,
                                             ids: dict[str, str], path: str,
                                             form: dict[str, str], allowed: set[str]) -> None:
    """A form post of a role that may not write is refused and leaves the audit trail as it was."""
    url = path.format(**ids)
    entries = service.store.count("audit_entries")
    for role in ROLES:
        if role in allowed:
            continue
        visitor = visitors(role)
        visitor.page(visitor.get("/").headers["location"])  # its start page: a form token
        assert visitor.post(url, form).status_code == 403, role
    assert service.store.count("audit_entries") == entries


def test_navigation_shows_only_the_pages_of_the_role(visitors: Any) -> None:
    """The header links are the pages the role may open, and no others."""
    expected = {C: ["/squad", "/decisions"], A: ["/squad", "/decisions", "/audit"],
                INS: ["/decisions"], ADMIN: ["/keys"]}
    for role, links in expected.items():
        home = visitors(role)
        page = Page(home.get(home.get("/").headers["location"]).text)
        nav = [a.attrs["href"] for a in page.all("a") if a.attrs.get("href", "").startswith("/")
               and a.attrs["href"] in {"/squad", "/decisions", "/audit", "/keys"}]
        assert nav[:len(links)] == links, role


def test_pages_are_not_in_the_openapi_document(service: Service) -> None:
    """The service's OpenAPI document lists the API only."""
    paths = service.client.get("/openapi.json").json()["paths"]
    assert all(path.startswith("/v1/") or path == "/healthz" for path in paths)


def test_errors_are_json_for_the_api_and_pages_for_pages(service: Service,
                                                         visitors: Any) -> None:
    """An unknown API path answers JSON; an unknown page answers an HTML page that says so."""
    api = service.client.get("/v1/nothing-here")
    assert api.status_code == 404 and problem(api)["detail"]
    clinician = visitors(C)
    page = clinician.get("/nothing-here")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found" in Page(page.text).text
    assert "Signed in: test clinician" in Page(page.text).text  # the header knows who asks
    missing = clinician.get("/decisions/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404
    assert "does not exist" in Page(missing.text).text


def test_pages_carry_headers_that_keep_data_private(visitors: Any) -> None:
    """No caching, only this site's scripts and styles, no framing, no sniffing."""
    response = visitors(C).get("/squad")
    assert response.headers["cache-control"] == "no-store"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text and " style=" not in response.text


def test_a_form_without_its_token_is_refused_before_anything_is_read(
        service: Service, visitors: Any, ids: dict[str, str]) -> None:
    """A clinician's form post with no token or another session's token stores nothing."""
    clinician, other = visitors(C), visitors(C)
    other.page("/squad")
    entries = service.store.count("audit_entries")
    for token in (None, other.token()):
        clinician.page("/squad")
        response = clinician.post("/squad/new-athlete", {"athlete.id": "CSRF-1"}, token=token)
        assert response.status_code == 403
        assert "did not come from a page of this session" in Page(response.text).text
    assert service.store.count("audit_entries") == entries


def test_a_form_must_be_urlencoded(visitors: Any) -> None:
    """A post that is not an urlencoded form is refused with a page, not a 500."""
    clinician = visitors(C)
    clinician.page("/squad")
    response = clinician.client.post("/squad/new-athlete", json={"athlete.id": "X"},
                                     follow_redirects=False)
    assert response.status_code == 415
