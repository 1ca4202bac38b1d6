"""The service's settings, read from ``SPRINTCLEAR_*`` environment variables.

=====================================  ==================================================
``SPRINTCLEAR_DATABASE_URL``           SQLAlchemy URL; default a SQLite file in the user's
                                       data directory (:func:`default_database_url`)
``SPRINTCLEAR_PROTOCOL``               a clinic's protocol file; default the shipped one
``SPRINTCLEAR_KEEPALIVE_REQUESTS``     requests per keep-alive connection before the
                                       client is asked to reconnect (default 100; 0 never)
``SPRINTCLEAR_REDIS_URL``              Redis for replay jobs (RQ, ``sprintclear worker``);
                                       without it a replay runs in the service's process
``SPRINTCLEAR_SIGNING_P12``            the clinic's PKCS#12 signing key for reports
``SPRINTCLEAR_SIGNING_PASSWORD_FILE``  a file holding that key's password
``SPRINTCLEAR_SIGNING_NAME``           the signer's name written in the signature
``SPRINTCLEAR_SIGNING_MEANING``        what the signature means, in words
``SPRINTCLEAR_MAX_BODY_BYTES``         the largest request body accepted
``SPRINTCLEAR_SESSION_SECRET``         the secret that seals the web pages' session cookie
                                       (32 characters or more; for several hosts)
``SPRINTCLEAR_SESSION_SECRET_FILE``    where the secret is kept when it is not given: made
                                       (random, mode 0600) on the first sign-in; default
                                       :func:`default_session_secret_path`
``SPRINTCLEAR_SESSION_HOURS``          how long a web sign-in lasts (default 12)
``SPRINTCLEAR_COOKIE_SECURE``          ``auto`` (the cookie is ``Secure`` when the page was
                                       asked for over https) or ``always`` (behind a proxy
                                       that ends TLS)
``SPRINTCLEAR_CDS_JWKS_FILE``          the JSON Web Key Set of the EHRs that may call the
                                       CDS Hooks service (their public keys); without it
                                       the service answers 503
``SPRINTCLEAR_CDS_AUDIENCE``           the URL the EHRs address (the JWT's ``aud``) when
                                       the service is behind a proxy; default the URL of
                                       the request
=====================================  ==================================================

A PostgreSQL schema other than ``public`` is chosen in the URL itself:
``postgresql+psycopg://user@host/db?options=-csearch_path%3Dsprintclear``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_database_path", "default_database_url",
           "default_session_secret_path"]


def _data_directory() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "sprintclear"


def default_database_path() -> Path:
    """``$XDG_DATA_HOME/sprintclear/sprintclear.sqlite3`` (``~/.local/share/...`` by default)."""
    return _data_directory() / "sprintclear.sqlite3"


def default_session_secret_path() -> Path:
    """``$XDG_DATA_HOME/sprintclear/session-secret`` (``~/.local/share/...`` by default)."""
    return _data_directory() / "session-secret"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


class Settings(BaseSettings):
    """Everything the service needs to start; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="SPRINTCLEAR_", extra="ignore", frozen=True)

    database_url: str = Field(default_factory=default_database_url,
                              description="SQLAlchemy database URL (SQLite file or PostgreSQL)")
    protocol: Path | None = Field(default=None,
                                  description="A clinic's protocol file instead of the default")
    keepalive_requests: int = Field(
        default=100, ge=0, description="Requests on one keep-alive connection before the "
                                       "service asks the client to reconnect, so that "
                                       "`serve --workers N` spreads clients (0: never)")
    redis_url: str | None = Field(
        default=None, description="Redis for replay jobs (RQ; `sprintclear worker` takes them); "
                                  "without it a replay runs in the service's process")
    signing_p12: Path | None = Field(default=None,
                                     description="PKCS#12 file with the clinic's signing key")
    signing_password_file: Path | None = Field(
        default=None, description="File holding the PKCS#12 password (first line)")
    signing_name: str = Field(default="sprintclear clinic",
                              description="The signer's name written in the signature")
    signing_meaning: str = Field(
        default="Clearance report issued by the clinic",
        description="What the clinic's signature on a report means")
    max_body_bytes: int = Field(default=1_000_000, ge=1_000,
                                description="The largest request body accepted, in bytes")
    session_secret: SecretStr | None = Field(
        default=None, min_length=32,
        description="Seals the web session cookie; give the same one to every host")
    session_secret_file: Path | None = Field(
        default=None, description="Where the session secret is kept when it is not given "
                                  "(made on first use); default in the data directory")
    session_hours: int = Field(default=12, ge=1, le=168,
                               description="How long a web sign-in lasts, in hours")
    cds_jwks_file: Path | None = Field(
        default=None, description="JSON Web Key Set (public keys) of the EHRs that may call "
                                  "the CDS Hooks service")
    cds_audience: str | None = Field(
        default=None, description="Base URL the EHRs address (JWT aud) behind a proxy, e.g. "
                                  "https://clinic.example/cds-services")
    cookie_secure: Literal["auto", "always"] = Field(
        default="auto", description="auto: Secure cookie when the page came over https; "
                                    "always: behind a proxy that ends TLS")
