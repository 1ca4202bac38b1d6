"""A real `sprintclear serve` process, over HTTP: migrate, serve, store, sign, verify, stop.

The server runs two worker processes, and clinicians write to it from several
threads at once, so the audit chain is also shown intact under writers in
different processes. SQLite always; PostgreSQL too when there is one
(``tests/database_support.py``).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from database_support import BACKENDS, empty_database
from support import REMOVE, REPO, example_files, load_example, varied

from api.store import Principal, Store

WINGER = "hamstring-winger-cleared-to-sprint"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own (serve migrates it)."""
    with empty_database(request.param, tmp_path, "serve") as url:
        yield url


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sprintclear", *args]


def _keys(database_url: str, *roles: str) -> dict[str, str]:
    """Keys made before the server starts (`keys create` has its own tests)."""
    store = Store.open(database_url, migrate_schema=True)
    try:
        operator = Principal(key_id=None, name="test operator", role="operator")
        return {role: store.create_key(operator, role=role, name=f"{role} one").key
                for role in roles}
    finally:
        store.close()


@contextmanager
def _serving(*args: str) -> Iterator[tuple[str, list[str]]]:
    """`sprintclear serve --port 0 ARGS`; yields its URL and what it printed, then stops it."""
    process = subprocess.Popen(_command("serve", "--port", "0", "--no-access-log", *args),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=REPO)
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                break
        else:
            raise AssertionError("serve did not start: " + "".join(lines) +
                                 (process.stderr.read() if process.stderr else ""))
        url = match.group(1)
        _wait_until_up(url)
        yield url, lines
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=20) == 0
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server fails the test
            process.kill()
            raise
        finally:
            if process.stdout:
                process.stdout.close()
            if process.stderr:
                process.stderr.close()


@pytest.fixture
def served(database_url: str) -> Iterator[dict[str, Any]]:
    """`sprintclear serve --workers 2` on the test's database, and a key per role."""
    keys = _keys(database_url, "clinician", "auditor")
    with _serving("--workers", "2", "--database-url", database_url) as (url, lines):
        yield {"url": url, "keys": keys, "stdout": lines}


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the service did not answer /healthz")
        time.sleep(0.1)


def test_a_served_clinic_day_over_http(served: dict[str, Any]) -> None:
    """Over real HTTP: store and decide, concurrent writers, sign off, read, verify the chain."""
    assert ("reports      cannot be signed: no signing key (set SPRINTCLEAR_SIGNING_P12"
            in "".join(served["stdout"]))
    clinician = {"X-API-Key": served["keys"]["clinician"]}
    auditor = {"X-API-Key": served["keys"]["auditor"]}
    with httpx.Client(base_url=served["url"], timeout=30) as client:
        assert client.get("/v1/athletes", headers={}).status_code == 401
        assert client.post("/v1/athletes", json={"id": "FC-23"},
                           headers=clinician).status_code == 201
        injury = client.post("/v1/athletes/FC-23/injuries", json={
            "region": "hamstring", "side": "right", "date": "2026-02-10"},
            headers=clinician).json()
        # nothing signed yet: the service fills no previous, and R6 caps the first at run
        first = varied(load_example(WINGER), {"previous": REMOVE})
        stored = client.post(f"/v1/injuries/{injury['id']}/assessments",
                             json=first, headers=clinician)
        assert stored.status_code == 201
        decision = stored.json()
        assert decision["decision"]["phase"]["id"] == "run"

        statuses: list[int] = []

        def write(index: int) -> None:
            with httpx.Client(base_url=served["url"], timeout=60) as own:
                for round_ in range(3):
                    document = varied(first, {
                        "assessment.assessor": f"clinician {index}.{round_}"})
                    statuses.append(own.post(f"/v1/injuries/{injury['id']}/assessments",
                                             json=document, headers=clinician).status_code)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [201] * 18

        signoff = client.post(f"/v1/decisions/{decision['id']}/signoff",
                              json={"action": "override", "phase": "load",
                                    "reason": "Repeated sprints not yet passed"},
                              headers=clinician)
        assert signoff.status_code == 201
        read = client.get(f"/v1/decisions/{decision['id']}", headers=auditor).json()
        assert read["signoff"]["signed_phase"] == "load"
        assert read["decision"] == decision["decision"]
        timeline = client.get("/v1/athletes/FC-23/timeline", headers=auditor).json()
        assert len(timeline["injuries"][0]["assessments"]) == 19
        verified = client.get("/v1/audit/verify", headers=auditor).json()
        assert verified["intact"] is True
        # 2 keys, athlete, injury, 19 × (assessment + decision), sign-off
        assert verified["entries"] == 2 + 2 + 19 * 2 + 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_demo_shows_a_populated_service(database_url: str) -> None:
    """`serve --demo` prints keys, serves the example squad, and signs a verifiable report."""
    from reports import verify_report

    with _serving("--demo") as (url, lines):
        printed = "".join(lines)
        keys = dict(re.findall(r"demo key +(\w+) +(\S+)", printed))
        ca = Path(re.search(r"--trust (\S+)", printed).group(1))  # type: ignore[union-attr]
        with httpx.Client(base_url=url, timeout=30) as client:
            athletes = client.get("/v1/athletes", headers={"X-API-Key": keys["auditor"]})
            examples = [load_example(path.stem) for path in example_files()]
            assert len(athletes.json()) == len({e["athlete"]["id"] for e in examples}) == 16
            timeline = client.get("/v1/athletes/FC-23/timeline",
                                  headers={"X-API-Key": keys["auditor"]}).json()
            visits = timeline["injuries"][0]["assessments"]
            # first the signed visit of 2026-02-24 the earliest example starts from, then
            # the examples; each signed at the phase the next one started from (§2.1)
            assert [v["assessment_date"] for v in visits][:2] == ["2026-02-24", "2026-03-03"]
            assert [v["decision"]["phase"]["id"] for v in visits[1:]] == [
                "run", "sprint", "train"]
            started = [e["previous"]["phase"] for e in sorted(
                (e for e in examples if e["athlete"]["id"] == "FC-23"),
                key=lambda e: e["assessment"]["date"])]
            assert [v["signoff"]["signed_phase"] for v in visits[:-1]] == started
            assert [v["signoff"]["action"] for v in visits[1:-1]] == ["accept", "accept"]
            report = client.get(f"/v1/decisions/{visits[0]['decision']['id']}/report.pdf",
                                headers={"X-API-Key": keys["insurer"]})
            assert report.status_code == 200
            assert verify_report(report.content, trust_roots=[ca.read_bytes()]).valid
            verified = client.get("/v1/audit/verify", headers={"X-API-Key": keys["auditor"]})
            assert verified.json()["intact"] is True
            # the pages: / leads to sign-in; the session secret stays in the demo's folder
            assert "pages at /" in printed
            assert re.search(r'^reports +signed as "sprintclear demo clinic" with the key of '
                             r"sprintclear demo clinic \(issued by sprintclear demo CA; valid ",
                             printed, re.M), printed
            assert client.get("/").headers["location"] == "/signin"
            assert client.get("/signin").status_code == 200
            assert (ca.parent.parent / "session-secret").is_file()
