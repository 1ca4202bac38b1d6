"""The assessment form page: errors next to their fields with every value kept, then storing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from page_support import Page
from support import load_example

from api.web.forms import entered_from_document
from engine import parse_assessment

if TYPE_CHECKING:
    from conftest import Service

WINGER = "hamstring-winger-cleared-to-sprint"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _episode(service: Service, name: str = WINGER) -> tuple[dict[str, Any], dict[str, Any]]:
    """The example's athlete and injury episode, stored; (injury, example document)."""
    document = load_example(name)
    athlete = document["athlete"]
    service.athlete(athlete["id"], **{k: v for k, v in athlete.items() if k != "id"})
    injury = document["injury"]
    return service.injury(document["athlete"]["id"], region=injury["region"],
                          side=injury["side"], date=injury["date"]), document


def _fields(document: dict[str, Any]) -> dict[str, str]:
    """The example as the form's inputs (what a clinician would type)."""
    return entered_from_document(parse_assessment(document).document)


def test_the_form_stores_through_the_store_with_the_signed_in_key(service: Service,
                                                                  visitors: Any) -> None:
    """Posting a whole example stores that very assessment, decided, audited as the clinician."""
    injury, document = _episode(service)
    service.sign_previous(injury["id"], document)  # the signed phase it starts from (§2.1)
    clinician = visitors("clinician")
    clinician.page(f"/injuries/{injury['id']}/assess")
    response = clinician.post(f"/injuries/{injury['id']}/assess", _fields(document))
    assert response.status_code == 303, response.text[:500]
    decision_id = response.headers["location"].removeprefix("/decisions/")
    stored = service.client.get(f"/v1/decisions/{decision_id}",
                                headers=service.as_("auditor")).json()
    assert stored["decision"]["input_sha256"] == parse_assessment(document).input_sha256
    assert stored["decision"]["phase"]["id"] == "sprint"
    last = service.client.get("/v1/audit/entries", params={"after": 0, "limit": 1000},
                              headers=service.as_("auditor")).json()[-2:]
    assert [e["action"] for e in last] == ["assessment.create", "decision.create"]
    assert {e["actor"]["name"] for e in last} == {"test clinician"}


@sqlite_only
def test_a_deliberate_error_is_shown_at_its_field_with_every_value_kept(
        service: Service, visitors: Any) -> None:
    """Errors sit next to their inputs (bilateral sides too), linked from a summary; values stay."""
    injury, document = _episode(service)
    fields = _fields(document)
    fields.update({"pain.rest": "11", "strength.nordic_n.uninjured": "abc",
                   "hop.single_cm.injured": "", "readiness.confidence": "12,5"})
    clinician = visitors("clinician")
    clinician.page(f"/injuries/{injury['id']}/assess")
    entries = service.store.count("audit_entries")
    response = clinician.post(f"/injuries/{injury['id']}/assess", fields)
    assert response.status_code == 422
    page = Page(response.text)
    assert "must be between 0 and 10 (got 11)" in page.by_id("f-pain-rest-error").text
    assert "must be a number" in page.by_id("f-strength-nordic-n-uninjured-error").text
    assert "needs both the injured and the uninjured side" in page.by_id(
        "f-hop-single-cm-injured-error").text
    assert "decimal point" in page.by_id("f-readiness-confidence-error").text
    for name, value in fields.items():  # every input shows what was typed
        element = page.by_id("f-" + name.replace(".", "-").replace("_", "-"))
        if element.tag == "input":
            assert element.attrs.get("value", "") == value, name
    assert page.by_id("f-pain-rest").attrs["aria-invalid"] == "true"
    assert "f-pain-rest-error" in page.by_id("f-pain-rest").attrs["aria-describedby"]
    summary = page.by_id("problems")
    assert "Not stored: 4 problems" in summary.text
    links = [a.attrs["href"] for a in page.all("a") if a.attrs.get("href", "").startswith("#f-")]
    assert links == ["#f-pain-rest", "#f-strength-nordic-n-uninjured", "#f-hop-single-cm-injured",
                     "#f-readiness-confidence"]
    assert service.store.count("audit_entries") == entries


@sqlite_only
def test_checked_radios_and_selects_keep_their_answer(service: Service, visitors: Any) -> None:
    """After a refused post the yes/no answers, ratings and choices are still selected."""
    injury, document = _episode(service)
    fields = _fields(document) | {"pain.rest": "-1"}
    clinician = visitors("clinician")
    clinician.page(f"/injuries/{injury['id']}/assess")
    page = Page(clinician.post(f"/injuries/{injury['id']}/assess", fields).text)
    checked = {e.attrs["name"]: e.attrs["value"] for e in page.all("input", type="radio")
               if "checked" in e.attrs}
    assert checked["function.gait_normal"] == "yes"
    assert checked["technique.posture"] == fields["technique.posture"]
    assert checked["signs.swelling_increasing"] == fields.get("signs.swelling_increasing", "")
    selected = [e for e in page.all("option") if "selected" in e.attrs]
    assert fields["injury.bamic_grade"] in [e.attrs["value"] for e in selected]


@sqlite_only
def test_the_form_says_empty_means_not_assessed_and_shows_units(service: Service,
                                                                 visitors: Any) -> None:
    """The page explains 'not assessed', and each input carries its unit and range."""
    injury, _ = _episode(service)
    page = visitors("clinician").page(f"/injuries/{injury['id']}/assess")
    assert "Empty means not assessed." in page.text
    assert page.by_id("f-strength-nordic-n-hint").text == "number, 0–2000 N, each side"
    assert page.by_id("f-pain-rest-hint").text.startswith("whole number, 0–10")
    labels = {e.attrs["for"] for e in page.all("label") if "for" in e.attrs}
    inputs = [e for e in page.elements if e.tag in ("input", "select", "textarea")
              and e.attrs.get("type") not in ("hidden", "radio")]
    assert all(e.attrs["id"] in labels for e in inputs)  # every box has its <label>
    assert "radio" in page.html and page.html.count('<label class="option">') == len(
        page.all("input", type="radio"))  # every radio inside its own label
    assert page.by_id("f-strength-nordic-n-lsi").tag == "output"


@sqlite_only
def test_the_form_starts_with_the_session_and_never_with_results(service: Service,
                                                                  visitors: Any) -> None:
    """Date, assessor, injury descriptors and last signed phase are filled in; results are not."""
    injury, document = _episode(service)
    first = service.assess(injury["id"], document).json()
    service.client.post(f"/v1/decisions/{first['id']}/signoff", json={"action": "accept"},
                        headers=service.as_("clinician"))
    page = visitors("clinician").page(f"/injuries/{injury['id']}/assess")
    assert page.by_id("f-assessment-date").attrs["value"] == service.store.now().date(
        ).isoformat()
    assert page.by_id("f-assessment-assessor").attrs["value"] == "test clinician"
    selected = {e.attrs["value"] for e in page.all("option") if "selected" in e.attrs}
    assert {"sprint", document["injury"]["bamic_grade"]} <= selected  # previous.phase, grade
    # the signed phase comes with the date of the assessment it was signed for (§2.1)
    assert page.by_id("f-previous-date").attrs["value"] == document["assessment"]["date"]
    numbers = [e for e in page.all("input", type="text") if e.attrs["name"].split(".")[0] in
               {"pain", "strength", "hop", "sprint", "flexibility", "running", "readiness",
                "exposure"}]
    assert numbers and all(e.attrs.get("value", "") == "" for e in numbers)


@sqlite_only
def test_a_correction_starts_from_the_stored_assessment_and_supersedes_it(
        service: Service, visitors: Any) -> None:
    """From a stored assessment, the form shows its values; storing marks the original."""
    injury, document = _episode(service)
    first = service.assess(injury["id"], document).json()
    clinician = visitors("clinician")
    url = f"/injuries/{injury['id']}/assess?supersedes={first['assessment_id']}"
    page = clinician.page(url)
    assert page.by_id("f-pain-rest").attrs["value"] == str(document["pain"]["rest"])
    fields = _fields(document) | {"pain.next_morning": "4"}
    response = clinician.post(url, fields)
    assert response.status_code == 303
    old = clinician.page(f"/decisions/{first['id']}")
    assert "Not current: this assessment was corrected." in old.text
    assert not old.all("form", action=f"/decisions/{first['id']}/signoff")


@sqlite_only
def test_an_identical_resubmission_is_a_conflict_shown_on_the_form(service: Service,
                                                                   visitors: Any) -> None:
    """Storing the same assessment twice: 409, the store's reason, the values still there."""
    injury, document = _episode(service)
    service.assess(injury["id"], document)
    clinician = visitors("clinician")
    clinician.page(f"/injuries/{injury['id']}/assess")
    response = clinician.post(f"/injuries/{injury['id']}/assess", _fields(document))
    assert response.status_code == 409
    page = Page(response.text)
    assert "already stored, identical" in page.by_id("problems").text
    assert page.by_id("f-pain-rest").attrs["value"] == str(document["pain"]["rest"])


@sqlite_only
def test_an_assessment_date_before_the_injury_is_shown_at_the_episode(
        service: Service, visitors: Any) -> None:
    """The engine's date-order problem names injury.date: it is shown with the episode."""
    injury, document = _episode(service)
    clinician = visitors("clinician")
    clinician.page(f"/injuries/{injury['id']}/assess")
    fields = _fields(document) | {"assessment.date": "2020-01-01"}
    page = Page(clinician.post(f"/injuries/{injury['id']}/assess", fields).text)
    assert "must not be after assessment.date" in page.by_id("episode-injury-date-error").text


@sqlite_only
def test_nothing_odd_in_a_form_gives_a_500(service: Service, visitors: Any) -> None:
    """NUL characters, huge numbers, unknown fields, repeated fields: all 422 pages."""
    injury, _ = _episode(service)
    clinician = visitors("clinician")
    for fields in ([("assessment.date", "2026-03-17"), ("assessment.assessor", "Dr\x00X")],
                   [("assessment.date", "2026-03-17"), ("pain.rest", "9" * 5000)],
                   [("assessment.date", "2026-03-17"), ("athlete.id", "OTHER")],
                   [("assessment.date", "2026-03-17"), ("pain.rest", "1"), ("pain.rest", "2")],
                   [("assessment.date", "not a date")]):
        clinician.page(f"/injuries/{injury['id']}/assess")
        response = clinician.post(f"/injuries/{injury['id']}/assess", fields)
        assert response.status_code == 422, (fields, response.text[:300])
        assert Page(response.text).by_id("problems")


@sqlite_only
def test_the_stored_document_is_exactly_what_was_typed(service: Service, visitors: Any) -> None:
    """Numbers as typed, yes/no as booleans, empty fields absent: the stored input shows it."""
    injury, _ = _episode(service)
    clinician = visitors("clinician")
    clinician.page(f"/injuries/{injury['id']}/assess")
    response = clinician.post(f"/injuries/{injury['id']}/assess", {
        "assessment.date": "2026-03-17", "pain.rest": "0", "pain.walking": "",
        "strength.isometric_90_90.injured": "269.99",
        "strength.isometric_90_90.uninjured": "300", "function.gait_normal": "yes"})
    assert response.status_code == 303
    decision = service.client.get("/v1" + response.headers["location"],
                                  headers=service.as_("auditor")).json()
    record = service.client.get(f"/v1/assessments/{decision['assessment_id']}",
                                headers=service.as_("auditor")).json()["document"]
    assert record["pain"] == {"rest": 0}
    assert record["strength"] == {"isometric_90_90": {"injured": 269.99, "uninjured": 300.0}}
    assert record["function"] == {"gait_normal": True}
    c302 = next(c for c in decision["decision"]["criteria"] if c["id"] == "C302")
    assert c302["value"] == 90.0 and c302["status"] == "met"
    assert json.dumps(record)  # plain JSON


@sqlite_only
def test_a_correction_must_be_of_the_same_injury(service: Service, visitors: Any) -> None:
    """Correcting another injury's assessment is refused before its values are shown."""
    injury, document = _episode(service)
    other = service.injury(document["athlete"]["id"], region="calf", side="left",
                           date="2026-01-05")
    first = service.assess(injury["id"], document).json()
    response = visitors("clinician").get(
        f"/injuries/{other['id']}/assess?supersedes={first['assessment_id']}")
    assert response.status_code == 409
    assert "a correction must be of the same injury" in Page(response.text).text


@sqlite_only
def test_the_form_shows_the_tests_of_the_injurys_region(service: Service,
                                                       visitors: Any) -> None:
    """Hamstring: Nordics and the H-test, no knee-to-wall; calf: the reverse, and the DVT screen."""
    hamstring, _ = _episode(service)
    calf, _ = _episode(service, "calf-soleus-bent-knee-heel-raise-and-knee-to-wall")
    clinician = visitors("clinician")
    ham_page = clinician.page(f"/injuries/{hamstring['id']}/assess")
    calf_page = clinician.page(f"/injuries/{calf['id']}/assess")

    def names(page: Page) -> set[str]:
        return {e.attrs["name"] for e in page.elements if "name" in e.attrs}

    assert {"strength.nordic_n.injured", "flexibility.h_test_insecurity",
            "signs.avulsion_suspected"} <= names(ham_page)
    assert not {"flexibility.knee_to_wall_cm.injured", "signs.dvt_suspected",
                "strength.heel_raise_bent_knee_reps.injured"} & names(ham_page)
    assert {"flexibility.knee_to_wall_cm.injured", "signs.dvt_suspected",
            "strength.heel_raise_bent_knee_reps.injured"} <= names(calf_page)
    assert not {"strength.nordic_n.injured", "flexibility.h_test_insecurity",
                "signs.avulsion_suspected"} & names(calf_page)
    assert {"hop.single_cm.injured", "exposure.hsr_m_7d",
            "injury.physician_review.date"} <= names(ham_page) & names(calf_page)
    nav = [a.attrs["href"] for a in calf_page.all("a") if a.attrs.get("href", "").startswith("#s-")]
    assert "#s-h-test" not in nav and "#s-exposure" in nav
    assert all(calf_page.by_id(href[1:]).tag == "fieldset" for href in nav)


@sqlite_only
def test_the_physician_review_is_a_sub_form_with_its_problems_at_its_parts(
        service: Service, visitors: Any) -> None:
    """A review without its management: 422, the problem at the management choice, values kept."""
    injury, document = _episode(service, "hamstring-3c-intratendinous-after-conservative-review")
    clinician = visitors("clinician")
    page = clinician.page(f"/injuries/{injury['id']}/assess")
    review = page.by_id("f-injury-physician-review")
    assert review.tag == "fieldset" and review.text.startswith("Physician review")
    assert page.by_id("f-injury-physician-review-management").tag == "select"
    fields = _fields(document) | {"injury.physician_review.management": ""}
    response = clinician.post(f"/injuries/{injury['id']}/assess", fields)
    assert response.status_code == 422
    refused = Page(response.text)
    management = refused.by_id("f-injury-physician-review-management")
    assert management.attrs["aria-invalid"] == "true"
    assert "f-injury-physician-review-management-error" in management.attrs["aria-describedby"]
    assert "is required" in refused.by_id("f-injury-physician-review-management-error").text
    assert refused.by_id("f-injury-physician-review-date").attrs["value"] == \
        document["injury"]["physician_review"]["date"]
    assert "Physician review: management decided" in refused.by_id("problems").text
    service.sign_previous(injury["id"], document)
    stored = clinician.post(f"/injuries/{injury['id']}/assess", _fields(document))
    assert stored.status_code == 303


def test_a_previous_other_than_the_signed_phase_on_record_is_409_naming_it(
        service: Service, visitors: Any) -> None:
    """The form's previous must be the service's (2.1): another is refused, nothing stored."""
    injury, document = _episode(service)
    service.sign_previous(injury["id"], document)  # run, signed for 2026-03-10
    stored = service.store.count("assessments")
    fields = _fields(document) | {"previous.phase": "load"}
    clinician = visitors("clinician")
    clinician.page(f"/injuries/{injury['id']}/assess")
    response = clinician.post(f"/injuries/{injury['id']}/assess", fields)
    assert response.status_code == 409
    assert "last signed phase on record for this injury is run" in response.text
    assert "2026-03-10" in response.text
    assert service.store.count("assessments") == stored


@sqlite_only
def test_a_recorded_physician_review_starts_the_next_visit(service: Service,
                                                          visitors: Any) -> None:
    """The review of the latest assessment is filled in for the next, as the injury's facts are."""
    injury, document = _episode(service, "hamstring-3c-intratendinous-after-conservative-review")
    service.assess(injury["id"], document)
    page = visitors("clinician").page(f"/injuries/{injury['id']}/assess")
    review = document["injury"]["physician_review"]
    assert page.by_id("f-injury-physician-review-date").attrs["value"] == review["date"]
    assert page.by_id("f-injury-physician-review-by").attrs["value"] == review["by"]
    chosen = [e.attrs["value"] for e in page.all("option") if "selected" in e.attrs]
    assert review["management"] in chosen
