"""Signing in to the pages: the session cookie, its expiry, revocation, sign-out, CSRF, secret."""

from __future__ import annotations

import datetime as dt
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from page_support import TOKEN, Page, sign_in

from api.settings import Settings
from api.web.session import SESSION_COOKIE, SIGNIN_COOKIE, SessionKeeper

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HOMES = {"clinician": "/squad", "auditor": "/squad", "insurer": "/decisions", "admin": "/keys"}


def _cookie(response: Any, name: str) -> Any:
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name]
    raise AssertionError(f"no {name} cookie set")


def test_a_page_without_a_session_goes_to_sign_in_and_back(service: Service,
                                                           visitors: Any) -> None:
    """Unauthenticated: 303 to the sign-in page, which brings the visitor back afterwards."""
    guest = visitors(None)
    response = guest.get("/athletes/FC-23?tab=1")
    assert response.status_code == 303
    assert response.headers["location"] == ("/signin?reason=required"
                                            "&next=%2Fathletes%2FFC-23%3Ftab%3D1")
    form = guest.page(response.headers["location"])
    assert form.all("input", name="next")[0].attrs["value"] == "/athletes/FC-23?tab=1"
    signed = guest.post("/signin", [("api_key", service.keys["clinician"]),
                                    ("next", "/athletes/FC-23?tab=1")])
    assert signed.status_code == 303
    assert signed.headers["location"] == "/athletes/FC-23?tab=1"


@pytest.mark.parametrize("role", sorted(HOMES))
def test_the_start_page_depends_on_the_role(visitors: Any, role: str) -> None:
    """``/`` leads a signed-in role to its first page, and anyone else to the sign-in page."""
    assert visitors(None).get("/").headers["location"] == "/signin"
    assert visitors(role).get("/").headers["location"] == HOMES[role]


def test_the_session_cookie_is_httponly_strict_and_not_readable(service: Service,
                                                                visitors: Any) -> None:
    """HttpOnly, SameSite=Strict, Path=/, a working day long; it does not contain the key."""
    guest = visitors(None)
    response = sign_in(guest.client, service.keys["clinician"])
    cookie = _cookie(response, SESSION_COOKIE)
    assert cookie["httponly"] and cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/" and int(cookie["max-age"]) == 12 * 3600
    assert not cookie["secure"]  # plain http: a Secure cookie would not be kept
    assert service.keys["clinician"] not in cookie.value
    assert _cookie(response, SIGNIN_COOKIE).value == ""  # the sign-in cookie is cleared


def test_the_cookie_is_secure_over_https_and_when_configured(service: Service,
                                                             visitors: Any) -> None:
    """Over https the cookie is Secure; with cookie_secure=always also behind a TLS proxy."""
    over_https = visitors(None, base_url="https://testserver")
    assert _cookie(sign_in(over_https.client, service.keys["clinician"]),
                   SESSION_COOKIE)["secure"]
    app: Any = service.client.app
    app.state.sessions = SessionKeeper(Settings(session_secret="s" * 40, cookie_secure="always"),
                                       service.store.now)
    # asked for over http (as a proxy that ends TLS asks), the cookie is still Secure
    assert _cookie(visitors(None).get("/signin"), SIGNIN_COOKIE)["secure"]


def test_a_wrong_key_is_refused_and_not_shown_again(service: Service, visitors: Any) -> None:
    """An unknown key: 422, the reason next to the field, the field empty, no session."""
    guest = visitors(None)
    guest.page("/signin")
    response = guest.post("/signin", {"api_key": "sck_not-a-key"})
    assert response.status_code == 422
    page = Page(response.text)
    assert "the API key is not known" in page.by_id("api-key-error").text
    assert page.by_id("api-key").attrs.get("value", "") == ""
    assert "sck_not-a-key" not in response.text
    assert guest.get("/squad").status_code == 303


def test_sign_in_needs_the_forms_own_token(service: Service, visitors: Any) -> None:
    """A sign-in posted from elsewhere (no form cookie, or another token) is refused."""
    guest = visitors(None)
    no_form = guest.post("/signin", {"api_key": service.keys["clinician"]}, token="forged")
    assert no_form.status_code == 403
    guest.page("/signin")
    wrong = guest.post("/signin", {"api_key": service.keys["clinician"]}, token="forged")
    assert wrong.status_code == 403
    assert guest.get("/squad").status_code == 303


def test_a_revoked_key_stops_working_for_pages_at_once(service: Service,
                                                       visitors: Any) -> None:
    """Revoke the key of a signed-in visitor: the next page sends it to sign in, saying why."""
    new = service.client.post("/v1/keys", json={"role": "clinician", "name": "Dr. Lost Tablet"},
                              headers=service.as_("admin")).json()
    tablet = visitors(None, key=new["key"])
    assert tablet.get("/squad").status_code == 200
    service.client.post(f"/v1/keys/{new['info']['id']}/revoke", headers=service.as_("admin"))
    response = tablet.get("/squad")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?reason=refused")
    assert _cookie(response, SESSION_COOKIE).value == ""
    notice = tablet.page(response.headers["location"])
    assert "no longer accepted" in notice.text
    assert tablet.get("/squad").status_code == 303


def test_a_session_ends_after_its_lifetime(service: Service, visitors: Any) -> None:
    """A session older than session_hours sends the visitor to sign in again."""
    clinician = visitors("clinician")
    assert clinician.get("/squad").status_code == 200
    app: Any = service.client.app
    later = service.store.now() + dt.timedelta(hours=12, minutes=1)
    app.state.sessions = SessionKeeper(Settings(session_secret="test session secret: not for "
                                                               "any real service"),
                                       lambda: later)
    response = clinician.get("/squad")
    assert response.headers["location"].startswith("/signin?reason=expired")


def test_an_altered_or_foreign_cookie_is_no_session(service: Service, visitors: Any) -> None:
    """A cookie changed by one character, or sealed with another secret, opens nothing."""
    clinician = visitors("clinician")
    value = clinician.client.cookies[SESSION_COOKIE]
    altered = value[:-5] + ("A" if value[-5] != "A" else "B") + value[-4:]
    clinician.client.cookies.set(SESSION_COOKIE, altered)
    assert clinician.get("/squad").headers["location"].startswith("/signin?reason=expired")
    foreign = SessionKeeper(Settings(session_secret="another secret, of another service!!"),
                            service.store.now)
    _, sealed = foreign.new_session(service.keys["clinician"])
    clinician.client.cookies.set(SESSION_COOKIE, sealed)
    assert clinician.get("/squad").headers["location"].startswith("/signin?reason=expired")


def test_a_sign_in_cookie_is_not_a_session(service: Service, visitors: Any) -> None:
    """The sealed sign-in form token cannot be used as a session cookie."""
    guest = visitors(None)
    guest.page("/signin")
    guest.client.cookies.set(SESSION_COOKIE, guest.client.cookies[SIGNIN_COOKIE])
    assert guest.get("/squad").status_code == 303


def test_sign_out_needs_the_token_and_ends_the_session(visitors: Any) -> None:
    """Sign-out without the session's token is refused; with it the cookie is deleted."""
    clinician = visitors("clinician")
    clinician.page("/squad")
    refused = clinician.post("/signout", {}, token="forged")
    assert refused.status_code == 403
    assert clinician.get("/squad").status_code == 200
    clinician.page("/squad")
    done = clinician.post("/signout", {})
    assert done.status_code == 303 and done.headers["location"] == "/signin?reason=signed_out"
    assert _cookie(done, SESSION_COOKIE).value == ""
    assert clinician.get("/squad").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil",
                                    "squad", "javascript:alert(1)"])
def test_only_local_pages_are_followed_after_sign_in(service: Service, visitors: Any,
                                                     target: str) -> None:
    """A ``next`` that leads to another site is dropped: the visitor goes to the start page."""
    guest = visitors(None)
    guest.page("/signin")
    response = guest.post("/signin", [("api_key", service.keys["clinician"]), ("next", target)])
    assert response.headers["location"] == "/squad"


def test_the_sign_in_page_warns_on_plain_http_to_another_host(visitors: Any) -> None:
    """Over http to a host that is not this computer, the page warns that keys travel in clear."""
    local = visitors(None, base_url="http://127.0.0.1:8000")
    assert "not encrypted" not in local.page("/signin").text
    remote = visitors(None, base_url="http://192.168.1.20:8000")
    assert "not encrypted" in remote.page("/signin").text
    assert "not encrypted" not in visitors(None, base_url="https://clinic.example"
                                           ).page("/signin").text


def test_an_unusable_secret_is_a_clear_503(service: Service, visitors: Any,
                                           tmp_path: Path) -> None:
    """A secret file that is too short stops sign-in with a page naming the file."""
    short = tmp_path / "short-secret"
    short.write_text("too short\n")
    app: Any = service.client.app
    app.state.sessions = SessionKeeper(Settings(session_secret_file=short), service.store.now)
    response = visitors(None).get("/signin")
    assert response.status_code == 503
    assert str(short) in Page(response.text).text


def test_sign_in_page_token_is_fresh_each_time(visitors: Any) -> None:
    """Each sign-in page carries a new token (no token is shared between visitors)."""
    first, second = visitors(None), visitors(None)
    assert TOKEN.search(first.get("/signin").text).group(1) != TOKEN.search(  # type: ignore[union-attr]
        second.get("/signin").text).group(1)
