"""The service's commands: keys, audit verify and replay, and serve's refusals.

Each runs against SQLite and, when there is one (``tests/database_support.py``),
against PostgreSQL in a schema made for the test and dropped after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from database_support import BACKENDS, empty_database
from sqlalchemy import text
from support import load_example

from api.store import Principal, Store
from api.store.database import make_engine
from engine import evaluator_for, parse_assessment
from rules.loading import default_protocol_text
from sprintclear.cli import main

CLINICIAN = Principal(key_id=None, name="Dr. Test", role="clinician")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own, not yet migrated."""
    with empty_database(request.param, tmp_path, "cli") as url:
        yield url


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _with_decisions(url: str) -> None:
    store = Store.open(url, migrate_schema=True)
    try:
        store.create_athlete(CLINICIAN, athlete_id="FC-23")
        injury = store.create_injury(CLINICIAN, "FC-23", region="hamstring", side="right",
                                     date="2026-02-10")
        for name in ("hamstring-footballer-progressive-running-strength-deficit",
                     "hamstring-winger-cleared-to-sprint"):
            assessment = parse_assessment(load_example(name))
            decision = evaluator_for().decide(assessment, evaluated_at=store.now())
            store.record_assessment(CLINICIAN, injury.id, assessment, decision)
    finally:
        store.close()


def test_keys_create_prints_the_key_once_and_it_works(database_url: str) -> None:
    """`keys create` prints only the key on standard output; it authenticates with its role."""
    result = _run("keys", "create", "--role", "auditor", "--name", "Audit Firm",
                  "--database-url", database_url)
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("sck_") and len(key) > 40 and "\n" not in key
    assert "shown only this once" in result.stderr
    store = Store.open(database_url)
    try:
        assert store.authenticate(key).role == "auditor"
        listed = _run("keys", "list", "--database-url", database_url)
        assert "Audit Firm" in listed.stdout and key not in listed.stdout
        key_id = store.list_keys()[0].id
        revoked = _run("keys", "revoke", key_id, "--database-url", database_url)
        assert revoked.exit_code == 0 and "revoked" in revoked.stdout
        assert store.list_keys()[0].revoked_at is not None
        actions = [entry.action for entry in store.audit_entries()]
        assert actions == ["key.create", "key.revoke"]
        assert store.audit_entries()[0].actor["role"] == "operator"
    finally:
        store.close()


def test_keys_refuse_what_cannot_be_done(database_url: str) -> None:
    """An unknown role is a usage error; revoking an unknown key exits 2 naming it."""
    assert _run("keys", "create", "--role", "boss", "--name", "x",
                "--database-url", database_url).exit_code == 2
    assert _run("keys", "create", "--role", "admin", "--name", "first",
                "--database-url", database_url).exit_code == 0
    result = _run("keys", "revoke", "key_nope", "--database-url", database_url)
    assert result.exit_code == 2
    assert "key_nope" in result.stderr


def test_audit_verify_exits_1_and_names_the_entry(database_url: str) -> None:
    """Intact: exit 0 with the head hash; after an edit: exit 1 and the entry's number."""
    _with_decisions(database_url)
    result = _run("audit", "verify", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 6 entries" in result.stdout
    engine = make_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_entries_write_once_delete"))
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    engine.dispose()
    broken = _run("audit", "verify", "--database-url", database_url)
    assert broken.exit_code == 1
    assert "audit chain BROKEN" in broken.stdout
    assert "entry #3 is missing (deleted)" in broken.stdout
    as_json = json.loads(_run("audit", "verify", "--json", "--database-url",
                              database_url).stdout)
    assert as_json["intact"] is False
    assert as_json["first_problem"]["seq"] == 3


def test_audit_replay_lists_changes_and_writes_nothing(database_url: str,
                                                        tmp_path: Path) -> None:
    """With a stricter clinic protocol, replay names the changed decision and why."""
    _with_decisions(database_url)
    document = json.loads(default_protocol_text())
    document["id"], document["version"] = "clinic-strict", "2026.2"
    next(c for c in document["criteria"] if c["id"] == "C302")["parts"][0]["threshold"] = 95
    protocol = tmp_path / "strict.json"
    protocol.write_text(json.dumps(document), "utf-8")
    same = _run("audit", "replay", "--database-url", database_url)
    assert same.exit_code == 0
    assert "0 would change, 2 would not" in same.stdout
    result = _run("audit", "replay", "--protocol", str(protocol), "--database-url",
                  database_url)
    assert result.exit_code == 0, result.output
    assert "1 would change, 1 would not" in result.stdout
    assert "sprint (4) → run (3)" in result.stdout
    assert "needs ≥ 95.0 %" in result.stdout
    as_json = json.loads(_run("audit", "replay", "--json", "--protocol", str(protocol),
                              "--database-url", database_url).stdout)
    assert as_json["would_change"] == 1
    assert _run("audit", "verify", "--database-url", database_url).exit_code == 0


def test_audit_replay_summary_first_and_the_same_with_any_number_of_jobs(
        database_url: str, tmp_path: Path) -> None:
    """The kinds of change come before the cases, no case lists whole activity lists, and
    one process and a pool of two (a chunk each) give byte-identical output (text and
    JSON)."""
    _with_decisions(database_url)
    document = json.loads(default_protocol_text())
    document["id"], document["version"] = "clinic-strict", "2026.2"
    next(c for c in document["criteria"] if c["id"] == "C302")["parts"][0]["threshold"] = 95
    protocol = tmp_path / "strict.json"
    protocol.write_text(json.dumps(document), "utf-8")
    args = ["audit", "replay", "--protocol", str(protocol), "--database-url", database_url,
            "--chunk-size", "1"]
    one, two = _run(*args, "--jobs", "1"), _run(*args, "--jobs", "2")
    assert one.exit_code == two.exit_code == 0, one.output
    assert one.stdout == two.stdout
    text_out = one.stdout
    assert text_out.index("By kind of change") < text_out.index("Cases")
    assert "  1  C302: met → unmet" in text_out
    assert "  1  phase: sprint (4) → run (3)" in text_out
    assert "allowed activities   0 added, 6 removed" in text_out
    assert "sprint_90_100pct" not in text_out  # the list is in --json, not in the cases
    as_json = [_run(*args, "--json", "--jobs", jobs).stdout for jobs in ("1", "2")]
    assert as_json[0] == as_json[1]
    assert json.loads(as_json[0])["summary"][0] == {"kind": "C302: met → unmet", "cases": 1}


def test_commands_on_a_database_that_is_not_there(tmp_path: Path) -> None:
    """Verify on an empty database, or a server that does not answer, exits 3 saying why."""
    empty = _run("audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert empty.exit_code == 3
    assert "sprintclear serve" in empty.stderr
    down = _run("keys", "list", "--database-url",
                "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert down.exit_code == 3
    assert "unavailable" in down.stderr


def test_serve_demo_without_examples_fails_clearly(tmp_path: Path) -> None:
    """`serve --demo` with no examples folder stops before serving and says what to pass."""
    result = _run("serve", "--demo", "--examples", str(tmp_path / "missing"), "--port", "0")
    assert result.exit_code == 3
    assert "--examples" in result.stderr
