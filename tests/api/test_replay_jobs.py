"""Replay as a job: through the API in the service's process, and on Redis with RQ workers,
one of them killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support import load_example

from api.jobs import job_view, start_replay
from api.replay import replay
from api.store import Principal, Store
from api.store.jobs import JobStore
from api.store.replay_reads import archive_chunks
from engine import evaluator_for, parse_assessment
from engine.decide import Evaluator
from rules.loading import default_protocol_text, parse_protocol

CLINICIAN = Principal(key_id=None, name="Dr. Test", role="clinician")
REPO = Path(__file__).resolve().parents[2]


def _strict_text() -> str:
    """The default protocol with C302 (isometric 90/90 symmetry) raised from 90 % to 95 %."""
    document = json.loads(default_protocol_text())
    document["id"], document["version"] = "clinic-strict", "2026.2"
    next(c for c in document["criteria"] if c["id"] == "C302")["parts"][0]["threshold"] = 95
    return json.dumps(document)


def _archive(store: Store, visits: int) -> None:
    """``visits`` stored assessments of the winger and the flare case (alternating), each a
    distinct assessor so that none is a duplicate."""
    evaluator = evaluator_for()
    injuries = {}
    for index in range(visits):
        name = ("hamstring-winger-cleared-to-sprint", "hamstring-symptom-flare-next-morning-pain"
                )[index % 2]
        document = load_example(name)
        athlete, injury = document["athlete"], document["injury"]
        if athlete["id"] not in injuries:
            store.create_athlete(CLINICIAN, athlete_id=athlete["id"])
            injuries[athlete["id"]] = store.create_injury(
                CLINICIAN, athlete["id"], region=injury["region"], side=injury["side"],
                date=injury["date"]).id
        document["assessment"]["assessor"] = f"Dr. Visit {index}"
        assessment = parse_assessment(document)
        store.record_assessment(CLINICIAN, injuries[athlete["id"]], assessment,
                                evaluator.decide(assessment, evaluated_at=store.now()))


def _wait(jobs: JobStore, job_id: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = jobs.state(job_id)
        assert state is not None
        if state.status != "running":
            return state
        time.sleep(0.05)
    raise AssertionError(f"replay {job_id} did not finish in {timeout} s: {state}")


def test_a_replay_through_the_api_reports_progress_and_the_summary(service: Any) -> None:
    """POST answers 202 with Location; GET gives the progress and, when done, the summary by
    kind of change, equal to the command's; nothing is written but the job's state."""
    service.stored_decision("hamstring-winger-cleared-to-sprint")
    service.stored_decision("hamstring-symptom-flare-next-morning-pain")
    store = service.store
    entries = store.count("audit_entries")
    refused = service.client.post("/v1/replays", headers=service.as_("clinician"))
    assert refused.status_code == 403
    started = service.client.post("/v1/replays", headers=service.as_("auditor"))
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location == f"/v1/replays/{started.json()['id']}"
    _wait(JobStore(store.database), started.json()["id"])
    body = service.client.get(location, headers=service.as_("auditor")).json()
    assert body["status"] == "done"
    same = replay(store, evaluator_for())
    stored = store.count("decisions")
    assert body["progress"] == {"decisions": stored, "replayed": stored, "chunks": 1,
                                "chunks_done": 1}
    assert body["result"]["replayed"] == same.replayed == stored
    assert body["result"]["would_change"] == len(same.changed) == 0
    assert store.count("audit_entries") == entries
    missing = service.client.get("/v1/replays/rpl-nothing", headers=service.as_("auditor"))
    assert missing.status_code == 404


def test_a_bulk_report_issue_writes_each_missing_report_once(service: Any,
                                                             signing_settings: Any) -> None:
    """Decisions signed off while the service had no signing key (so no report was issued
    at sign-off): with the key, the job issues each missing report (one audit entry each)
    and nothing else; started again, it issues none."""
    from api.reporting import ReportService

    signed = [service.stored_decision(name)["id"] for name in (
        "hamstring-winger-cleared-to-sprint", "hamstring-symptom-flare-next-morning-pain")]
    service.stored_decision("hamstring-footballer-progressive-running-strength-deficit")
    for decision_id in signed:
        response = service.client.post(f"/v1/decisions/{decision_id}/signoff",
                                       json={"action": "accept"},
                                       headers=service.as_("clinician"))
        assert response.status_code == 201, response.text
    app: Any = service.client.app
    app.state.reports = ReportService.from_settings(signing_settings, service.store.now,
                                                    app.state.evaluator.protocol)
    store, jobs = service.store, JobStore(service.store.database)
    entries = store.count("audit_entries")
    missing = store.count("signoffs") - store.count("reports")
    assert missing >= 2  # the two above, and the visits the examples start from
    assert service.client.post("/v1/reports/issues",
                               headers=service.as_("auditor")).status_code == 403
    results = []
    for _ in range(2):
        started = service.client.post("/v1/reports/issues", headers=service.as_("clinician"))
        assert started.status_code == 202, started.text
        _wait(jobs, started.json()["id"], timeout=120)
        body = service.client.get(started.headers["Location"],
                                  headers=service.as_("clinician")).json()
        assert body["status"] == "done", body
        results.append(body["result"])
    assert results == [{"issued": missing, "failed": []}, {"issued": 0, "failed": []}]
    assert store.count("reports") == store.count("signoffs")
    assert store.count("audit_entries") == entries + missing
    assert store.verify_audit().intact
    for decision_id in signed:
        assert store.get_report(decision_id) is not None


def test_a_replay_nobody_works_on_is_resumed_when_read(service: Any) -> None:
    """A replay whose process stopped (recorded, chunks pending, no worker) is started again
    by the next GET and completes."""
    service.stored_decision("hamstring-winger-cleared-to-sprint")
    store = service.store
    jobs = JobStore(store.database)
    evaluator = evaluator_for()
    jobs.create(job_id="rpl-orphan", kind="replay", created_at="2026-03-01T09:00:00Z",
                actor=CLINICIAN, rulebase_version=evaluator.version,
                protocol_id=evaluator.protocol.id,
                protocol_version=evaluator.protocol.version, protocol_text=None,
                chunks=archive_chunks(store.database, 10), lease_seconds=60)
    state = jobs.state("rpl-orphan")
    assert state is not None and state.stalled
    first = service.client.get("/v1/replays/rpl-orphan", headers=service.as_("auditor"))
    assert first.json()["status"] == "running"
    assert _wait(jobs, "rpl-orphan").status == "done"
    assert service.client.get("/v1/replays/rpl-orphan", headers=service.as_("auditor")
                              ).json()["result"]["replayed"] == store.count("decisions")


def _redis_url() -> str:
    url = os.environ.get("SPRINTCLEAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # the server is not there: nothing to test against
        pytest.skip(f"Redis is not reachable at {url}: {exc}")
    return url


def _worker(database_url: str, redis_url: str, queue: str, log: Path
            ) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "sprintclear", "worker", "--burst", "--queue", queue,
             "--database-url", database_url, "--redis-url", redis_url],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)


def test_a_worker_killed_mid_replay_is_taken_over_with_the_same_summary(
        store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On Redis: the first worker is stopped after its first chunk and killed (SIGKILL); a
    second worker takes the chunk over once its lease runs out, and the replay completes
    with the summary an uninterrupted in-process replay gives."""
    redis_url = _redis_url()
    queue = f"test-{uuid.uuid4().hex}"
    _archive(store, 60)
    url = store.database.engine.url.render_as_string(hide_password=False)
    strict = _strict_text()
    evaluator: Evaluator = evaluator_for(parse_protocol(strict))
    jobs = JobStore(store.database)
    monkeypatch.setenv("SPRINTCLEAR_RQ_QUEUE", queue)
    monkeypatch.setenv("SPRINTCLEAR_JOB_LEASE_SECONDS", "2")

    expected_id = start_replay(store, evaluator, protocol_text=strict, actor=CLINICIAN,
                               redis_url=None, chunk_size=4)
    expected = _wait(jobs, expected_id)
    assert expected.status == "done"

    job_id = start_replay(store, evaluator, protocol_text=strict, actor=CLINICIAN,
                          redis_url=redis_url, chunk_size=4)
    log = tmp_path / "workers.log"
    first = _worker(url, redis_url, queue, log)
    try:
        deadline = time.monotonic() + 60
        while (state := jobs.state(job_id)) is not None and state.processed < 1:
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the first worker never started"
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)
        state = jobs.state(job_id)
        assert state is not None and state.status == "running"
        assert state.chunks_done < state.chunk_count
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait()
    second = _worker(url, redis_url, queue, log)
    try:
        assert second.wait(timeout=120) == 0, log.read_text()
    finally:
        second.kill()
    done = _wait(jobs, job_id)
    assert done.status == "done", done.error
    assert done.processed == done.total == 60
    got, want = job_view(done)["result"], job_view(expected)["result"]
    assert got == want
    assert want["would_change"] == 60  # both stories have C302 at 92.4 %, below 95 %
    assert any(kind["kind"] == "C302: met → unmet" for kind in want["summary"])


UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_a_job_started_while_redis_is_down_runs_in_the_service(service: Any,
                                                               caplog: Any) -> None:
    """Regression: with SPRINTCLEAR_REDIS_URL set and Redis down, starting a replay
    recorded the job and then failed with a server error; the request now answers as
    usual and the job runs in the service's process, with a warning."""
    service.stored_decision("hamstring-winger-cleared-to-sprint")
    store = service.store
    with caplog.at_level("WARNING", logger="api.jobs"):
        job_id = start_replay(store, evaluator_for(), protocol_text=None,
                              actor=Principal(key_id=None, name="auditor", role="auditor"),
                              redis_url=UNREACHABLE_REDIS)
        state = _wait(JobStore(store.database), job_id)
    assert state.status == "done"
    assert "cannot be reached" in caplog.text and "in this process instead" in caplog.text


def test_a_worker_without_redis_says_so_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sprintclear.cli import main
    from sprintclear.exits import EXIT_UNAVAILABLE

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    Store.open(url, migrate_schema=True).close()
    result = CliRunner().invoke(main, ["worker", "--burst", "--database-url", url,
                                       "--redis-url", UNREACHABLE_REDIS])
    assert result.exit_code == EXIT_UNAVAILABLE, result.output
    assert "Redis at redis://127.0.0.1:1/0 cannot be reached" in result.output
    assert "Traceback" not in result.output
