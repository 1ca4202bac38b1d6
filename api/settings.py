"""The service's settings, read from ``SPRINTCLEAR_*`` environment variables.

=====================================  ==================================================
``SPRINTCLEAR_DATABASE_URL``           SQLAlchemy URL; default a SQLite file in the user's
                                       data directory (:func:`default_database_url`)
``SPRINTCLEAR_PROTOCOL``               a clinic's protocol file; default the shipped one
``SPRINTCLEAR_SIGNING_P12``            the clinic's PKCS#12 signing key for reports
``SPRINTCLEAR_SIGNING_PASSWORD_FILE``  a file holding that key's password
``SPRINTCLEAR_SIGNING_NAME``           the signer's name written in the signature
``SPRINTCLEAR_SIGNING_MEANING``        what the signature means, in words
``SPRINTCLEAR_MAX_BODY_BYTES``         the largest request body accepted
=====================================  ==================================================

A PostgreSQL schema other than ``public`` is chosen in the URL itself:
``postgresql+psycopg://user@host/db?options=-csearch_path%3Dsprintclear``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_database_path", "default_database_url"]


def default_database_path() -> Path:
    """``$XDG_DATA_HOME/sprintclear/sprintclear.sqlite3`` (``~/.local/share/...`` by default)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "sprintclear" / "sprintclear.sqlite3"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


class Settings(BaseSettings):
    """Everything the service needs to start; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="SPRINTCLEAR_", extra="ignore", frozen=True)

    database_url: str = Field(default_factory=default_database_url,
                              description="SQLAlchemy database URL (SQLite file or PostgreSQL)")
    protocol: Path | None = Field(default=None,
                                  description="A clinic's protocol file instead of the default")
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
