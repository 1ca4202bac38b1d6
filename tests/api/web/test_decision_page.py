"""The decision page: the decision's own words, the sign-off (accept, override), the report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from page_support import Page

from engine.decision import Decision
from reports.view import banner_claims

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FLARE = "hamstring-symptom-flare-next-morning-pain"


def _decision(service: Service, name: str = FLARE) -> tuple[dict[str, Any], Decision]:
    stored = service.stored_decision(name)
    return stored, Decision.model_validate(stored["decision"])


def test_the_page_shows_the_decision_in_its_own_words(service: Service, visitors: Any) -> None:
    """Banner claims, red flags, what blocks the next gate, every criterion, sources: as decided."""
    stored, decision = _decision(service)
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    banner = page.by_id("banner-title")
    phase, sprint, play = banner_claims(decision)
    assert banner.text == phase
    assert sprint in page.text and play in page.text
    assert "Recommendation of the rules" in page.text
    for flag in decision.red_flags:
        assert flag.message in page.text and flag.because in page.text
        assert flag.effect in page.text
    for blocking in decision.blocking_details:
        assert blocking.needs in page.text
    for criterion in decision.criteria:
        assert criterion.id in page.text
    for reference in decision.references[:3]:
        assert reference.short in page.text


def test_status_is_a_word_and_a_symbol_in_every_criterion_row(service: Service,
                                                               visitors: Any) -> None:
    """Each criterion row says met / not met / not assessed in words beside its symbol."""
    words = {"met": "✓ met", "unmet": "✗ not met", "missing": "? not assessed"}
    seen = set()
    for name in (FLARE, "calf-missing-tests-heel-raise-and-hop-not-done"):
        stored, decision = _decision(service, name)
        page = visitors("clinician").page(f"/decisions/{stored['id']}")
        for criterion in decision.criteria:
            rows = page.all("tr", data_criterion=criterion.id)
            if criterion.status == "not_applicable":
                assert not rows
                continue
            css = {"met": "met", "unmet": "unmet", "not_assessed": "missing"}[criterion.status]
            assert {row.attrs["class"] for row in rows} == {css}
            assert words[css] in " ".join(row.text for row in rows), criterion.id
            seen.add(css)
    assert seen == set(words)


def test_the_explanation_is_folded_and_complete(service: Service, visitors: Any) -> None:
    """The fired rules are inside a closed <details>, one list item per step, in order."""
    stored, decision = _decision(service)
    page = visitors("auditor").page(f"/decisions/{stored['id']}")
    details = page.all("details", **{"class": "explanation"})
    assert len(details) == 1 and "open" not in details[0].attrs
    for step in decision.explanation[:5]:
        assert step.description in details[0].text


def test_accepting_signs_the_recommendation_as_the_signed_in_clinician(
        service: Service, visitors: Any) -> None:
    """Accept: the store keeps an accepted sign-off by this key; the page says so; no more forms."""
    stored, decision = _decision(service)
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    response = clinician.post(f"/decisions/{stored['id']}/signoff", {"action": "accept"})
    assert response.status_code == 303
    signed = service.store.get_decision(stored["id"]).signoff
    assert signed is not None and signed.action == "accept" and signed.clinician == "test clinician"
    page = clinician.page(f"/decisions/{stored['id']}")
    assert "Accepted by test clinician" in page.by_id("signoff-status").text
    assert not page.all("form", action=f"/decisions/{stored['id']}/signoff")
    assert page.all("a", href=f"/decisions/{stored['id']}/report.pdf")
    assert decision.phase.name in page.by_id("signoff-status").text


def test_an_override_needs_a_reason_shown_at_the_field_with_the_phase_kept(
        service: Service, visitors: Any) -> None:
    """No reason (or only spaces): 422, the problem at the reason, the chosen phase still chosen."""
    stored, _ = _decision(service)
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    entries = service.store.count("audit_entries")
    response = clinician.post(f"/decisions/{stored['id']}/signoff",
                              {"action": "override", "phase": "load", "reason": "   "})
    assert response.status_code == 422
    page = Page(response.text)
    assert "is required to override" in page.by_id("signoff-reason-error").text
    assert page.by_id("signoff-reason").attrs["aria-invalid"] == "true"
    chosen = [e.attrs["value"] for e in page.all("option") if "selected" in e.attrs]
    assert "load" in chosen
    assert service.store.count("audit_entries") == entries
    assert service.store.get_decision(stored["id"]).signoff is None


def test_an_override_to_the_same_phase_or_without_one_is_refused(service: Service,
                                                                 visitors: Any) -> None:
    """The phase must be given and differ from the recommendation; the reason typed is kept."""
    stored, decision = _decision(service)
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    missing = Page(clinician.post(f"/decisions/{stored['id']}/signoff",
                                  {"action": "override", "reason": "Tight after travel"}).text)
    assert "is required to override" in missing.by_id("signoff-phase-error").text
    assert missing.by_id("signoff-reason").text == "Tight after travel"
    same = Page(clinician.post(f"/decisions/{stored['id']}/signoff", {
        "action": "override", "phase": decision.phase.id, "reason": "x"}).text)
    assert "accept it instead" in same.by_id("signoff-phase-error").text


def test_an_override_shows_the_signed_phase_and_its_clearance(service: Service,
                                                             visitors: Any) -> None:
    """Overridden below sprint: NOT CLEARED for the signed phase, the reason, and the
    recommendation left as it was."""
    stored, decision = _decision(service, "hamstring-winger-cleared-to-sprint")
    assert decision.cleared_to_sprint
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    response = clinician.post(f"/decisions/{stored['id']}/signoff", {
        "action": "override", "phase": "run", "reason": "Hesitant on the bend"})
    assert response.status_code == 303
    page = clinician.page(f"/decisions/{stored['id']}")
    status = page.by_id("signoff-status").text
    assert "Overridden by test clinician" in status
    assert "NOT CLEARED to sprint" in status and "Hesitant on the bend" in status
    assert banner_claims(decision)[1] == "✓ CLEARED to sprint"  # the recommendation stays
    assert "✓ CLEARED to sprint" in page.text.replace(status, "")
    assert "overridden by the clinician, not in force" in page.text
    assert "For the signed phase 3 · run" in page.text
    signed_table = page.text.split("For the signed phase", 1)[1].split("</table>", 1)[0]
    sprint_row = next(row for row in signed_table.split("<tr") if "4 sprint" in row)
    assert "not yet" in sprint_row  # the signed phase (run) does not allow sprinting
    assert "The overridden recommendation&#39;s activities" in page.text or \
        "The overridden recommendation's activities" in page.text


def test_a_second_sign_off_is_a_conflict_shown_on_the_page(service: Service,
                                                           visitors: Any) -> None:
    """Two tabs: the second accept is refused with the store's reason (409)."""
    stored, _ = _decision(service)
    first, second = visitors("clinician"), visitors("clinician")
    first.page(f"/decisions/{stored['id']}")
    second.page(f"/decisions/{stored['id']}")
    assert first.post(f"/decisions/{stored['id']}/signoff", {"action": "accept"}
                      ).status_code == 303
    again = second.post(f"/decisions/{stored['id']}/signoff", {"action": "accept"})
    assert again.status_code == 409
    assert "a sign-off is final" in Page(again.text).text


def test_readers_see_no_sign_off_forms(service: Service, visitors: Any) -> None:
    """Auditors and insurers read the decision; they get no form to sign it."""
    stored, _ = _decision(service)
    for role in ("auditor", "insurer"):
        page = visitors(role).page(f"/decisions/{stored['id']}")
        assert not page.all("form", action=f"/decisions/{stored['id']}/signoff"), role
        assert "Correct this assessment" not in page.text


def test_the_report_needs_a_sign_off_and_a_key(service: Service, visitors: Any) -> None:
    """Before sign-off: 409 page; signed but no signing key configured: 503 page naming it."""
    stored, _ = _decision(service)
    clinician = visitors("clinician")
    before = clinician.get(f"/decisions/{stored['id']}/report.pdf")
    assert before.status_code == 409 and "has not been signed off" in Page(before.text).text
    clinician.page(f"/decisions/{stored['id']}")
    clinician.post(f"/decisions/{stored['id']}/signoff", {"action": "accept"})
    unsigned = clinician.get(f"/decisions/{stored['id']}/report.pdf")
    assert unsigned.status_code == 503
    assert "SPRINTCLEAR_SIGNING_P12" in Page(unsigned.text).text


def test_the_report_downloads_signed_and_verifies(service: Service, visitors: Any,
                                                  report_signing: None, demo_pki: Any) -> None:
    """The signed PDF is a download (attachment) that verifies against the clinic's CA."""
    from reports import verify_report

    stored, _ = _decision(service)
    insurer, clinician = visitors("insurer"), visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    clinician.post(f"/decisions/{stored['id']}/signoff", {"action": "accept"})
    response = insurer.get(f"/decisions/{stored['id']}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    verification = verify_report(response.content,
                                 trust_roots=[demo_pki.ca_certificate.read_bytes()])
    assert verification.valid, verification.reasons
    assert service.store.audit_entries(limit=1000)[-1].actor["role"] == "insurer"


def test_an_insurer_finds_a_decision_by_its_id(service: Service, visitors: Any) -> None:
    """The lookup opens a stored decision, and says so when no decision has the id."""
    stored, _ = _decision(service)
    insurer = visitors("insurer")
    found = insurer.get(f"/decisions?id={stored['id']}")
    assert found.status_code == 303 and found.headers["location"] == f"/decisions/{stored['id']}"
    missing = insurer.get("/decisions?id=nope")
    assert missing.status_code == 404
    assert "No decision has the id 'nope'" in Page(missing.text).by_id("decision-id-error").text
