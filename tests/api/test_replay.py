"""Replay: stored assessments decided again with another rule base; history untouched."""

from __future__ import annotations

import json
from pathlib import Path

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
