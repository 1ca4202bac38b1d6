"""The audit page: the chain check, the decision log and its filters, the trail; the key list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from page_support import Page
from sqlalchemy import text
from support import REMOVE, load_example, varied

from api.store import Principal, Store
from api.store.tables import IMMUTABLE_TABLES
from engine import evaluator_for, parse_assessment

if TYPE_CHECKING:
    from conftest import Service

CLINICIAN = Principal(key_id="key_test", name="Dr. Test", role="clinician")
WINGER = "hamstring-winger-cleared-to-sprint"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _store_visits(store: Store) -> list[str]:
    """Two athletes; FC-23 with three visits (one corrected). The decision ids, in order."""
    evaluator = evaluator_for()
    ids = []
    for athlete in ("FC-23", "ATH-1"):
        store.create_athlete(CLINICIAN, athlete_id=athlete)
    injury = store.create_injury(CLINICIAN, "FC-23", region="hamstring", side="right",
                                 date="2026-02-10")
    other = store.create_injury(CLINICIAN, "ATH-1", region="hamstring", side="right",
                                date="2026-02-10")
    supersedes = None
    for athlete, where, date, pain in (("FC-23", injury.id, "2026-03-03", 0),
                                       ("FC-23", injury.id, "2026-03-17", 0),
                                       ("FC-23", injury.id, "2026-03-17", 1),
                                       ("ATH-1", other.id, "2026-03-10", 0)):
        # no previous: nothing is signed in this store (a decision started from a phase not
        # on record cannot be signed); each is capped at run (R6)
        document = varied(load_example(WINGER), {"athlete.id": athlete,
                                                 "assessment.date": date, "pain.rest": pain,
                                                 "previous": REMOVE})
        assessment = parse_assessment(document)
        decision = evaluator.decide(assessment, evaluated_at=store.now())
        stored = store.record_assessment(CLINICIAN, where, assessment, decision,
                                         supersedes=supersedes if pain else None)
        supersedes = stored.assessment_id
        ids.append(stored.id)
    return ids


def test_the_decision_log_filters_by_athlete_and_assessment_date(store: Store) -> None:
    """Newest first; one athlete; dates inclusive at both ends; the limit says there is more."""
    ids = _store_visits(store)
    every, more = store.decision_log()
    assert [e.decision.id for e in every] == [ids[2], ids[1], ids[3], ids[0]] and not more
    assert every[1].superseded_by == every[0].id and every[0].supersedes == every[1].id
    mine, _ = store.decision_log(athlete_id="ATH-1")
    assert [e.decision.id for e in mine] == [ids[3]]
    window, _ = store.decision_log(assessed_from="2026-03-10", assessed_to="2026-03-17")
    assert [e.decision.id for e in window] == [ids[2], ids[1], ids[3]]
    first, more = store.decision_log(limit=2)
    assert len(first) == 2 and more
    assert store.decision_log(athlete_id="NOBODY") == ([], False)


@sqlite_only
def test_the_audit_page_shows_the_log_the_check_and_the_trail(service: Service,
                                                              visitors: Any) -> None:
    """Intact chain with its head; the log with sign-offs; the trail with who did what."""
    ids = _store_visits(service.store)
    service.store.sign_off(CLINICIAN, ids[3], action="override", phase="load",
                           reason="Hamstring tight after the flight")
    page = visitors("auditor").page("/audit")
    assert "✓ Audit chain intact" in page.by_id("chain-title").text
    head = service.store.verify_audit()
    assert head.head_hash in page.by_id("chain").text
    assert "Hamstring tight after the flight" in page.text
    assert "superseded by its correction" in page.text  # a link, not "awaiting sign-off"
    trail = [r.text for r in page.all("tr") if r.text.split()[:1] == [str(head.head_seq)]]
    assert trail and "signoff.override" in trail[0] and "Dr. Test" in trail[0]


@sqlite_only
def test_the_audit_page_filters(service: Service, visitors: Any) -> None:
    """By athlete and date range; a wrong date or an unknown athlete is said, not a 500."""
    _store_visits(service.store)
    auditor = visitors("auditor")
    one = auditor.page("/audit?athlete=ATH-1&from=&to=")
    assert "1 decision," in one.text
    window = auditor.page("/audit?from=2026-03-17&to=2026-03-17")
    assert "2 decisions" in window.text
    bad = auditor.get("/audit?from=17/03/2026&athlete=NOBODY")
    assert bad.status_code == 422
    text = Page(bad.text).text
    assert "from: must be a date YYYY-MM-DD (got '17/03/2026')" in text
    assert "no athlete has the id 'NOBODY'" in text
    reversed_range = Page(auditor.get("/audit?from=2026-03-18&to=2026-03-01").text).text
    assert "is after to" in reversed_range


@sqlite_only
def test_a_broken_chain_is_said_on_the_page(service: Service, visitors: Any) -> None:
    """An entry edited behind the service's back: the page says BROKEN and names the entry."""
    _store_visits(service.store)
    with service.store.database.engine.begin() as connection:  # as an intruder would
        for table in IMMUTABLE_TABLES:
            for operation in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_write_once_{operation}"))
        connection.exec_driver_sql("UPDATE audit_entries SET at = '2020-01-01T00:00:00Z' "
                                   "WHERE seq = 6")
    page = visitors("auditor").page("/audit")
    assert "AUDIT CHAIN BROKEN" in page.by_id("chain-title").text
    assert "edited at entry #6" in page.by_id("chain").text


@sqlite_only
def test_the_trail_pages_back(service: Service, visitors: Any) -> None:
    """Fifty entries a page, latest first, with a link to the earlier ones."""
    for index in range(60):
        service.store.create_athlete(CLINICIAN, athlete_id=f"A-{index:02}")
    auditor = visitors("auditor")
    page = auditor.page("/audit")
    numbers = [int(r.text.split()[0]) for r in page.all("tr") if r.text[:1].isdigit()]
    head = service.store.verify_audit().head_seq
    assert numbers[:50] == list(range(head, head - 50, -1))
    earlier = [a.attrs["href"] for a in page.all("a") if a.text == "Earlier entries"]
    assert earlier and earlier[0].startswith(f"/audit?before={head - 49}")
    older = auditor.page(earlier[0])
    assert [int(r.text.split()[0]) for r in older.all("tr") if r.text[:1].isdigit()][:1] == [
        head - 50]


@sqlite_only
def test_the_admin_lists_keys_but_never_the_keys(service: Service, visitors: Any) -> None:
    """Holders, roles and revocation; no key's secret appears on the page."""
    page = visitors("admin").page("/keys")
    for role, key in service.keys.items():
        assert f"test {role}" in page.text
        assert key not in page.html


def _untrigger(store: Store, statement: str) -> None:
    with store.database.engine.begin() as connection:  # as an intruder would
        for table in IMMUTABLE_TABLES:
            for operation in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_write_once_{operation}"))
        connection.exec_driver_sql(statement)


@sqlite_only
def test_a_visit_verifies_only_the_entries_after_the_verified_checkpoint(
        service: Service, visitors: Any) -> None:
    """First visit: the whole chain, then a checkpoint; later visits: only newer entries (an
    edit after the checkpoint is found, one before it only by the full check)."""
    _store_visits(service.store)
    auditor = visitors("auditor")
    first = auditor.page("/audit").by_id("chain").text
    head = service.store.verify_audit().head_seq
    assert f"the whole chain, {head} entries" in first
    service.store.create_athlete(CLINICIAN, athlete_id="NEW-1")
    service.store.create_athlete(CLINICIAN, athlete_id="NEW-2")
    second = auditor.page("/audit").by_id("chain").text
    assert f"the 2 entries after the verified checkpoint at entry #{head}" in second
    _untrigger(service.store, "UPDATE athletes SET name = 'Someone Else' WHERE id = 'FC-23'")
    assert "✓ Audit chain intact" in auditor.page("/audit").by_id("chain-title").text
    assert not service.store.verify_audit().intact  # `sprintclear audit verify` finds it
    service.store.create_athlete(CLINICIAN, athlete_id="NEW-3")
    _untrigger(service.store, "UPDATE athletes SET name = 'Forged' WHERE id = 'NEW-3'")
    broken = auditor.page("/audit").by_id("chain").text
    assert "AUDIT CHAIN BROKEN" in broken and "athlete/NEW-3 was edited" in broken


@sqlite_only
def test_the_athlete_filter_applies_to_the_trail_with_names_and_links(
        service: Service, visitors: Any) -> None:
    """Only ATH-1's records in the trail; subjects by name, linked to their pages."""
    ids = _store_visits(service.store)
    page = visitors("auditor").page("/audit?athlete=ATH-1")
    trail = page.html.split('id="trail-title"', 1)[1]
    assert "FC-23" not in trail.split("<details>")[0]
    actions = [c.text for c in Page(trail).all("code") if "." in c.text and "_" not in c.text]
    assert actions == ["decision.create", "assessment.create", "injury.create",
                       "athlete.create"]
    assert f'href="/decisions/{ids[3]}"' in trail and 'href="/athletes/ATH-1"' in trail
    assert "decision of ATH-1, assessment of 2026-03-10" in Page(trail).text


@sqlite_only
def test_the_filtered_log_exports_as_csv(service: Service, visitors: Any) -> None:
    """One row per decision of the filter, with its status and sign-off; formulas defused."""
    import csv
    import io

    ids = _store_visits(service.store)
    service.store.sign_off(CLINICIAN, ids[3], action="override", phase="load",
                           reason="=HYPERLINK(\"x\")")
    auditor = visitors("auditor")
    response = auditor.get("/audit/log.csv?athlete=ATH-1")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["decision_id"] for r in rows] == [ids[3]]
    assert rows[0]["status"] == "signed" and rows[0]["signed_phase"] == "load"
    assert rows[0]["reason"].startswith("'=")
    every = list(csv.DictReader(io.StringIO(auditor.get("/audit/log.csv").text)))
    states = {r["decision_id"]: r["status"] for r in every}
    assert states[ids[1]] == "superseded" and states[ids[2]] == "pending"
    assert next(r for r in every if r["decision_id"] == ids[1])[
        "superseded_by_decision"] == ids[2]
    assert auditor.get("/audit/log.csv?from=nope").status_code == 422


FOOTBALLER = "hamstring-footballer-progressive-running-strength-deficit"
INSURER = Principal(key_id="key_ins", name="Acme Mutual claims", role="insurer")


def _reads_section(page: Page) -> Page:
    return Page(page.html.split('id="reads-title"', 1)[1])


@sqlite_only
def test_the_access_log_shows_reads_by_name_with_links_filtered(service: Service,
                                                                visitors: Any) -> None:
    """An insurer's API read and an auditor's page read appear, latest first, with who, what,
    the athlete by name and the decision linked; the athlete and date filters apply; the
    visit to the audit page itself is not recorded."""
    service.athlete("FC-23", name="Jonas Berg")
    stored = service.stored_decision(FOOTBALLER)
    assert service.client.post(f"/v1/decisions/{stored['id']}/signoff", json={
        "action": "accept"}, headers=service.as_("clinician")).status_code == 201
    assert service.client.get(f"/v1/decisions/{stored['id']}",
                              headers=service.as_("insurer")).status_code == 200
    auditor = visitors("auditor")
    auditor.page(f"/decisions/{stored['id']}")
    before = service.store.count("access_log")
    reads = _reads_section(auditor.page("/audit"))
    assert service.store.count("access_log") == before == 2
    rows = [r.text for r in reads.all("tr") if r.text[:1].isdigit()]
    assert len(rows) == 2
    assert "test auditor" in rows[0] and "auditor" in rows[0] and "via a page" in rows[0]
    assert "test insurer" in rows[1] and "read the decision" in rows[1] and "via the API" in rows[1]
    assert "decision of Jonas Berg, assessment of" in rows[1]
    assert f'href="/decisions/{stored["id"]}"' in reads.html
    assert 'href="/athletes/FC-23"' in reads.html
    for query in ("athlete=ATH-1", "from=2026-05-01&to=2026-05-31"):
        if query.startswith("athlete"):
            service.athlete("ATH-1")
        none = _reads_section(auditor.page(f"/audit?{query}"))
        assert "No read matches." in none.text, query
    same_day = _reads_section(auditor.page("/audit?athlete=FC-23&from=2026-06-01&to=2026-06-01"))
    assert len([r for r in same_day.all("tr") if r.text[:1].isdigit()]) == 2


@sqlite_only
def test_the_access_log_pages_back(service: Service, visitors: Any) -> None:
    """Fifty reads a page, latest first, with a link to the earlier ones."""
    for _ in range(55):
        service.store.record_read(INSURER, action="report.read", decision_id="dec_gone",
                                  athlete_id="FC-23", via="api")
    auditor = visitors("auditor")
    reads = _reads_section(auditor.page("/audit"))
    numbers = [int(r.text.split()[0]) for r in reads.all("tr") if r.text[:1].isdigit()]
    assert numbers == list(range(55, 5, -1))
    assert "downloaded the report" in reads.text and "decision/dec_gone" in reads.text
    earlier = [a.attrs["href"] for a in reads.all("a") if a.text == "Earlier reads"]
    assert earlier == ["/audit?reads_before=6#reads-title"]
    older = _reads_section(auditor.page(earlier[0]))
    assert [int(r.text.split()[0]) for r in older.all("tr") if r.text[:1].isdigit()] == [
        5, 4, 3, 2, 1]


@sqlite_only
def test_the_filtered_access_log_exports_as_its_own_csv(service: Service,
                                                        visitors: Any) -> None:
    """/audit/access-log.csv: one row per read of the filter, latest first, with the
    reader, the decision and the athlete's name; formulas defused; a bad filter is 422."""
    import csv
    import io

    ids = _store_visits(service.store)
    service.store.record_read(INSURER, action="decision.read", decision_id=ids[3],
                              athlete_id="ATH-1", via="api")
    service.store.record_read(Principal(key_id="key_x", name="=cmd|' /C calc'!A0",
                                        role="auditor"),
                              action="report.read", decision_id=ids[0], athlete_id="FC-23",
                              via="page")
    auditor = visitors("auditor")
    page = auditor.page("/audit?athlete=ATH-1")
    assert page.all("a", href="/audit/access-log.csv?athlete=ATH-1")
    assert page.all("a", href="/audit/log.csv?athlete=ATH-1")
    response = auditor.get("/audit/access-log.csv?athlete=ATH-1")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/csv")
    assert "access-log" in response.headers["content-disposition"]
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["reader_name"], row["reader_role"], row["action"], row["via"]) == (
        "Acme Mutual claims", "insurer", "decision.read", "api")
    assert (row["decision_id"], row["athlete_id"], row["assessment_date"]) == (
        ids[3], "ATH-1", "2026-03-10")
    every = list(csv.DictReader(io.StringIO(auditor.get("/audit/access-log.csv").text)))
    assert [r["decision_id"] for r in every] == [ids[0], ids[3]]
    assert every[0]["reader_name"].startswith("'=")
    assert auditor.get("/audit/access-log.csv?to=nope").status_code == 422
    assert visitors("insurer").get("/audit/access-log.csv").status_code == 403
