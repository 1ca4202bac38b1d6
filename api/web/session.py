"""The web pages' session: a sealed cookie holding the signed-in API key, and CSRF tokens.

- **Sign-in** posts an API key; the store authenticates it exactly as the API
  does. The session cookie then holds that key, sealed with Fernet (AES-CBC
  and HMAC-SHA256) under a key derived from the session secret, so the browser
  holds an opaque token that it cannot read or alter. **Every page request
  authenticates the key again** (:meth:`api.store.Store.authenticate`): a
  revoked key stops working for the pages at the next request, as it does for
  the API, and a leaked session secret lets nobody sign in without a key.
- **Expiry**: the sealed token carries the time it was made; a session older
  than ``session_hours`` (12 by default) is over, and the pages ask for the key
  again. Signing out deletes the cookie in the browser; a copied cookie stays
  usable until it expires unless its key is revoked, so revoking is how a lost
  tablet is shut out.
- **Cookie**: ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other
  site's page or form makes the browser send it), ``Path=/``, and ``Secure``
  when the page was asked for over https (``cookie_secure=auto``) or always
  (``cookie_secure=always``, behind a proxy that ends TLS). Over plain http a
  ``Secure`` cookie would not be kept at all, so ``auto`` lets the demo on
  ``http://127.0.0.1`` work; the sign-in page warns when the connection is
  plain http to another host than this one.
- **CSRF**: each session has a random token, sealed in the cookie and written
  into every form; a form post whose token does not match is refused before
  anything is read or written. The sign-in form has its own short-lived token
  in a cookie of its own (a sign-in from another site is refused too).
- **The secret**: ``SPRINTCLEAR_SESSION_SECRET`` when set (several hosts must
  share it); otherwise the file ``SPRINTCLEAR_SESSION_SECRET_FILE`` (default in
  the data directory), made with 384 random bits and mode 0600 the first time
  a page needs it. It is made atomically (written aside, then hard-linked into
  place), so worker processes starting together agree on one secret.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from api.settings import Settings, default_session_secret_path
from rules.errors import NotConfigured

__all__ = ["SESSION_COOKIE", "SIGNIN_COOKIE", "SessionKeeper", "WebSession"]

SESSION_COOKIE = "sprintclear_session"
SIGNIN_COOKIE = "sprintclear_signin"
SIGNIN_MINUTES = 60
"""How long a sign-in form stays usable after it was shown."""
_MIN_SECRET = 32
_INFO = b"sprintclear web session v1"


@dataclass(frozen=True, slots=True)
class WebSession:
    """What the session cookie holds: the API key and the session's CSRF token."""

    key: str
    csrf: str


class SessionKeeper:
    """Seals and opens the session and sign-in cookies; the secret is read on first use."""

    def __init__(self, settings: Settings, clock: Callable[[], dt.datetime]) -> None:
        self._settings = settings
        self._clock = clock
        self._fernet: Fernet | None = None
        self._lock = threading.Lock()

    @property
    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=self._settings.session_hours)

    # ---- the session ----------------------------------------------------------------

    def new_session(self, key: str) -> tuple[WebSession, str]:
        """A new session for ``key`` and its sealed cookie value."""
        session = WebSession(key=key, csrf=secrets.token_urlsafe(32))
        return session, self._seal("session", {"key": key, "csrf": session.csrf})

    def open_session(self, token: str | None) -> WebSession | None:
        """The session of a cookie; ``None`` when absent, altered, sealed elsewhere or old."""
        data = self._open("session", token, self.lifetime)
        if data is None or not isinstance(data.get("key"), str) or not isinstance(
                data.get("csrf"), str):
            return None
        return WebSession(key=data["key"], csrf=data["csrf"])

    # ---- the sign-in form -----------------------------------------------------------

    def new_signin(self) -> tuple[str, str]:
        """A sign-in form token and its sealed cookie value."""
        token = secrets.token_urlsafe(32)
        return token, self._seal("signin", {"token": token})

    def open_signin(self, cookie: str | None) -> str | None:
        data = self._open("signin", cookie, dt.timedelta(minutes=SIGNIN_MINUTES))
        token = None if data is None else data.get("token")
        return token if isinstance(token, str) else None

    # ---- cookies ----------------------------------------------------------------------

    def secure(self, request: Request) -> bool:
        return self._settings.cookie_secure == "always" or request.url.scheme == "https"

    def set_cookie(self, response: Response, request: Request, name: str, value: str,
                   max_age: dt.timedelta) -> None:
        response.set_cookie(name, value, max_age=int(max_age.total_seconds()), path="/",
                            httponly=True, samesite="strict", secure=self.secure(request))

    def delete_cookie(self, response: Response, request: Request, name: str) -> None:
        response.delete_cookie(name, path="/", httponly=True, samesite="strict",
                               secure=self.secure(request))

    # ---- sealing ----------------------------------------------------------------------

    def _seal(self, purpose: Literal["session", "signin"], data: dict[str, Any]) -> str:
        text = json.dumps({"purpose": purpose, **data}, separators=(",", ":"))
        now = int(self._clock().timestamp())
        return self._cipher().encrypt_at_time(text.encode("utf-8"), now).decode("ascii")

    def _open(self, purpose: str, token: str | None, ttl: dt.timedelta) -> dict[str, Any] | None:
        if not token or len(token) > 4096 or not token.isascii():
            return None
        now = int(self._clock().timestamp())
        try:
            text = self._cipher().decrypt_at_time(token.encode("ascii"),
                                                  int(ttl.total_seconds()), now)
            data = json.loads(text)
        except (InvalidToken, ValueError):
            return None
        if not isinstance(data, dict) or data.get("purpose") != purpose:
            return None
        return data

    def _cipher(self) -> Fernet:
        with self._lock:
            if self._fernet is None:
                derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                               info=_INFO).derive(self._secret())
                self._fernet = Fernet(base64.urlsafe_b64encode(derived))
            return self._fernet

    def _secret(self) -> bytes:
        if self._settings.session_secret is not None:
            return self._settings.session_secret.get_secret_value().encode("utf-8")
        path = self._settings.session_secret_file or default_session_secret_path()
        try:
            secret = _read_or_make_secret(path)
        except OSError as exc:
            raise NotConfigured(
                f"the web session secret cannot be read or made at {path}: "
                f"{exc.strerror or exc}; set SPRINTCLEAR_SESSION_SECRET, or "
                f"SPRINTCLEAR_SESSION_SECRET_FILE to a file the service may write") from exc
        if len(secret) < _MIN_SECRET:
            raise NotConfigured(f"the web session secret in {path} is shorter than "
                                f"{_MIN_SECRET} characters; delete the file to make a new one")
        return secret


def _read_or_make_secret(path: Path) -> bytes:
    """The secret in ``path``; made there (random, 0600), atomically, when it is missing."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    aside = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_urlsafe(48).encode("ascii") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        # fails if another process made it first: then theirs is the secret
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    finally:
        aside.unlink(missing_ok=True)
    return path.read_bytes().strip()
