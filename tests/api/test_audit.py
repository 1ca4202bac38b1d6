"""The audit chain: every write is an entry; any edit, deletion, insertion or reordering is found.

The tamper tests change rows directly in the database, as someone with access
to it could, after switching off the triggers that otherwise refuse it, and
check that verification fails and names the entry (or record) that was touched.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from support import REMOVE, REPO, load_example, problem, varied

from api.store import Principal, Store
from api.store.audit import entry_hash
from api.store.tables import IMMUTABLE_TABLES, AuditEntryRow
from engine import evaluator_for, parse_assessment

if TYPE_CHECKING:
    from conftest import Service

CLINICIAN = Principal(key_id="key_test", name="Dr. Test", role="clinician")
WINGER = "hamstring-winger-cleared-to-sprint"


def _populate(store: Store) -> dict[str, str]:
    """Nine entries: an athlete, an injury, two assessments with their decisions, a sign-off,
    a key created and revoked."""
    evaluator = evaluator_for()
    store.create_athlete(CLINICIAN, athlete_id="FC-23", name="Jonas Berg")
    injury = store.create_injury(CLINICIAN, "FC-23", region="hamstring", side="right",
                                 date="2026-02-10")
    ids: dict[str, str] = {"injury": injury.id}
    for index, name in enumerate(["hamstring-footballer-progressive-running-strength-deficit",
                                  WINGER]):
        # no previous: this store holds no sign-off for it, and a decision started from a
        # phase not on record cannot be signed
        assessment = parse_assessment(varied(load_example(name), {"previous": REMOVE}))
        decision = evaluator.decide(assessment, evaluated_at=store.now())
        stored = store.record_assessment(CLINICIAN, injury.id, assessment, decision)
        ids[f"assessment{index}"], ids[f"decision{index}"] = stored.assessment_id, stored.id
    signoff = store.sign_off(CLINICIAN, ids["decision0"], action="accept")
    ids["signoff"] = signoff.id
    key = store.create_key(CLINICIAN, role="auditor", name="Audit Firm")
    ids["key"] = key.info.id
    store.revoke_key(CLINICIAN, key.info.id)
    assert store.verify_audit().entries == 9
    return ids


def _tamper(store: Store, *statements: str) -> None:
    """Run SQL as someone with database access would: write-once triggers off first."""
    with store.database.engine.begin() as connection:
        for table in IMMUTABLE_TABLES:
            if store.dialect == "postgresql":
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                for operation in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER IF EXISTS "
                                            f"{table}_write_once_{operation}"))
        for statement in statements:
            connection.exec_driver_sql(statement)
        if store.dialect == "postgresql":
            for table in IMMUTABLE_TABLES:
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def _entry(store: Store, seq: int) -> AuditEntryRow:
    with store.database.reading() as session:
        row = session.get(AuditEntryRow, seq)
        assert row is not None
        session.expunge(row)
        return row


def _forge(store: Store, seq: int, prev_hash: str) -> dict[str, Any]:
    """A well-formed entry numbered ``seq`` linked to ``prev_hash``, with a correct hash."""
    row = AuditEntryRow(seq=seq, at="2026-03-02T10:00:00Z", actor_key_id=None,
                        actor_name="intruder", actor_role="admin", action="key.create",
                        subject="key/key_forged", details='{"name":"backdoor"}',
                        prev_hash=prev_hash, hash="")
    return {"seq": seq, "at": row.at, "name": row.actor_name, "role": row.actor_role,
            "action": row.action, "subject": row.subject, "details": row.details,
            "prev": prev_hash, "hash": entry_hash(row)}


def _renumber(first: int, by: int) -> list[str]:
    """Statements that add ``by`` to every entry number from ``first`` on (two steps, so no
    number is ever held twice)."""
    return [f"UPDATE audit_entries SET seq = -seq WHERE seq >= {first}",
            f"UPDATE audit_entries SET seq = -seq + ({by}) WHERE seq < 0"]


def test_every_write_appends_a_linked_entry(store: Store) -> None:
    """Nine writes give nine entries numbered 1–9, each holding the previous one's hash."""
    _populate(store)
    entries = store.audit_entries(limit=1000)
    assert [e.seq for e in entries] == list(range(1, 10))
    assert [e.action for e in entries] == [
        "athlete.create", "injury.create", "assessment.create", "decision.create",
        "assessment.create", "decision.create", "signoff.accept", "key.create", "key.revoke"]
    assert entries[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash
               for earlier, later in itertools.pairwise(entries))
    result = store.verify_audit()
    assert result.intact
    assert result.records_checked == 8
    assert (result.head_seq, result.head_hash) == (9, entries[-1].hash)


@pytest.mark.parametrize("table", ["audit_entries", "assessments", "decisions", "signoffs"])
def test_the_database_refuses_to_change_written_records(store: Store, table: str) -> None:
    """UPDATE and DELETE of a clinical record or an audit entry fail in the database itself."""
    _populate(store)
    for statement in (f"UPDATE {table} SET {'seq' if table == 'audit_entries' else 'id'} = "
                      f"{'seq' if table == 'audit_entries' else 'id'}", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="written once"), \
                store.database.engine.begin() as connection:
            connection.execute(text(statement))
    assert store.verify_audit().intact


def _case(name: str, store: Store) -> list[str]:
    fourth, third = _entry(store, 4), _entry(store, 3)
    if name == "edit-details":
        return ["UPDATE audit_entries SET details = replace(details, 'run', 'play') "
                "WHERE seq = 4"]
    if name == "edit-actor":
        return ["UPDATE audit_entries SET actor_name = 'Someone Else' WHERE seq = 4"]
    if name == "edit-and-rehash":
        fourth.actor_name = "Someone Else"
        return [f"UPDATE audit_entries SET actor_name = 'Someone Else', "
                f"hash = '{entry_hash(fourth)}' WHERE seq = 4"]
    if name == "delete-middle":
        return ["DELETE FROM audit_entries WHERE seq = 4"]
    if name == "delete-last":
        return ["DELETE FROM audit_entries WHERE seq = 9"]
    if name == "delete-and-renumber":
        return ["DELETE FROM audit_entries WHERE seq = 4", *_renumber(5, -1)]
    if name == "insert-at-end":
        return [_bind_insert(_forge(store, 10, _entry(store, 9).hash))]
    if name == "insert-and-renumber":
        forged = _forge(store, 4, third.hash)
        return [*_renumber(4, 1), _bind_insert(forged)]
    if name == "reorder-swap-numbers":
        return ["UPDATE audit_entries SET seq = -4 WHERE seq = 3",
                "UPDATE audit_entries SET seq = 3 WHERE seq = 4",
                "UPDATE audit_entries SET seq = 4 WHERE seq = -4"]
    assert name == "head-rewritten"
    return ["UPDATE audit_head SET hash = '" + "f" * 64 + "'"]


def _bind_insert(forged: dict[str, Any]) -> str:
    values = ", ".join(["'" + str(forged[k]).replace("'", "''") + "'" if k != "seq"
                        else str(forged[k])
                        for k in ("seq", "at", "name", "role", "action", "subject", "details",
                                  "prev", "hash")])
    return ("INSERT INTO audit_entries (seq, at, actor_name, actor_role, action, subject, "
            f"details, prev_hash, hash) VALUES ({values})")


CHAIN_TAMPERING = [
    ("edit-details", "edited", 4),
    ("edit-actor", "edited", 4),
    ("edit-and-rehash", "edited", 4),
    ("delete-middle", "deleted", 4),
    ("delete-last", "deleted", 9),
    ("delete-and-renumber", "deleted", 4),
    ("insert-at-end", "inserted", 10),
    ("insert-and-renumber", "inserted", 4),
    ("reorder-swap-numbers", "reordered", 3),
    ("head-rewritten", "edited", 9),
]


@pytest.mark.parametrize(("case", "kind", "seq"), CHAIN_TAMPERING)
def test_tampering_with_the_chain_is_found_and_named(store: Store, case: str, kind: str,
                                                     seq: int) -> None:
    """Verification fails and its first problem is the entry that was touched, and how."""
    _populate(store)
    _tamper(store, *_case(case, store))
    result = store.verify_audit()
    assert not result.intact
    first = result.first_problem
    assert first is not None
    assert (first.kind, first.seq) == (kind, seq), result.problems
    assert f"#{seq}" in first.message


def _record_case(name: str, ids: dict[str, str]) -> tuple[list[str], str]:
    if name == "edit-assessment-document":
        return ([f"UPDATE assessments SET document = replace(document, '\"rest\":0', "
                 f"'\"rest\":1') WHERE id = '{ids['assessment1']}'"],
                f"assessment/{ids['assessment1']}")
    if name == "edit-decided-phase":
        return ([f"UPDATE decisions SET phase_id = 'play', phase_number = 6 "
                 f"WHERE id = '{ids['decision1']}'"], f"decision/{ids['decision1']}")
    if name == "edit-decision-json":
        return ([f"UPDATE decisions SET decision_json = replace(decision_json, "
                 f"'\"cleared_to_play\":false', '\"cleared_to_play\":true') "
                 f"WHERE id = '{ids['decision1']}'"], f"decision/{ids['decision1']}")
    if name == "edit-signoff-to-override":
        return ([f"UPDATE signoffs SET action = 'override', signed_phase = 'play' "
                 f"WHERE id = '{ids['signoff']}'"], f"signoff/{ids['signoff']}")
    if name == "delete-signoff":
        return ([f"DELETE FROM signoffs WHERE id = '{ids['signoff']}'"],
                f"signoff/{ids['signoff']}")
    if name == "insert-athlete":
        return (["INSERT INTO athletes (id, created_at) VALUES ('GHOST-1', "
                 "'2026-03-01T00:00:00Z')"], "athlete/GHOST-1")
    if name == "escalate-key-role":
        return ([f"UPDATE api_keys SET role = 'admin' WHERE id = '{ids['key']}'"],
                f"key/{ids['key']}")
    assert name == "unrevoke-key"
    return ([f"UPDATE api_keys SET revoked_at = NULL WHERE id = '{ids['key']}'"],
            f"key/{ids['key']}")


RECORD_TAMPERING = [
    ("edit-assessment-document", "edited"),
    ("edit-decided-phase", "edited"),
    ("edit-decision-json", "edited"),
    ("edit-signoff-to-override", "edited"),
    ("delete-signoff", "deleted"),
    ("insert-athlete", "inserted"),
    ("escalate-key-role", "edited"),
    ("unrevoke-key", "edited"),
]


@pytest.mark.parametrize(("case", "kind"), RECORD_TAMPERING)
def test_tampering_with_a_record_is_found_and_named(store: Store, case: str,
                                                    kind: str) -> None:
    """A record that no longer matches what its audit entry vouched for is named."""
    ids = _populate(store)
    statements, subject = _record_case(case, ids)
    _tamper(store, *statements)
    result = store.verify_audit()
    assert not result.intact
    first = result.first_problem
    assert first is not None
    assert (first.kind, first.subject) == (kind, subject), result.problems
    assert subject in first.message


def test_verify_endpoint_reports_the_break(service: Service) -> None:
    """GET /v1/audit/verify says intact, then after an edit names the edited entry."""
    service.stored_decision()
    ok = service.client.get("/v1/audit/verify", headers=service.as_("auditor")).json()
    assert ok["intact"] is True and ok["problems"] == []
    _tamper(service.store, "UPDATE audit_entries SET at = '2020-01-01T00:00:00Z' WHERE seq = 6")
    broken = service.client.get("/v1/audit/verify", headers=service.as_("auditor")).json()
    assert broken["intact"] is False
    assert broken["first_problem"]["seq"] == 6
    assert broken["first_problem"]["kind"] == "edited"


def _writers(store: Store, count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_writers_keep_one_unbroken_chain(store: Store) -> None:
    """Eight threads storing assessments and athletes at once: every write lands, one chain."""
    evaluator = evaluator_for()
    store.create_athlete(CLINICIAN, athlete_id="FC-23")
    injury = store.create_injury(CLINICIAN, "FC-23", region="hamstring", side="right",
                                 date="2026-02-10")
    base = load_example(WINGER)

    def work(index: int) -> None:
        for round_ in range(4):
            store.create_athlete(CLINICIAN, athlete_id=f"T{index}-{round_}")
            assessment = parse_assessment(varied(base, {
                "assessment.assessor": f"writer {index} round {round_}"}))
            decision = evaluator.decide(assessment, evaluated_at=store.now())
            store.record_assessment(CLINICIAN, injury.id, assessment, decision)

    errors = _writers(store, 8, work)
    assert errors == []
    result = store.verify_audit()
    assert result.intact, result.problems
    assert result.entries == 2 + 8 * 4 * 3
    assert [e.seq for e in store.audit_entries(limit=1000)] == list(range(1, result.entries + 1))


_PROCESS_WRITER = """
import sys
from api.store import Principal, Store
store = Store.open(sys.argv[1])
actor = Principal(key_id=None, name="process " + sys.argv[2], role="operator")
for n in range(15):
    store.create_athlete(actor, athlete_id=f"P{sys.argv[2]}-{n}")
store.close()
"""


def test_concurrent_processes_keep_one_unbroken_chain(database_url: str, store: Store) -> None:
    """Three processes writing to the same database at once leave one intact chain."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [subprocess.Popen([sys.executable, "-c", _PROCESS_WRITER, database_url, str(i)],
                                  env=env, stderr=subprocess.PIPE, text=True)
                 for i in range(3)]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    result = store.verify_audit()
    assert result.intact, result.problems
    assert result.entries == 45


def test_a_deleted_decision_is_reported_not_a_crash(service: Service) -> None:
    """An assessment whose decision row was deleted outside sprintclear: the timeline answers
    with a message pointing to the audit check, and the check names the deleted record."""
    stored = service.stored_decision()
    _tamper(service.store, f"DELETE FROM decisions WHERE id = '{stored['id']}'")
    response = service.client.get(f"/v1/athletes/{stored['athlete_id']}/timeline",
                                  headers=service.as_("clinician"))
    assert response.status_code == 500
    assert "audit verify" in problem(response)["detail"]
    result = service.store.verify_audit()
    assert not result.intact
    assert any(p.kind == "deleted" and stored["id"] in p.subject for p in result.problems)
