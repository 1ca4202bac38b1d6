"""The squad page, the athlete page, and adding athletes and injuries through pages."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from page_support import Page
from support import load_example, varied

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

WINGER = "hamstring-winger-cleared-to-sprint"
FOOTBALLER = "hamstring-footballer-progressive-running-strength-deficit"


def _row(page: Page, athlete_id: str) -> str:
    rows = [r for r in page.all("tr") if f"/athletes/{athlete_id}" in r.text or
            athlete_id in r.text.split()]
    assert len(rows) == 1, [r.text[:80] for r in rows]
    return rows[0].text


def test_the_squad_shows_the_signed_phase_and_a_pending_recommendation_apart(
        service: Service, visitors: Any) -> None:
    """Each athlete: the signed phase in force (none yet: not cleared), a recommendation
    awaiting sign-off as PENDING (never a ✓ clearance), injury, days and red flags."""
    service.stored_decision(WINGER)
    service.stored_decision("hamstring-symptom-flare-next-morning-pain")
    service.athlete("NEW-1", name="No Injury Yet")
    page = visitors("auditor").page("/squad")
    today = service.store.now().date()
    winger = _row(page, "FC-23")
    assert "No phase signed yet" in winger
    assert "◇ PENDING: recommends 4 · sprint, awaiting sign-off" in winger
    assert "✓ CLEARED" not in winger
    assert "✗ NOT CLEARED to sprint" in winger and "✗ NOT CLEARED to play" in winger
    injured = load_example(WINGER)["injury"]["date"]
    assert f"day {(today - dt.date.fromisoformat(injured)).days}" in winger
    assert "last assessed 2026-03-17" in winger and "Red flag" not in winger
    assert "◇ awaiting sign-off" in winger  # the reason it needs attention
    flare = _row(page, "ATH-0588")
    assert "! Red flag R3 Symptom flare: next morning" in flare
    assert "◇ PENDING: recommends 2 · load" in flare or "◇ PENDING: recommends" in flare
    assert "no injury recorded" in _row(page, "NEW-1")


def test_an_override_below_sprint_never_shows_cleared_on_the_squad(service: Service,
                                                                    visitors: Any) -> None:
    """The recommendation clears to sprint, the clinician signed run: the squad says NOT CLEARED."""
    stored = service.stored_decision(WINGER)
    service.client.post(f"/v1/decisions/{stored['id']}/signoff", headers=service.as_("clinician"),
                        json={"action": "override", "phase": "run", "reason": "Not yet"})
    row = _row(visitors("clinician").page("/squad"), "FC-23")
    assert "Signed phase 3 · run" in row and "overridden by test clinician" in row
    assert "✗ NOT CLEARED to sprint" in row and "PENDING" not in row
    assert "✓ CLEARED to sprint" not in row


def test_a_correction_replaces_what_it_corrects_on_the_squad(service: Service,
                                                              visitors: Any) -> None:
    """The squad shows the latest assessment that no correction superseded."""
    stored = service.stored_decision(WINGER)
    corrected = varied(load_example(WINGER), {"pain.next_morning": 4})
    response = service.assess(stored["injury_id"], corrected, supersedes=stored["assessment_id"])
    assert response.status_code == 201
    row = _row(visitors("clinician").page("/squad"), "FC-23")
    # 2027.1: the flare steps back one phase from the signed phase (run), not from sprint
    assert "Red flag R3" in row and "◇ PENDING: recommends 2 · load" in row


def test_the_athlete_page_has_the_timeline_and_charts(service: Service, visitors: Any) -> None:
    """Two visits: both in the timeline with sign-off, a phase chart, LSI charts with thresholds."""
    first = service.stored_decision(FOOTBALLER)
    service.client.post(f"/v1/decisions/{first['id']}/signoff", json={"action": "accept"},
                        headers=service.as_("clinician"))
    service.stored_decision(WINGER)
    page = visitors("clinician").page("/athletes/FC-23")
    timeline = " ".join(r.text for r in page.all("tr"))
    assert "2026-03-03" in timeline and "2026-03-17" in timeline
    assert "accepted by test clinician" in timeline and "awaiting sign-off" in timeline
    charts = page.all("svg", **{"class": "chart"})
    titles = [t.text for t in page.all("title")]
    assert "Signed phase by day since injury" in titles
    assert "isometric 90/90 LSI — higher is better" in titles
    assert len(charts) == len(titles) - 1  # the page's own <title> is the other one
    assert "C302 ≥ 90.0 %" in page.html and "84.7 % ✗" in page.html
    assert page.all("a", href=f"/injuries/{first['injury_id']}/assess")


def test_the_athlete_page_says_when_to_re_assess(service: Service, visitors: Any) -> None:
    """The latest current decision's plan gives the re-assessment date, marked when passed."""
    from itertools import count

    from engine.decision import read_decision

    # "today" between the rugby back's re-assessment date and the winger's
    start, ticks = dt.datetime(2026, 3, 18, 9, 0, tzinfo=dt.UTC), count(1)
    service.store._clock = lambda: start + dt.timedelta(seconds=next(ticks))

    service.stored_decision(FOOTBALLER)
    latest = service.stored_decision(WINGER)
    plan = read_decision(latest["decision"]).plan
    assert plan is not None
    page = visitors("clinician").page("/athletes/FC-23")
    facts = next(e.text for e in page.all("div") if e.text.startswith("Re-assess by"))
    assert plan.reassess_by in facts and "the plan of the decision of 2026-03-17" in facts
    assert dt.date.fromisoformat(plan.reassess_by) > service.store.now().date()
    assert "date passed" not in facts
    early = service.stored_decision("hamstring-rugby-back-reinjury-cleared-to-play-conservative")
    early_plan = read_decision(early["decision"]).plan
    assert early_plan is not None
    assert dt.date.fromisoformat(early_plan.reassess_by) < service.store.now().date()
    page = visitors("clinician").page("/athletes/RUG-14")
    facts = next(e.text for e in page.all("div") if e.text.startswith("Re-assess by"))
    assert f"⚠ {early_plan.reassess_by}: date passed" in facts


def test_the_auditor_reads_the_athlete_page_without_forms(service: Service,
                                                         visitors: Any) -> None:
    """Readers see no form to add an injury or enter an assessment."""
    service.stored_decision(WINGER)
    page = visitors("auditor").page("/athletes/FC-23")
    assert not page.all("form", action="/athletes/FC-23/injuries")
    assert "Enter an assessment" not in page.text


def test_adding_an_athlete_through_the_page(service: Service, visitors: Any) -> None:
    """Errors at their fields with values kept; a taken id is a conflict; then it is stored."""
    clinician = visitors("clinician")
    clinician.page("/squad/new-athlete")
    empty = clinician.post("/squad/new-athlete", {"athlete.id": "", "athlete.name": "Ana Ruiz"})
    assert empty.status_code == 422
    page = Page(empty.text)
    assert "is required" in page.by_id("f-athlete-id-error").text
    assert page.by_id("f-athlete-name").attrs["value"] == "Ana Ruiz"
    created = clinician.post("/squad/new-athlete", {"athlete.id": "RUG-22",
                                                    "athlete.name": "Ana Ruiz"})
    assert created.status_code == 303 and created.headers["location"] == "/athletes/RUG-22"
    clinician.page("/squad/new-athlete")
    taken = clinician.post("/squad/new-athlete", {"athlete.id": "RUG-22"})
    assert taken.status_code == 409 and "already exists" in Page(taken.text).text
    entry = service.store.audit_entries(limit=1000)[-1]
    assert entry.action == "athlete.create" and entry.actor["name"] == "test clinician"


def test_adding_an_injury_through_the_page(service: Service, visitors: Any) -> None:
    """A muscle of the other region is refused at its field; a valid episode is stored."""
    service.athlete("RUG-22")
    clinician = visitors("clinician")
    clinician.page("/athletes/RUG-22")
    fields = {"injury.region": "calf", "injury.side": "left", "injury.date": "2026-03-01",
              "injury.muscle": "semitendinosus"}
    refused = clinician.post("/athletes/RUG-22/injuries", fields)
    assert refused.status_code == 422
    page = Page(refused.text)
    assert "is not a calf muscle" in page.by_id("f-injury-muscle-error").text
    assert [e.attrs["value"] for e in page.all("option") if "selected" in e.attrs] == [
        "calf", "left", "semitendinosus", "", ""]
    stored = clinician.post("/athletes/RUG-22/injuries", fields | {"injury.muscle": "soleus"})
    assert stored.status_code == 303
    injuries = service.store.list_injuries("RUG-22")
    assert [(i.region, i.side, i.muscle) for i in injuries] == [("calf", "left", "soleus")]
    assert stored.headers["location"] == f"/athletes/RUG-22#injury-{injuries[0].id}"


def test_an_athlete_id_with_a_slash_or_spaces_has_a_page(service: Service, visitors: Any) -> None:
    """Ids are free text: links quote them, and the page and its injury form still work."""
    service.store.create_athlete(service.store.authenticate(service.keys["clinician"]),
                                 athlete_id="TEAM/7 #b", name="Odd Id")
    clinician = visitors("clinician")
    squad = clinician.page("/squad")
    link = next(a.attrs["href"] for a in squad.all("a") if a.text == "Odd Id")
    assert link == "/athletes/TEAM%2F7%20%23b"
    page = clinician.page(link)
    assert "Athlete id TEAM/7 #b" in page.text
    response = clinician.post(f"{link}/injuries", {
        "injury.region": "calf", "injury.side": "left", "injury.date": "2026-03-01"})
    assert response.status_code == 303
    assert [i.region for i in service.store.list_injuries("TEAM/7 #b")] == ["calf"]


RUGBY = "hamstring-rugby-back-reinjury-cleared-to-play-conservative"
FLARE = "hamstring-symptom-flare-next-morning-pain"


def test_the_squad_orders_by_what_needs_attention_and_counts_it(service: Service,
                                                                 visitors: Any) -> None:
    """Red flags first, then awaiting sign-off, re-assessment passed, re-test due, stale;
    each reason in words, with the counts of the whole squad."""
    from engine.decision import read_decision

    service.stored_decision(WINGER)
    service.stored_decision(FLARE)
    rugby = service.stored_decision(RUGBY)
    service.client.post(f"/v1/decisions/{rugby['id']}/signoff", json={"action": "accept"},
                        headers=service.as_("clinician"))
    service.athlete("OLD-1", name="Never Assessed")
    service.injury("OLD-1", region="calf", side="left", date="2026-01-05")
    service.athlete("NEW-1", name="No Injury Yet")
    plan = read_decision(rugby["decision"]).plan
    assert plan is not None and plan.retests
    today = service.store.now().date()
    page = visitors("clinician").page("/squad")
    order = [a.attrs["href"].rsplit("/", 1)[1] for a in page.all("a")
             if a.attrs.get("href", "").startswith("/athletes/")]
    assert order == ["ATH-0588", "FC-23", "RUG-14", "OLD-1", "NEW-1"]
    assert "! red flag" in _row(page, "ATH-0588")
    assert "◇ awaiting sign-off" in _row(page, "FC-23")
    rug = _row(page, "RUG-14")
    assert f"re-assessment date passed ({plan.reassess_by})" in rug
    assert "surveillance re-test due" in rug and "Signed phase 6 · play" in rug
    assert dt.date.fromisoformat(plan.reassess_by) < today
    assert "no assessment in 14 days (last never)" in _row(page, "OLD-1")
    assert "nothing due" in _row(page, "NEW-1")
    counts = page.by_id("counts-title").text
    assert counts == "5 athletes, 4 need attention"


def test_the_squad_searches_filters_and_sorts(service: Service, visitors: Any) -> None:
    """Search by name or id; filter by phase in force, status and region; sort by name."""
    service.stored_decision(WINGER)
    service.stored_decision(FLARE)
    service.athlete("CALF-1", name="Calf Runner")
    service.injury("CALF-1", region="calf", side="left", date="2026-02-20")
    clinician = visitors("clinician")

    def shown(query: str) -> list[str]:
        page = clinician.page(f"/squad?{query}")
        return [a.attrs["href"].rsplit("/", 1)[1] for a in page.all("a")
                if a.attrs.get("href", "").startswith("/athletes/")]

    assert shown("q=fc-2") == ["FC-23"] and shown("q=runner") == ["CALF-1"]
    assert shown("region=calf") == ["CALF-1"]
    assert shown("status=red_flag") == ["ATH-0588"]
    assert shown("status=signoff") == ["ATH-0588", "FC-23"]
    assert sorted(shown("phase=none")) == ["ATH-0588", "CALF-1", "FC-23"]
    assert shown("phase=play") == []
    assert shown("sort=id") == ["ATH-0588", "CALF-1", "FC-23"]
    assert shown("status=bogus&sort=bogus") == ["ATH-0588", "FC-23", "CALF-1"]
    assert "1 of 3 athletes shown" in clinician.page("/squad?q=calf").text


def test_the_squad_page_runs_the_same_number_of_queries_for_more_athletes(
        service: Service, visitors: Any) -> None:
    """The board is read in a constant number of statements, not per athlete."""
    from sqlalchemy import event

    clinician = visitors("clinician")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def add(first: int, last: int) -> None:
        for index in range(first, last):
            document = varied(load_example(WINGER), {"athlete.id": f"Q-{index:02}",
                                                     "athlete.name": f"Athlete {index}"})
            service.athlete(f"Q-{index:02}", name=f"Athlete {index}")
            injury = service.injury(f"Q-{index:02}", region="hamstring", side="right",
                                    date=document["injury"]["date"])
            assert service.assess(injury["id"], document).status_code == 201

    engine = service.store.database.engine
    add(0, 2)
    event.listen(engine, "before_cursor_execute", count)
    try:
        clinician.page("/squad")
        few = len(statements)
        add(2, 8)
        statements.clear()
        clinician.page("/squad")
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert few == many, (few, many)
    assert many <= 8
