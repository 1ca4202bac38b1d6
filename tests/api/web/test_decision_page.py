"""The decision page: the decision's own words, the sign-off (accept, override), the report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from page_support import Page
from sqlalchemy import text

from engine.decision import Decision, read_decision
from reports.view import banner_claims
from rules import default_protocol
from rules.dictionary import FIELDS_BY_PATH

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FLARE = "hamstring-symptom-flare-next-morning-pain"
SIGNED_FLARE = "hamstring-flare-steps-back-from-the-signed-phase"
FIRST_VISIT = "calf-first-visit-capped-at-run-without-a-signed-phase"
LATE_VISIT = "hamstring-late-visit-early-gates-carried-forward"
SURGICAL = "hamstring-proximal-avulsion-surgical-review-out-of-scope"
PLAY = "hamstring-rugby-back-reinjury-cleared-to-play-conservative"
FIXTURES = Path(__file__).parents[2] / "engine" / "fixtures"


def _sign(visitor: Any, decision_id: str, fields: dict[str, str]) -> Any:
    """Both steps of a sign-off: the form, then the confirmation with every red flag, hold
    and caution it lists acknowledged (and an override above the recommendation confirmed)."""
    step = visitor.post(f"/decisions/{decision_id}/signoff", fields)
    if step.status_code != 200:
        return step
    page = Page(step.text)
    ticks = [("acknowledged", e.attrs["value"]) for e in page.all("input", name="acknowledged")]
    ticks += [("confirm_above", e.attrs["value"])
              for e in page.all("input", name="confirm_above")]
    return visitor.post(f"/decisions/{decision_id}/signoff",
                        [("step", "confirm"), *fields.items(), *ticks])


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
    sources = default_protocol().source_by_id
    for criterion in decision.criteria:
        assert criterion.id in page.text
        if criterion.status != "not_applicable":
            for source in criterion.sources:
                assert sources[source].short in page.text, (criterion.id, source)


def test_status_is_a_word_and_a_symbol_in_every_criterion_row(service: Service,
                                                               visitors: Any) -> None:
    """Each criterion row says met / not met / not assessed in words beside its symbol."""
    words = {"met": "✓ met", "unmet": "✗ not met", "missing": "? not assessed",
             "carried": "criterion: ✓ carried forward"}
    seen = set()
    for name in (FLARE, "calf-missing-tests-heel-raise-and-hop-not-done", LATE_VISIT):
        stored, decision = _decision(service, name)
        page = visitors("clinician").page(f"/decisions/{stored['id']}")
        for criterion in decision.criteria:
            rows = page.all("tr", data_criterion=criterion.id)
            if criterion.status == "not_applicable":
                assert not rows
                continue
            css = {"met": "met", "unmet": "unmet", "not_assessed": "missing",
                   "carried_forward": "carried"}[criterion.status]
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
    items = [e.text for e in page.all("li") if e.text.split(" ", 1)[0] in
             {step.rule for step in decision.explanation} and "declared" in e.text]
    assert [item.split(" ", 1)[0] for item in items] == [s.rule for s in decision.explanation]
    for item, step in zip(items, decision.explanation, strict=True):
        assert f"declared {step.declared.fact}: " in item
    names = default_protocol().rule_names
    assert names["R3"] in details[0].text  # the red flag named as the protocol names it


def test_accepting_signs_the_recommendation_as_the_signed_in_clinician(
        service: Service, visitors: Any) -> None:
    """Accept: the store keeps an accepted sign-off by this key; the page says so; no more forms."""
    stored, decision = _decision(service)
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    response = _sign(clinician, stored["id"], {"action": "accept"})
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
    response = _sign(clinician, stored["id"], {
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
    plan = page.by_id("plan").text  # the plan is the recommendation's, and says so
    assert plan.startswith("The plan of the recommendation")
    assert ("For the recommended phase 4 · sprint, not for the signed phase 3 · run"
            in plan.replace(" ,", ","))
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
    assert _sign(first, stored["id"], {"action": "accept"}).status_code == 303
    again = second.post(f"/decisions/{stored['id']}/signoff", {"action": "accept"})
    assert again.status_code == 409
    assert "a sign-off is final" in Page(again.text).text


def test_readers_see_no_sign_off_forms(service: Service, visitors: Any) -> None:
    """Auditors read the unsigned decision, insurers only once it is signed (not found before,
    issue 10 item 10); neither gets a form to sign it or to correct it."""
    stored, _ = _decision(service)
    page = visitors("auditor").page(f"/decisions/{stored['id']}")
    assert not page.all("form", action=f"/decisions/{stored['id']}/signoff")
    assert "Correct this assessment" not in page.text
    insurer = visitors("insurer")
    assert insurer.get(f"/decisions/{stored['id']}").status_code == 404
    service.client.post(f"/v1/decisions/{stored['id']}/signoff", json={"action": "accept"},
                        headers=service.as_("clinician"))
    page = insurer.page(f"/decisions/{stored['id']}")
    assert not page.all("form", action=f"/decisions/{stored['id']}/signoff")
    assert "Correct this assessment" not in page.text


def test_the_report_needs_a_sign_off_and_a_key(service: Service, visitors: Any) -> None:
    """Before sign-off: 409 page; signed but no report issued (no signing key): 404 page
    saying how to issue it."""
    stored, _ = _decision(service)
    clinician = visitors("clinician")
    before = clinician.get(f"/decisions/{stored['id']}/report.pdf")
    assert before.status_code == 409 and "has not been signed off" in Page(before.text).text
    clinician.page(f"/decisions/{stored['id']}")
    assert _sign(clinician, stored["id"], {"action": "accept"}).status_code == 303
    unsigned = clinician.get(f"/decisions/{stored['id']}/report.pdf")
    assert unsigned.status_code == 404
    assert "no report was issued" in Page(unsigned.text).text


def test_the_report_downloads_signed_and_verifies(service: Service, visitors: Any,
                                                  report_signing: None, demo_pki: Any) -> None:
    """The PDF issued at sign-off is a download (attachment) that verifies against the CA."""
    from reports import verify_report

    stored, _ = _decision(service)
    insurer, clinician = visitors("insurer"), visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    assert _sign(clinician, stored["id"], {"action": "accept"}).status_code == 303
    response = insurer.get(f"/decisions/{stored['id']}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    verification = verify_report(response.content,
                                 trust_roots=[demo_pki.ca_certificate.read_bytes()])
    assert verification.valid, verification.reasons
    # issued at the clinician's sign-off, attributed to them; the download wrote nothing
    last = service.store.audit_entries(limit=1000)[-1]
    assert (last.action, last.actor["role"]) == ("report.create", "clinician")


def test_an_insurer_finds_a_decision_by_its_id(service: Service, visitors: Any) -> None:
    """The lookup opens a stored decision, and says so when no decision has the id."""
    stored, _ = _decision(service)
    insurer = visitors("insurer")
    found = insurer.get(f"/decisions?id={stored['id']}")
    assert found.status_code == 303 and found.headers["location"] == f"/decisions/{stored['id']}"
    missing = insurer.get("/decisions?id=nope")
    assert missing.status_code == 404
    assert "No decision has the id 'nope'" in Page(missing.text).by_id("decision-id-error").text


def _section(page: Page, section_id: str) -> str:
    return page.by_id(section_id).text


def test_the_page_says_which_signed_phase_the_decision_started_from(service: Service,
                                                                     visitors: Any) -> None:
    """The signed phase and its assessment's date lead the recommendation; none: it says so."""
    stored, decision = _decision(service, SIGNED_FLARE)
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    assert decision.previous.phase == "run" and decision.previous.date == "2026-03-05"
    banner = page.by_id("banner-title")
    assert ("Started from the signed phase: 3 run, signed for the assessment of 2026-03-05"
            in page.text)
    assert banner.text in page.text
    first, _ = _decision(service, FIRST_VISIT)
    assert "Started from the signed phase: no signed phase on record" in visitors(
        "clinician").page(f"/decisions/{first['id']}").text


def test_red_flags_and_holds_come_before_the_next_gate_each_with_what_ends_it(
        service: Service, visitors: Any) -> None:
    """Held below the criteria phase: the red flag, then the hold, then the gate's criteria."""
    stored, decision = _decision(service, SIGNED_FLARE)
    assert [(h.id, h.kind) for h in decision.held_by] == [("R3", "red_flag"), ("R6", "hold")]
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    section = _section(page, "next")
    held = [s for s in decision.next_steps if s.kind != "criterion"]
    criteria = [s for s in decision.next_steps if s.kind == "criterion"]
    assert held and criteria
    positions = [section.index(step.text) for step in decision.next_steps]
    assert positions == sorted(positions)  # in the decision's order: red flags, holds, criteria
    assert section.index(held[-1].text) < section.index(decision.next_gate.id)
    assert f"! Red flag {held[0].text} (caps the phase at 2 · load)" in section
    assert f"■ Hold {held[1].text} (caps the phase at 4 · sprint)" in section
    for held_by in decision.held_by:
        assert held_by.ends in section
    assert "Held below what the criteria allow (5 · train) by these red flags and holds" in section


def test_nothing_held_means_the_next_gate_alone(service: Service, visitors: Any) -> None:
    """A decision at its criteria phase lists only the next gate's criteria, no held-by list."""
    stored, decision = _decision(service, LATE_VISIT)
    assert decision.held_by == [] and decision.phase == decision.criteria_phase
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    assert not page.all("ol", **{"class": "held-by"})
    assert "Held below what the criteria allow" not in page.text


def test_holds_are_shown_with_their_effect_and_what_ends_them(service: Service,
                                                              visitors: Any) -> None:
    """A first visit without a signed phase: the R6 hold, its message, effect and ending."""
    stored, decision = _decision(service, FIRST_VISIT)
    [hold] = decision.holds
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    panel = next(e.text for e in page.all("div", **{"class": "panel safety hold"}))
    assert panel.startswith(f"■ Hold {hold.id} · {hold.name}")
    assert hold.message in panel and hold.effect in panel and hold.ends in panel
    assert "Red flags, holds and cautions" in page.text


def test_carried_forward_criteria_are_listed_as_a_word_and_a_symbol(service: Service,
                                                                    visitors: Any) -> None:
    """A late visit: each criterion carried forward, by id and name, said in words."""
    stored, decision = _decision(service, LATE_VISIT)
    assert decision.carried_forward == ["C101", "C104", "C203"]
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    listed = [e.text for e in page.all("li", **{"class": "carried"})]
    names = {c.id: c.name for c in decision.criteria}
    assert listed == [f"✓ carried forward {cid} {names[cid]}" for cid in decision.carried_forward]
    assert ("they belong to gates below the signed phase (4 sprint, signed for the assessment "
            "of 2026-03-17)") in page.text


def test_missing_screening_is_listed_with_the_phase_that_needs_it(service: Service,
                                                                  visitors: Any) -> None:
    """Screens not recorded: each field by its label and path, with the first phase needing it."""
    stored, decision = _decision(service, SURGICAL)
    assert decision.missing_screening
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    listed = [e.text.replace(" ,", ",") for e in page.all("li", **{"class": "missing"})
              if "not recorded" in e.text]
    phases = {p.id: f"{p.number} · {p.id}" for p in default_protocol().phases}
    assert listed == [f"? not recorded {FIELDS_BY_PATH[m.field].label} {m.field}, needed to be "
                      f"in {phases[m.from_phase]} or above" for m in decision.missing_screening]


def test_the_plan_shows_the_ceiling_volume_reassessment_and_retests(service: Service,
                                                                    visitors: Any) -> None:
    """At play: running ceiling with basis and m/s, the volume note, re-assess by, re-tests."""
    stored, decision = _decision(service, PLAY)
    plan = decision.plan
    assert plan is not None and plan.retests
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    section = _section(page, "plan")
    assert (f"Running up to {plan.max_velocity_pct:.1f} % of max velocity (the phase's "
            f"ceiling) = {plan.max_velocity_mps:.1f} m/s") in section
    assert f"Volume {plan.volume.note}" in section
    assert f"Re-assess by {plan.reassess_by}" in section
    assert "Re-tests " + ", ".join(plan.retests) in section
    flare, flared = _decision(service, SIGNED_FLARE)
    assert flared.plan is not None and flared.plan.max_velocity_pct == 70.0
    assert "up to 70.0 % of max velocity" in _section(
        visitors("clinician").page(f"/decisions/{flare['id']}"), "plan")


def _as_if_stored_under_2026_1(service: Service, decision_id: str, fixture: str) -> str:
    """Put a real 2026.1 decision in a stored decision's place, as an archive from before the
    upgrade holds it (the write-once triggers are dropped for this, as an operator could)."""
    decision_json = (FIXTURES / fixture).read_text("utf-8").strip()
    with service.store.database.engine.begin() as connection:
        for operation in ("update", "delete"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS decisions_write_once_{operation}"))
        connection.execute(text("UPDATE decisions SET decision_json = :json WHERE id = :id"),
                           {"json": decision_json, "id": decision_id})
    return decision_json


def test_a_stored_2026_1_decision_still_renders(service: Service, visitors: Any) -> None:
    """Format 1 (no plan, no holds): its phase, red flag and criteria as decided, no plan."""
    stored, _ = _decision(service, "hamstring-red-flag-increasing-swelling-refer")
    old = read_decision(_as_if_stored_under_2026_1(
        service, stored["id"], "decision-2026.1-red-flag-swelling-refer.json"))
    assert old.format == "sprintclear-decision/1" and old.plan is None
    response = visitors("clinician").get(f"/decisions/{stored['id']}")
    assert response.status_code == 200
    page = Page(response.text)
    assert page.by_id("banner-title").text == banner_claims(old)[0]
    assert "held at 1 by R1." in page.text
    assert old.red_flags[0].message in page.text
    assert "none: decided under protocol 2026.1, which had no plan" in _section(page, "plan")
    assert "Started from the signed phase: 2 load" in page.text
    for criterion in old.criteria:
        if criterion.status != "not_applicable":
            assert page.all("tr", data_criterion=criterion.id), criterion.id
    assert "2026.1" in page.text


def test_red_flags_that_keep_the_phase_come_before_the_gate_even_when_not_held_below(
        service: Service, visitors: Any) -> None:
    """A surgical review at protect: R1 and R11 are named before G1's walking-pain criteria."""
    stored, decision = _decision(service, SURGICAL)
    assert decision.held_by == [] and decision.phase.id == decision.criteria_phase.id == "protect"
    page = visitors("clinician").page(f"/decisions/{stored['id']}")
    section = _section(page, "next")
    standing = [e.text for e in page.all("li") if e.text.startswith("! Red flag")]
    assert standing == [f"! Red flag {f.id} {f.name} (caps the phase at 1 · protect while it "
                        f"stands)" for f in decision.red_flags]
    assert section.index(standing[-1]) < section.index(decision.blocking_details[0].needs)
    flare, _ = _decision(service, SIGNED_FLARE)  # its red flag is held_by: listed once
    assert not visitors("clinician").page(f"/decisions/{flare['id']}").all(
        "ul", **{"class": "held-by standing"})


def test_a_sign_off_is_confirmed_on_a_second_step_that_records_the_acknowledgements(
        service: Service, visitors: Any) -> None:
    """Accept opens the confirmation step (nothing stored); it lists the red flags, holds and
    cautions; confirming without ticking them all is refused; ticked, they are recorded."""
    stored, decision = _decision(service)
    listed = [f.id for f in decision.red_flags] + [h.id for h in decision.holds] + [
        c.id for c in decision.cautions]
    assert listed, "the flare example has a red flag to acknowledge"
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    entries = service.store.count("audit_entries")
    step = clinician.post(f"/decisions/{stored['id']}/signoff", {"action": "accept"})
    assert step.status_code == 200 and service.store.get_decision(stored["id"]).signoff is None
    page = Page(step.text)
    boxes = [e.attrs["value"] for e in page.all("input", name="acknowledged")]
    assert boxes == list(dict.fromkeys(listed))
    assert "Red flag R3" in page.text and "Confirm and sign" in page.text
    refused = clinician.post(f"/decisions/{stored['id']}/signoff",
                             [("step", "confirm"), ("action", "accept")])
    assert refused.status_code == 422
    assert "tick it to acknowledge it" in Page(refused.text).by_id("problems").text
    assert service.store.count("audit_entries") == entries
    signed = _sign(clinician, stored["id"], {"action": "accept"})
    assert signed.status_code == 303
    signoff = service.store.get_decision(stored["id"]).signoff
    assert signoff is not None and signoff.acknowledged == boxes
    entry = service.store.audit_entries(limit=1000)[-1]
    assert entry.action == "signoff.accept" and entry.details["acknowledged"] == boxes
    assert service.store.verify_audit().intact


def test_an_override_above_the_recommendation_needs_a_second_confirmation_naming_what_it_clears(
        service: Service, visitors: Any) -> None:
    """Signing sprint over a recommended lower phase lists what it clears and the caps it
    sets aside; without ticking that statement nothing is signed."""
    stored, decision = _decision(service)
    assert decision.phase.number < 4
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    fields = {"action": "override", "phase": "sprint", "reason": "Flare settled by noon"}
    step = Page(clinician.post(f"/decisions/{stored['id']}/signoff", fields).text)
    above = step.all("input", name="confirm_above")
    assert [e.attrs["value"] for e in above] == ["sprint"]
    assert "clears the athlete to sprint" in step.text
    assert "sets aside R3" in step.text or "sets aside red flag R3" in step.text
    ticks = [("acknowledged", e.attrs["value"]) for e in step.all("input", name="acknowledged")]
    refused = clinician.post(f"/decisions/{stored['id']}/signoff",
                             [("step", "confirm"), *fields.items(), *ticks])
    assert refused.status_code == 422
    assert "needs its own confirmation" in Page(refused.text).text
    assert service.store.get_decision(stored["id"]).signoff is None
    assert _sign(clinician, stored["id"], fields).status_code == 303
    signoff = service.store.get_decision(stored["id"]).signoff
    assert signoff is not None and signoff.signed_phase == "sprint"


def test_an_override_below_needs_no_second_confirmation(service: Service,
                                                        visitors: Any) -> None:
    """Signing a lower phase than recommended asks only for the acknowledgements."""
    stored, _ = _decision(service, "hamstring-winger-cleared-to-sprint")
    clinician = visitors("clinician")
    clinician.page(f"/decisions/{stored['id']}")
    step = Page(clinician.post(f"/decisions/{stored['id']}/signoff", {
        "action": "override", "phase": "run", "reason": "Hesitant"}).text)
    assert not step.all("input", name="confirm_above")


def test_the_api_records_an_acknowledgement_list_and_refuses_unknown_ids(
        service: Service) -> None:
    """POST …/signoff takes an optional ``acknowledged`` list of the decision's own ids."""
    stored, decision = _decision(service)
    wrong = service.client.post(f"/v1/decisions/{stored['id']}/signoff",
                                headers=service.as_("clinician"),
                                json={"action": "accept", "acknowledged": ["R99"]})
    assert wrong.status_code == 422 and "acknowledged" in wrong.text
    ids = [f.id for f in decision.red_flags]
    done = service.client.post(f"/v1/decisions/{stored['id']}/signoff",
                               headers=service.as_("clinician"),
                               json={"action": "accept", "acknowledged": ids})
    assert done.status_code == 201 and done.json()["acknowledged"] == ids
