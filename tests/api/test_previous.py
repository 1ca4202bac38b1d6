"""The service fills ``previous`` from its sign-offs and refuses another (protocol 2.1)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest
from support import REMOVE, load_example, varied

from engine import evaluator_for, parse_assessment
from engine.decision import read_decision
from reports.view import build_view
from rules.errors import Conflict

if TYPE_CHECKING:
    from conftest import Service

FOOTBALLER = "hamstring-footballer-progressive-running-strength-deficit"  # 2026-03-03
WINGER = "hamstring-winger-cleared-to-sprint"  # 2026-03-17, previous run of 2026-03-10


def _signed_first_visit(service: Service) -> tuple[dict[str, Any], dict[str, Any]]:
    """FC-23's injury with the footballer's visit stored and accepted (run); (injury, decision)."""
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    first = service.assess(injury["id"], load_example(FOOTBALLER))
    assert first.status_code == 201, first.text
    signed = service.client.post(f"/v1/decisions/{first.json()['id']}/signoff",
                                 json={"action": "accept"}, headers=service.as_("clinician"))
    assert signed.status_code == 201, signed.text
    return injury, first.json()


def test_an_omitted_previous_is_filled_from_the_latest_signoff(service: Service) -> None:
    """The stored input and its decision carry the signed phase and its assessment's date."""
    injury, _ = _signed_first_visit(service)
    response = service.assess(injury["id"], varied(load_example(WINGER), {"previous": REMOVE}))
    assert response.status_code == 201, response.text
    decision = response.json()["decision"]
    assert decision["previous"] == {"phase": "run", "date": "2026-03-03"}
    assert decision["phase"]["id"] == "sprint"  # one step from the signed run
    document = service.client.get(f"/v1/assessments/{response.json()['assessment_id']}",
                                  headers=service.as_("auditor")).json()["document"]
    assert document["previous"] == {"phase": "run", "date": "2026-03-03"}


def test_an_equal_previous_is_accepted(service: Service) -> None:
    """A client that sends what the records say is not refused."""
    injury, _ = _signed_first_visit(service)
    document = varied(load_example(WINGER), {"previous.date": "2026-03-03"})
    response = service.assess(injury["id"], document, arrange_previous=False)
    assert response.status_code == 201, response.text
    assert response.json()["decision"]["previous"] == {"phase": "run", "date": "2026-03-03"}


@pytest.mark.parametrize("previous", [{"phase": "sprint", "date": "2026-03-03"},
                                      {"phase": "run", "date": "2026-03-10"}],
                         ids=["other-phase", "other-date"])
def test_a_different_previous_is_409_naming_the_stored_values(
        service: Service, previous: dict[str, str]) -> None:
    """Another phase or date than the records is refused, nothing stored, the stored named."""
    injury, _ = _signed_first_visit(service)
    before = service.store.count("audit_entries")
    document = varied(load_example(WINGER), {"previous": previous})
    response = service.assess(injury["id"], document, arrange_previous=False)
    assert response.status_code == 409
    message = response.text
    assert "run, signed for the assessment of 2026-03-03" in message
    assert service.store.count("assessments") == 2  # the signed visit and the first
    assert service.store.count("audit_entries") == before


def test_a_previous_with_nothing_signed_on_record_is_409(service: Service) -> None:
    """A client cannot claim a signed phase the service does not hold."""
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    response = service.assess(injury["id"], load_example(WINGER), arrange_previous=False)
    assert response.status_code == 409
    assert "no phase has been signed" in response.text
    assert service.store.count("assessments") == 0


def test_a_same_day_signoff_is_the_previous_and_holds_the_phase(service: Service) -> None:
    """A second visit the same day starts from the morning's sign-off: no second step (R6)."""
    injury, first = _signed_first_visit(service)
    again = varied(load_example(FOOTBALLER), {"previous": REMOVE,
                                             "assessment.assessor": "Dr. B. Second"})
    response = service.assess(injury["id"], again)
    assert response.status_code == 201, response.text
    decision = response.json()["decision"]
    assert decision["previous"] == {"phase": "run", "date": "2026-03-03"}
    assert decision["phase"]["id"] == "run"  # ≤ the signed phase on the same day
    assert first["decision"]["phase"]["id"] == "run"


def test_a_correction_does_not_start_from_the_visit_it_corrects(service: Service) -> None:
    """The corrected visit's own sign-off is not the correction's previous."""
    injury, _ = _signed_first_visit(service)
    later = service.assess(injury["id"], varied(load_example(WINGER), {"previous": REMOVE}))
    service.client.post(f"/v1/decisions/{later.json()['id']}/signoff",
                        json={"action": "accept"}, headers=service.as_("clinician"))
    corrected = varied(load_example(WINGER), {"previous": REMOVE,
                                             "sprint.repeated_sprint_passed": True})
    response = service.assess(injury["id"], corrected,
                              supersedes=later.json()["assessment_id"])
    assert response.status_code == 201, response.text
    assert response.json()["decision"]["previous"] == {"phase": "run", "date": "2026-03-03"}


def test_a_signoff_between_filling_and_storing_is_a_conflict(service: Service) -> None:
    """The store checks previous again under the write lock: a stale one is never stored."""
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    store = service.store
    clinician = store.authenticate(service.keys["clinician"])
    evaluator = evaluator_for()
    first = store.fill_previous(injury["id"], parse_assessment(
        varied(load_example(FOOTBALLER), {"previous": REMOVE})))
    kept = store.record_assessment(clinician, injury["id"], first,
                                   evaluator.decide(first, evaluated_at=store.now()),
                                   check_previous=True)
    later = store.fill_previous(injury["id"], parse_assessment(
        varied(load_example(WINGER), {"previous": REMOVE})))
    assert "previous" not in later.document  # nothing signed yet
    store.sign_off(clinician, kept.id, action="accept")  # meanwhile
    with pytest.raises(Conflict, match="last signed phase on record for this injury is run"):
        store.record_assessment(clinician, injury["id"], later,
                                evaluator.decide(later, evaluated_at=store.now()),
                                check_previous=True)


def test_the_report_says_the_filled_phase_it_started_from(service: Service) -> None:
    """The report (and the decision page, which shows the same view) names the service's value."""
    injury, _ = _signed_first_visit(service)
    response = service.assess(injury["id"], varied(load_example(WINGER), {"previous": REMOVE}))
    decision = read_decision(response.json()["decision"])
    shown = build_view(decision, record_sha256="0" * 64,
                       generated_at=dt.datetime(2026, 3, 18, tzinfo=dt.UTC))
    assert shown.started_from.endswith("run, signed for the assessment of 2026-03-03")


def test_replay_gets_what_the_service_filled_when_it_stored(service: Service) -> None:
    """latest_signed_step as of each stored assessment gives the previous it was stored with."""
    from api.signed_phase import latest_signed_step

    injury, _ = _signed_first_visit(service)
    later = service.assess(injury["id"], varied(load_example(WINGER), {"previous": REMOVE}))
    service.client.post(f"/v1/decisions/{later.json()['id']}/signoff",
                        json={"action": "accept"}, headers=service.as_("clinician"))
    corrected = service.assess(injury["id"], varied(load_example(WINGER), {
        "previous": REMOVE, "pain.rest": 1}), supersedes=later.json()["assessment_id"])
    assert corrected.status_code == 201, corrected.text
    steps = service.store.signed_steps(injury["id"])
    for item in service.store.stored_assessments():
        stored_previous = json.loads(item.document).get("previous")
        assert latest_signed_step(steps, item.assessment_date, as_of=item.stored_at,
                                  excluding=item.supersedes) == stored_previous, item
    assert service.store.count("assessments") == 4  # the signed visit, three of the test


def _sign(service: Service, decision_id: str, **body: Any) -> Any:
    return service.client.post(f"/v1/decisions/{decision_id}/signoff",
                               json=body or {"action": "accept"},
                               headers=service.as_("clinician"))


def test_a_decision_whose_signed_phase_was_corrected_away_cannot_be_signed(
        service: Service) -> None:
    """Regression (review, 2026-11-30): visit 1 overridden to sprint; visit 3 decided from
    it (sprint); visit 1 then corrected (rest pain 5: protect), so its sign-off no longer
    counts. Signing visit 3 at sprint was accepted (201): cleared to sprint with no signed
    phase on record. It is a 409 naming both values; a correction of visit 3 decides it
    from what is on record, and that one can be signed."""
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    winger = varied(load_example(WINGER), {"previous": REMOVE})
    first = service.assess(injury["id"], varied(winger, {"assessment.date": "2026-03-03"}),
                           arrange_previous=False)
    assert first.status_code == 201, first.text
    overridden = _sign(service, first.json()["id"], action="override", phase="sprint",
                       reason="took over from the previous physio", confirm_above="sprint")
    assert overridden.status_code == 201, overridden.text
    third = service.assess(injury["id"], varied(winger, {"assessment.date": "2026-03-17"}),
                           arrange_previous=False)
    assert third.status_code == 201, third.text
    assert third.json()["decision"]["previous"] == {"phase": "sprint", "date": "2026-03-03"}
    corrected = service.client.post(
        f"/v1/injuries/{injury['id']}/assessments?supersedes={first.json()['assessment_id']}",
        json=varied(winger, {"assessment.date": "2026-03-03", "pain.rest": 5}),
        headers=service.as_("clinician"))
    assert corrected.status_code == 201, corrected.text
    signoffs = service.store.count("signoffs")
    refused = _sign(service, third.json()["id"])
    assert refused.status_code == 409, refused.text
    assert "sprint (signed for the assessment of 2026-03-03)" in refused.text
    assert "no signed phase" in refused.text
    assert service.store.count("signoffs") == signoffs
    again = service.client.post(
        f"/v1/injuries/{injury['id']}/assessments?supersedes={third.json()['assessment_id']}",
        json=varied(winger, {"assessment.date": "2026-03-17"}),
        headers=service.as_("clinician"))
    assert again.status_code == 201, again.text
    assert again.json()["decision"]["previous"] == {"phase": None, "date": None}
    assert _sign(service, again.json()["id"]).status_code == 201


def test_a_decision_made_before_an_earlier_visit_was_signed_cannot_be_signed(
        service: Service) -> None:
    """The other direction: visit 2 decided with nothing signed; then visit 1 is signed.
    Visit 2's decision started from no signed phase, which is no longer the record."""
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    winger = varied(load_example(WINGER), {"previous": REMOVE})
    first = service.assess(injury["id"], varied(winger, {"assessment.date": "2026-03-03"}),
                           arrange_previous=False)
    second = service.assess(injury["id"], varied(winger, {"assessment.date": "2026-03-10"}),
                            arrange_previous=False)
    assert first.status_code == second.status_code == 201
    assert _sign(service, first.json()["id"]).status_code == 201
    refused = _sign(service, second.json()["id"])
    assert refused.status_code == 409, refused.text
    assert "run (signed for the assessment of 2026-03-03)" in refused.text
