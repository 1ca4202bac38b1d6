"""Replay: stored assessments decided again with another rule base; history untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from support import load_example

from api.replay import compare_decisions, replay
from api.store import Principal, Store
from engine import evaluator_for, parse_assessment
from engine.decide import Evaluator
from rules.loading import default_protocol_text, load_protocol

CLINICIAN = Principal(key_id=None, name="Dr. Test", role="clinician")
STORIES = ["hamstring-footballer-progressive-running-strength-deficit",
           "hamstring-winger-cleared-to-sprint", "hamstring-symptom-flare-next-morning-pain"]


def _stored(store: Store) -> None:
    evaluator = evaluator_for()
    for name in STORIES:
        document = load_example(name)
        athlete, injury = document["athlete"], document["injury"]
        if not any(a.id == athlete["id"] for a in store.list_athletes()):
            store.create_athlete(CLINICIAN, athlete_id=athlete["id"])
        episodes = store.list_injuries(athlete["id"])
        episode = episodes[0] if episodes else store.create_injury(
            CLINICIAN, athlete["id"], region=injury["region"], side=injury["side"],
            date=injury["date"])
        assessment = parse_assessment(document)
        store.record_assessment(CLINICIAN, episode.id, assessment,
                                evaluator.decide(assessment, evaluated_at=store.now()))


def stricter_protocol(tmp_path: Path) -> Evaluator:
    """The default protocol with C302 (isometric 90/90 symmetry) raised from 90 % to 95 %."""
    document = json.loads(default_protocol_text())
    document["id"], document["version"] = "clinic-strict", "2026.2"
    c302 = next(c for c in document["criteria"] if c["id"] == "C302")
    c302["parts"][0]["threshold"] = 95
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(document), "utf-8")
    return evaluator_for(load_protocol(path))


def test_the_same_rule_base_changes_nothing(store: Store) -> None:
    """Replayed with the rule base that decided them, no decision would change."""
    _stored(store)
    report = replay(store, evaluator_for())
    assert (report.replayed, report.changed) == (3, ())


def test_a_stricter_threshold_lists_what_would_change_and_why(store: Store,
                                                              tmp_path: Path) -> None:
    """Raising C302 to 95 % takes the winger (LSI 92.4 %) and the flare case (92.4 %) back
    from sprint, says so criterion by criterion, and leaves everything stored as it was."""
    _stored(store)
    entries = store.verify_audit()
    before = [(item.decision_id, item.decision_json) for item in store.stored_assessments()]
    report = replay(store, stricter_protocol(tmp_path))
    assert report.protocol == "clinic-strict"
    assert report.replayed == 3
    changed = {item.athlete_id: item for item in report.changed}
    assert set(changed) == {"FC-23", "ATH-0588"}
    winger = {change.what: change for change in changed["FC-23"].changes}
    assert (winger["phase"].before, winger["phase"].after) == ("sprint (4)", "run (3)")
    assert "C302 met → unmet" in winger["phase"].why
    assert "needs ≥ 95.0 %" in winger["C302"].why and "needs ≥ 90.0 %" in winger["C302"].why
    assert (winger["cleared to sprint"].before, winger["cleared to sprint"].after) == ("yes",
                                                                                      "no")
    assert "−sprint_90_100pct" in winger["allowed activities"].why
    assert [(i.decision_id, i.decision_json) for i in store.stored_assessments()] == before
    assert store.verify_audit() == entries


def test_an_input_no_longer_accepted_is_listed(store: Store) -> None:
    """A stored input the data dictionary now refuses is reported with its problems."""
    _stored(store)
    with store.database.engine.begin() as connection:
        if store.dialect == "postgresql":
            connection.execute(text("ALTER TABLE assessments DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER assessments_write_once_update"))
        connection.exec_driver_sql("UPDATE assessments SET document = replace(document, "
                                   "'\"rest\":0', '\"rest\":11')")
    report = replay(store, evaluator_for())
    assert report.changed
    assert report.changed[0].problems[0].field == "pain.rest"


def test_compare_names_added_and_removed_red_flags() -> None:
    """A red flag that appears is listed with what triggered it."""
    evaluator = evaluator_for()
    calm = load_example("hamstring-winger-cleared-to-sprint")
    flare = json.loads(json.dumps(calm))
    flare["pain"]["next_morning"] = 4
    before = json.loads(evaluator.decide(calm).to_json())
    after = json.loads(evaluator.decide(flare).to_json())
    changes = {c.what: c for c in compare_decisions(before, after)}
    assert changes["red flag R3"].after == "raised"
    assert "next-morning pain 4" in changes["red flag R3"].why
    assert changes["phase"].after == "load (2)"  # a flare steps back from the signed run


# ---- the signed phase, chunks ------------------------------------------------------------

from api.store.replay_reads import archive_chunks  # noqa: E402


def _strip_previous_date(store: Store) -> None:
    """Make the stored inputs look like 2026.1 ones: previous.phase without previous.date."""
    with store.database.engine.begin() as connection:
        if store.dialect == "postgresql":
            connection.execute(text("ALTER TABLE assessments DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER assessments_write_once_update"))
        for assessment_id, document in connection.execute(
                text("SELECT id, document FROM assessments")).all():
            data = json.loads(document)
            if "previous" in data:
                data["previous"].pop("date", None)
            connection.execute(text("UPDATE assessments SET document = :d WHERE id = :i"),
                               {"d": json.dumps(data, sort_keys=True, separators=(",", ":")),
                                "i": assessment_id})


def test_a_stored_input_without_previous_date_takes_previous_from_the_sign_offs(
        store: Store) -> None:
    """The winger's second visit, stored with previous.phase alone, is decided with the
    phase signed for the first visit and that visit's date, and the case says so; the first
    visit (nothing signed before it) is decided without previous."""
    evaluator = evaluator_for()
    store.create_athlete(CLINICIAN, athlete_id="FC-23")
    first_doc = load_example("hamstring-winger-cleared-to-sprint")
    injury = store.create_injury(CLINICIAN, "FC-23", region=first_doc["injury"]["region"],
                                 side=first_doc["injury"]["side"],
                                 date=first_doc["injury"]["date"])
    first_doc = json.loads(json.dumps(first_doc))
    first_doc["assessment"]["date"] = first_doc["previous"]["date"]
    first_doc.pop("previous")
    first = parse_assessment(first_doc)
    stored_first = store.record_assessment(CLINICIAN, injury.id, first,
                                           evaluator.decide(first, evaluated_at=store.now()))
    phase = load_example("hamstring-winger-cleared-to-sprint")["previous"]["phase"]
    if stored_first.summary.phase.id == phase:
        store.sign_off(CLINICIAN, stored_first.id, action="accept")
    else:
        store.sign_off(CLINICIAN, stored_first.id, action="override", phase=phase,
                       reason="reviewed in person")
    second = parse_assessment(load_example("hamstring-winger-cleared-to-sprint"))
    store.record_assessment(CLINICIAN, injury.id, second,
                            evaluator.decide(second, evaluated_at=store.now()))
    _strip_previous_date(store)
    report = replay(store, evaluator)
    assert report.replayed == 2
    assert report.previous_supplied == 1
    assert report.changed == ()  # the same previous as the service filled: the same decision
    signed = load_example("hamstring-winger-cleared-to-sprint")["previous"]
    from api.replay import replay_one
    from api.store.replay_reads import archived_decisions, signed_visits
    bounds = next(archive_chunks(store.database, 10))
    items = list(archived_decisions(store.database, bounds.after, bounds.last))
    steps = signed_visits(store.database, {injury.id})[injury.id]
    case = replay_one(items[1], evaluator, steps)
    assert case.previous_supplied == (
        f"stored input had previous.phase {signed['phase']} without a date; from the store's "
        f"sign-offs: {signed['phase']} (assessment of {signed['date']})")
    assert not case.changed


def test_chunks_cover_the_archive_once_in_storage_order(store: Store) -> None:
    """Chunks of 2 over 3 stored assessments: 2 + 1, in storage order, each read once."""
    _stored(store)
    chunks = list(archive_chunks(store.database, 2))
    assert [c.size for c in chunks] == [2, 1]
    assert chunks[1].after == chunks[0].last
    whole = [item.decision_id for item in store.stored_assessments()]
    from api.store.replay_reads import archived_decisions
    read = [item.decision_id for c in chunks
            for item in archived_decisions(store.database, c.after, c.last)]
    assert read == whole


def _archive_with_ties(path: Any, created: list[int], ids: list[int]) -> Store:
    """A migrated SQLite copy holding one assessment (and decision) per entry: stored at
    second ``created[i]`` (many share one) with id ``asm-{ids[i]:03d}``."""
    from sqlalchemy import insert

    from api.store.tables import AssessmentRow, AthleteRow, DecisionRow, InjuryRow

    store = Store.open(f"sqlite:///{path}")
    with store.database.engine.begin() as connection:
        connection.execute(insert(AthleteRow), [{"id": "A", "created_at": "2026-06-01"}])
        connection.execute(insert(InjuryRow), [{
            "id": f"inj-{i}", "athlete_id": "A", "region": "calf", "side": "left",
            "date": f"2026-05-{i + 1:02d}", "created_at": "2026-06-01"} for i in range(3)])
        for second, number in zip(created, ids, strict=True):
            text = f'{{"n":{number}}}'
            connection.execute(insert(AssessmentRow), [{
                "id": f"asm-{number:03d}", "athlete_id": "A", "injury_id": f"inj-{number % 3}",
                "supersedes": None, "assessment_date": "2026-06-01", "document": text,
                "input_sha256": f"{number:064d}", "created_at": f"2026-06-01T00:00:0{second}Z"}])
            connection.execute(insert(DecisionRow), [{
                "id": f"dec-{number:03d}", "assessment_id": f"asm-{number:03d}",
                "input_sha256": f"{number:064d}", "rulebase_version": "v",
                "protocol_id": "p", "protocol_version": "1", "evaluated_at": "2026-06-01",
                "phase_number": 1, "phase_id": "protect", "criteria_phase_number": 1,
                "criteria_phase_id": "protect", "cleared_to_sprint": False,
                "cleared_to_play": False, "summary": "{}", "decision_json": text,
                "decision_sha256": f"{number:064d}"}])
    return store


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), size=st.integers(1, 7))
def test_chunk_bounds_partition_the_archive_whatever_the_ties(
        sqlite_template: Any, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject,
        size: int) -> None:
    """Property (replay, issue 11 item 4): the chunks' bounds on (created_at, id), compared
    as row values through the index of migration 0005, give every stored assessment
    exactly once, in storage order, however many share one created_at and whatever the
    chunk size; each chunk's injuries are those of its assessments."""
    import shutil

    from api.store.replay_reads import archived_decisions, chunk_injuries

    count = data.draw(st.integers(1, 25))
    created = data.draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    ids = data.draw(st.permutations(range(count)))
    path = tmp_path_factory.mktemp("ties") / "archive.sqlite3"
    shutil.copy(sqlite_template, path)
    store = _archive_with_ties(path, created, list(ids))
    try:
        chunks = list(archive_chunks(store.database, size))
        read = [[item.assessment_id for item in archived_decisions(
            store.database, chunk.after, chunk.last)] for chunk in chunks]
        expected = [f"asm-{number:03d}" for _, number in sorted(zip(created, ids, strict=True))]
        assert [a for chunk in read for a in chunk] == expected
        assert [len(chunk) for chunk in read] == [chunk.size for chunk in chunks]
        assert all(chunk.size == size for chunk in chunks[:-1])
        for chunk, assessments in zip(chunks, read, strict=True):
            assert chunk_injuries(store.database, chunk.after, chunk.last) == {
                f"inj-{int(a[4:]) % 3}" for a in assessments}
    finally:
        store.close()
