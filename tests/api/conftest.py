"""Fixtures of the service tests: an empty, migrated database per test, on every backend.

SQLite always; PostgreSQL too when ``SPRINTCLEAR_TEST_DATABASE_URL`` is set or
the default server answers (``tests/database_support.py``). The PostgreSQL
tests run in a schema of their own, created for the session and dropped at its
end, so nothing depends on what an earlier run left in the server, and nothing
is left for the next one.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from database_support import BACKENDS, empty_database, own_schema, postgres_url
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import load_example as example

from api.demo import sign_baseline
from api.main import create_app
from api.settings import Settings
from api.store import Principal, Store
from api.store.database import make_engine, migrate
from engine import parse_assessment

OPERATOR = Principal(key_id=None, name="test operator", role="operator")
ROLES = ("clinician", "auditor", "insurer", "admin")
SESSION_SECRET = "test session secret: not for any real service"
"""The web pages' session secret in tests (so none is written in the home directory)."""
_TABLES = ("reports", "signoffs", "decisions", "assessments", "injuries", "athletes",
           "api_keys", "audit_entries", "access_log")


class TickingClock:
    """A clock that moves one second forward at every reading: times are distinct and known.

    It starts after every example's dates: the service refuses dates after today."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(seconds=1)
            return self._now


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A schema of this test session on the PostgreSQL server, migrated, dropped at the end."""
    with own_schema("sprintclear_test") as schema:
        engine = make_engine(postgres_url(schema))
        try:
            migrate(engine)
        finally:
            engine.dispose()
        yield schema


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(_TABLES)}"))
        connection.execute(text(f"UPDATE audit_head SET seq = 0, hash = '{'0' * 64}'"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a fresh SQLite file, or the emptied PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = postgres_url(request.getfixturevalue("postgres_schema"))
    _empty_postgres(url)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url, clock=TickingClock())
    yield opened
    opened.close()


@dataclass
class Service:
    """The app over a test store, a client, and one key per role."""

    store: Store
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)

    def as_(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"X-API-Key": self.keys[role]}

    def athlete(self, athlete_id: str = "FC-23", **extra: Any) -> dict[str, Any]:
        response = self.client.post("/v1/athletes", json={"id": athlete_id, **extra},
                                    headers=self.as_("clinician"))
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def injury(self, athlete_id: str = "FC-23", **fields: Any) -> dict[str, Any]:
        payload = {"region": "hamstring", "side": "right", "date": "2026-02-10", **fields}
        response = self.client.post(f"/v1/athletes/{athlete_id}/injuries", json=payload,
                                    headers=self.as_("clinician"))
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def assess(self, injury_id: str, document: dict[str, Any], *,
               supersedes: str | None = None, arrange_previous: bool = True) -> Any:
        """POST the document; first, unless told not to, give the store the signed phase
        its ``previous`` names (:meth:`sign_previous`), as the service now requires."""
        if arrange_previous:
            self.sign_previous(injury_id, document, supersedes=supersedes)
        params = {"supersedes": supersedes} if supersedes else None
        return self.client.post(f"/v1/injuries/{injury_id}/assessments", json=document,
                                params=params, headers=self.as_("clinician"))

    def sign_previous(self, injury_id: str, document: dict[str, Any], *,
                      supersedes: str | None = None) -> bool:
        """When the document's ``previous`` is not the signed phase on record, store and
        sign the visit it names (its measures dated ``previous.date``; ``api.demo``)."""
        previous = document.get("previous")
        if not previous or self.store.signed_previous(
                injury_id, document["assessment"]["date"], supersedes=supersedes) == previous:
            return False
        app: Any = self.client.app
        clinician = self.store.authenticate(self.keys["clinician"])
        sign_baseline(self.store, app.state.evaluator, clinician, injury_id,
                      parse_assessment(document), previous)
        return True

    def stored_decision(self, name: str = "hamstring-winger-cleared-to-sprint"
                        ) -> dict[str, Any]:
        """An athlete, an injury and one stored example; the decision envelope."""
        document = example(name)
        injury = document["injury"]
        athlete = document["athlete"]
        if self.client.get(f"/v1/athletes/{athlete['id']}",
                           headers=self.as_("clinician")).status_code == 404:
            self.athlete(athlete["id"])
        episodes = self.client.get(f"/v1/athletes/{athlete['id']}/injuries",
                                   headers=self.as_("clinician")).json()
        episode = next((e for e in episodes if (e["region"], e["side"], e["date"]) == (
            injury["region"], injury["side"], injury["date"])), None) or self.injury(
            athlete["id"], region=injury["region"], side=injury["side"], date=injury["date"])
        response = self.assess(episode["id"], document)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def service(store: Store) -> Iterator[Service]:
    app = create_app(Settings(database_url="sqlite:////nonexistent/unused.sqlite3",
                              session_secret=SESSION_SECRET),
                     store=store, clock=store.now)
    keys = {role: store.create_key(OPERATOR, role=role, name=f"test {role}").key
            for role in ROLES}
    with TestClient(app) as client:
        yield Service(store=store, client=client, keys=keys)


@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An offline demo CA and a clinic key signed by it (reports.make_demo_pki)."""
    from reports import make_demo_pki

    return make_demo_pki(tmp_path_factory.mktemp("pki"), clinician_name="Test Clinic",
                         password="test password",
                         now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # before TickingClock


@pytest.fixture(scope="session")
def signing_settings(demo_pki: Any) -> Settings:
    """Settings with the demo clinic key for signing reports."""
    return Settings(database_url="sqlite:////nonexistent/unused.sqlite3",
                    session_secret=SESSION_SECRET, signing_p12=demo_pki.clinician_p12,
                    signing_password_file=demo_pki.password_file,
                    signing_name="Test Clinic", signing_meaning="Clearance report of the clinic")


@pytest.fixture
def report_signing(service: Service, signing_settings: Settings) -> None:
    """The service signs reports with the demo clinic key."""
    from api.reporting import ReportService

    app: Any = service.client.app
    app.state.reports = ReportService.from_settings(signing_settings, service.store.now,
                                                    app.state.evaluator.protocol)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    with empty_database(request.param, tmp_path, "empty") as url:
        yield url
