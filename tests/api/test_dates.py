"""Dates after today are refused for storing (server time, one day of tolerance), decided as
what-ifs by /v1/evaluate, which says so (issue 10, item 8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from support import REMOVE, load_example, varied

if TYPE_CHECKING:
    from conftest import Service

WINGER = "hamstring-winger-cleared-to-sprint"
# the tests' clock starts on 2026-06-01 (conftest.TickingClock): tomorrow is tolerated


def test_an_injury_dated_after_tomorrow_is_refused(service: Service) -> None:
    """2026-06-03 is refused naming the field and the rule; 2026-06-02 is stored."""
    service.athlete("FC-23")
    before = service.store.count("audit_entries")
    refused = service.client.post("/v1/athletes/FC-23/injuries", json={
        "region": "hamstring", "side": "right", "date": "2026-06-03"},
        headers=service.as_("clinician"))
    assert refused.status_code == 422
    problem = refused.json()["error"]["fields"][0]
    assert (problem["field"], problem["rule"]) == ("date", "future_date")
    assert "2026-06-03" in problem["message"] and "2026-06-01" in problem["message"]
    assert service.store.count("audit_entries") == before
    assert service.injury("FC-23", date="2026-06-02")["date"] == "2026-06-02"


def test_an_assessment_dated_after_tomorrow_is_refused(service: Service) -> None:
    """An assessment four days ahead is never stored, decided or overridden before its date."""
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    before = service.store.count("audit_entries")
    document = varied(load_example(WINGER), {"previous": REMOVE,
                                            "assessment.date": "2026-06-05"})
    refused = service.assess(injury["id"], document)
    assert refused.status_code == 422
    fields = [(f["field"], f["rule"]) for f in refused.json()["error"]["fields"]]
    assert fields == [("assessment.date", "future_date")]
    assert service.store.count("audit_entries") == before
    tomorrow = varied(document, {"assessment.date": "2026-06-02"})
    assert service.assess(injury["id"], tomorrow).status_code == 201


def test_evaluate_decides_a_future_date_and_says_so(service: Service) -> None:
    """A what-if is decided exactly, with a note that the service would not store it."""
    document = varied(load_example(WINGER), {"previous": REMOVE,
                                            "assessment.date": "2026-06-05"})
    response = service.client.post("/v1/evaluate", json=document,
                                   headers=service.as_("clinician"))
    assert response.status_code == 200
    note = response.headers["x-sprintclear-note"]
    assert note.startswith("what-if: assessment.date is 2026-06-05, after today")
    assert "would not store it" in note
    assert response.json()["assessment"]["date"] == "2026-06-05"
    today = service.client.post("/v1/evaluate", json=load_example(WINGER),
                                headers=service.as_("clinician"))
    assert "x-sprintclear-note" not in today.headers
