"""The HTTP API: decide, store, read back, sign off, and every kind of refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from support import EXAMPLES, INVALID_CASES, REPO, hamstring_play, problem, varied
from support import load_example as example

from rules.loading import default_protocol

if TYPE_CHECKING:
    from conftest import Service

WINGER = "hamstring-winger-cleared-to-sprint"


def test_evaluate_answers_what_the_command_line_prints(service: Service) -> None:
    """POST /v1/evaluate returns byte for byte the decision `sprintclear evaluate --json` prints."""
    path = EXAMPLES / f"{WINGER}.json"
    response = service.client.post("/v1/evaluate", content=path.read_bytes(),
                                   headers=service.as_("clinician"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    cli = subprocess.run([sys.executable, "-m", "sprintclear", "evaluate", "--json", str(path)],
                         capture_output=True, text=True, check=True, cwd=REPO)
    assert response.text == cli.stdout.strip()


def test_evaluate_stores_nothing(service: Service) -> None:
    """A what-if decision leaves no assessment, decision or audit entry behind."""
    before = service.store.count("audit_entries")
    response = service.client.post("/v1/evaluate", json=example(WINGER),
                                   headers=service.as_("clinician"))
    assert response.status_code == 200
    assert service.store.count("assessments") == 0
    assert service.store.count("audit_entries") == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_invalid_assessment_is_422_naming_field_and_rule(service: Service) -> None:
    """Every kind of invalid input: 422, and the field path and rule the command line names."""
    for case, changes, field, rule in INVALID_CASES:
        body = json.dumps(varied(hamstring_play(), changes))
        response = service.client.post("/v1/evaluate", content=body,
                                       headers={**service.as_("clinician"),
                                                "content-type": "application/json"})
        assert response.status_code == 422, case
        error = problem(response)
        assert error["detail"] == "the assessment is not valid", case
        assert {"field": field, "rule": rule} in [{"field": f["field"], "rule": f["rule"]}
                                                  for f in error["fields"]], case


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_invalid_assessment_has_the_command_lines_messages(service: Service, tmp_path: Any
                                                           ) -> None:
    """The 422 fields are exactly the problems `sprintclear evaluate --json` reports."""
    document = varied(hamstring_play(), {"pain.rest": 11, "pian.rest": 0,
                                         "strength.nordic_n": (300, 0)})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), "utf-8")
    cli = subprocess.run([sys.executable, "-m", "sprintclear", "evaluate", "--json", str(path)],
                         capture_output=True, text=True, cwd=REPO)
    response = service.client.post("/v1/evaluate", content=path.read_bytes(),
                                   headers=service.as_("clinician"))
    assert response.status_code == 422
    assert problem(response)["fields"] == json.loads(cli.stdout)["error"]["fields"]


BAD_BODIES = {
    "empty": b"",
    "not-json": b"not json",
    "not-utf8": b"\xff\xfe\x00garbage",
    "array": b"[1, 2, 3]",
    "string": b'"text"',
    "null": b"null",
    "wrong-types": b'{"athlete": {"id": 5}}',
    "huge-integer": b'{"pain": {"rest": 1' + b"0" * 5000 + b"}}",
    "infinite-number": b'{"pain": {"rest": 1e999}}',
    "deeply-nested": b"[" * 50_000 + b"]" * 50_000,
    "lone-surrogate": b'{"athlete": {"id": "\\ud800"}}',
}


@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/injuries/{injury}/assessments",
                                  "/v1/athletes", "/v1/athletes/FC-23/injuries",
                                  "/v1/decisions/{decision}/signoff", "/v1/keys"])
def test_bad_input_of_any_shape_is_422_never_500(service: Service, path: str) -> None:
    """Whatever the body, a write answers 422 with the error envelope, and stores nothing."""
    stored = service.stored_decision()
    url = path.format(injury=stored["injury_id"], decision=stored["id"])
    role = "admin" if path == "/v1/keys" else "clinician"
    before = service.store.count("audit_entries")
    for name, body in BAD_BODIES.items():
        response = service.client.post(url, content=body, headers={
            **service.as_(role), "content-type": "application/json"})
        assert response.status_code == 422, (name, response.text)
        error = problem(response)
        assert error["detail"] and error["fields"], name
    assert service.store.count("audit_entries") == before


def test_body_over_the_limit_is_413(service: Service) -> None:
    """A body larger than the configured limit is refused before it is parsed."""
    response = service.client.post("/v1/evaluate", content=b" " * 1_000_001,
                                   headers=service.as_("clinician"))
    assert response.status_code == 413
    assert "larger than" in problem(response)["detail"]


def test_nul_character_is_422_on_storing_an_assessment(service: Service) -> None:
    """Text with a NUL character is refused (PostgreSQL cannot store it) by field, on both."""
    stored = service.stored_decision()
    document = varied(example(WINGER), {"assessment.assessor": "Dr. \u0000 Moreau"})
    response = service.assess(stored["injury_id"], document)
    assert response.status_code == 422
    assert problem(response)["fields"][0]["field"] == "assessment.assessor"


UNKNOWN = ["/v1/athletes/NOPE", "/v1/athletes/NOPE/timeline", "/v1/athletes/NOPE/injuries",
           "/v1/injuries/inj_0000", "/v1/injuries/inj_0000/assessments",
           "/v1/assessments/asm_0000", "/v1/decisions/0000", "/v1/decisions/0000/report.pdf",
           "/v1/decisions/" + "9" * 5000, "/v1/athletes/%00", "/v1/athletes/" + "x" * 300]


def test_unknown_ids_are_404(service: Service) -> None:
    """An id that does not exist, however long or odd, is 404 with the error envelope."""
    for path in UNKNOWN:
        response = service.client.get(path, headers=service.as_("auditor"))
        assert response.status_code == 404, path[:40]
        assert problem(response)["detail"], path[:40]
    for path, role in (("/v1/decisions/0000/signoff", "clinician"),
                       ("/v1/keys/key_0000/revoke", "admin")):
        response = service.client.post(path, json={"action": "accept"},
                                       headers=service.as_(role))
        assert response.status_code == 404, path


def test_store_and_decide_then_read_back(service: Service) -> None:
    """A stored assessment's decision reads back identical, with where it belongs."""
    stored = service.stored_decision()
    evaluated = service.client.post("/v1/evaluate", json=example(WINGER),
                                    headers=service.as_("clinician")).json()
    decision = stored["decision"]
    assert decision["phase"] == evaluated["phase"]
    assert decision["criteria"] == evaluated["criteria"]
    assert decision["explanation"] == evaluated["explanation"]
    assert decision["evaluated_at"] == stored["decided_at"]
    assert decision["rulebase"]["version"] == stored["rulebase_version"]
    read = service.client.get(f"/v1/decisions/{stored['id']}", headers=service.as_("auditor"))
    assert read.status_code == 200
    assert read.json() == stored
    assessment = service.client.get(f"/v1/assessments/{stored['assessment_id']}",
                                    headers=service.as_("auditor")).json()
    assert assessment["document"]["assessment"]["assessor"] == "Dr. A. Moreau"
    assert assessment["entry"]["decision"]["phase"] == {"number": 4, "id": "sprint"}


def test_stored_decision_keeps_the_exact_json(service: Service) -> None:
    """The decision read back has the SHA-256 that was recorded when it was stored."""
    import hashlib

    stored = service.stored_decision()
    raw = service.client.get(f"/v1/decisions/{stored['id']}",
                             headers=service.as_("clinician")).text
    decision_text = raw[raw.index('"decision":{') + len('"decision":'):-1]
    assert hashlib.sha256(decision_text.encode()).hexdigest() == stored["decision_sha256"]


def test_timeline_shows_phases_over_time(service: Service) -> None:
    """Visits of one injury, in date order, with phases, blocking criteria and sign-offs."""
    service.athlete("FC-23")
    injury = service.injury("FC-23")
    first = service.assess(injury["id"], example(
        "hamstring-footballer-progressive-running-strength-deficit")).json()
    service.client.post(f"/v1/decisions/{first['id']}/signoff", json={"action": "accept"},
                        headers=service.as_("clinician"))
    later = {k: v for k, v in example(WINGER).items() if k != "previous"}  # the service's
    assert service.assess(injury["id"], later).status_code == 201
    timeline = service.client.get("/v1/athletes/FC-23/timeline",
                                  headers=service.as_("auditor")).json()
    # the first is the signed visit of 2026-02-24 the footballer's example starts from
    entries = timeline["injuries"][0]["assessments"]
    assert [e["assessment_date"] for e in entries] == ["2026-02-24", "2026-03-03", "2026-03-17"]
    assert [e["decision"]["phase"]["id"] for e in entries[1:]] == ["run", "sprint"]
    assert entries[1]["decision"]["cautions"] == ["R8"]
    assert entries[1]["signoff"]["action"] == "accept"
    assert entries[2]["signoff"] is None
    assert "C401" in entries[2]["decision"]["blocking"]


def test_correction_supersedes_and_keeps_the_original(service: Service) -> None:
    """A correction references the assessment it supersedes; the original stays unchanged."""
    stored = service.stored_decision()
    corrected = varied(example(WINGER), {"sprint.repeated_sprint_passed": True})
    response = service.assess(stored["injury_id"], corrected,
                              supersedes=stored["assessment_id"])
    assert response.status_code == 201
    original = service.client.get(f"/v1/decisions/{stored['id']}",
                                  headers=service.as_("clinician")).json()
    assert original["superseded_by"] == response.json()["assessment_id"]
    assert original["decision"] == stored["decision"]
    entries = service.client.get(f"/v1/injuries/{stored['injury_id']}/assessments",
                                 headers=service.as_("clinician")).json()
    assert [e["supersedes"] for e in entries][-2:] == [None, stored["assessment_id"]]


CONFLICTS = [
    pytest.param("duplicate-athlete", id="duplicate-athlete"),
    pytest.param("duplicate-injury", id="duplicate-injury"),
    pytest.param("identical-assessment", id="identical-assessment"),
    pytest.param("other-athletes-document", id="other-athletes-document"),
    pytest.param("other-side", id="document-of-another-injury"),
    pytest.param("supersede-other-athlete", id="supersede-other-athlete"),
    pytest.param("supersede-twice", id="supersede-twice"),
    pytest.param("second-signoff", id="second-signoff"),
    pytest.param("signoff-superseded", id="signoff-superseded"),
    pytest.param("report-before-signoff", id="report-before-signoff"),
]


def _conflict(service: Service, case: str) -> Callable[[], Any]:
    """Set the case up; return the request that must be refused."""
    stored = service.stored_decision()
    clinician = service.as_("clinician")
    client = service.client
    injury_id, assessment_id = stored["injury_id"], stored["assessment_id"]
    signoff = f"/v1/decisions/{stored['id']}/signoff"
    if case == "duplicate-athlete":
        return lambda: client.post("/v1/athletes", json={"id": "FC-23"}, headers=clinician)
    if case == "duplicate-injury":
        return lambda: client.post("/v1/athletes/FC-23/injuries", json={
            "region": "hamstring", "side": "right", "date": "2026-02-10"}, headers=clinician)
    if case == "identical-assessment":
        return lambda: service.assess(injury_id, example(WINGER))
    if case == "other-athletes-document":
        return lambda: service.assess(injury_id, varied(example(WINGER),
                                                        {"athlete.id": "FC-99"}))
    if case == "other-side":
        return lambda: service.assess(injury_id, varied(example(WINGER),
                                                        {"injury.side": "left"}))
    if case == "supersede-other-athlete":
        flare = "hamstring-symptom-flare-next-morning-pain"
        other = service.stored_decision(flare)
        return lambda: service.assess(other["injury_id"], varied(example(flare),
                                                                 {"pain.rest": 1}),
                                      supersedes=assessment_id)
    if case == "supersede-twice":
        first = varied(example(WINGER), {"pain.rest": 1})
        assert service.assess(injury_id, first, supersedes=assessment_id).status_code == 201
        return lambda: service.assess(injury_id, varied(first, {"pain.rest": 2}),
                                      supersedes=assessment_id)
    if case == "second-signoff":
        assert client.post(signoff, json={"action": "accept"},
                           headers=clinician).status_code == 201
        return lambda: client.post(signoff, json={"action": "override", "phase": "run",
                                                  "reason": "changed my mind"},
                                   headers=clinician)
    if case == "signoff-superseded":
        service.assess(injury_id, varied(example(WINGER), {"pain.rest": 1}),
                       supersedes=assessment_id)
        return lambda: client.post(signoff, json={"action": "accept"}, headers=clinician)
    assert case == "report-before-signoff"
    return lambda: client.get(f"/v1/decisions/{stored['id']}/report.pdf", headers=clinician)


@pytest.mark.parametrize("case", CONFLICTS)
def test_conflicts_are_409_and_store_nothing(service: Service, case: str) -> None:
    """Each contradiction with what is stored is 409, says why, and adds no entry."""
    request = _conflict(service, case)
    before = service.store.count("audit_entries")
    response = request()
    assert response.status_code == 409, response.text
    assert problem(response)["detail"]
    verification = service.store.verify_audit()
    assert verification.intact
    assert verification.entries == before


def test_a_refused_write_leaves_no_row_and_no_entry(service: Service) -> None:
    """A 409 on storing an assessment adds nothing, not even the decision or an audit entry."""
    stored = service.stored_decision()
    counts = {t: service.store.count(t) for t in ("assessments", "decisions", "audit_entries")}
    response = service.assess(stored["injury_id"], varied(example(WINGER),
                                                          {"injury.side": "left"}))
    assert response.status_code == 409
    assert {t: service.store.count(t) for t in counts} == counts


def test_a_failure_midway_rolls_everything_back(service: Service,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """If the second audit entry of a write fails, the assessment and decision go too."""
    from fastapi.testclient import TestClient

    from api.store import audit

    stored = service.stored_decision()
    counts = {t: service.store.count(t) for t in ("assessments", "decisions", "audit_entries")}
    real_append = audit.append

    def failing_append(session: Any, **kwargs: Any) -> Any:
        if kwargs["action"] == "decision.create":
            raise RuntimeError("disk full")
        return real_append(session, **kwargs)

    monkeypatch.setattr(audit, "append", failing_append)
    client = TestClient(service.client.app, raise_server_exceptions=False)
    response = client.post(f"/v1/injuries/{stored['injury_id']}/assessments",
                           json=varied(example(WINGER), {"pain.rest": 1}),
                           headers=service.as_("clinician"))
    assert response.status_code == 500
    assert "nothing was stored" in problem(response)["detail"]
    assert {t: service.store.count(t) for t in counts} == counts
    assert service.store.verify_audit().intact


SIGNOFF_ERRORS = [
    ({"action": "override", "phase": "run"}, "reason", "required"),
    ({"action": "override", "reason": "  "}, "phase", "required"),
    ({"action": "override", "phase": "sprint", "reason": "same"}, "phase", "same_phase"),
    ({"action": "accept", "phase": "run"}, "phase", "accept_phase"),
    ({"action": "approve"}, "action", "choice"),
    ({"action": "override", "phase": "jog", "reason": "x"}, "phase", "choice"),
    ({"action": "accept", "note": "x"}, "note", "unknown_field"),
    ({"action": "override", "phase": "run", "reason": "x" * 4001}, "reason", "length"),
    # an override above the recommendation (sprint) needs confirm_above = the signed phase
    ({"action": "override", "phase": "play", "reason": "x"}, "confirm_above", "required"),
    ({"action": "override", "phase": "play", "reason": "x", "confirm_above": "train"},
     "confirm_above", "confirmation"),
    ({"action": "override", "phase": "play", "reason": "x", "confirm_above": "jog"},
     "confirm_above", "choice"),
    ({"action": "accept", "confirm_above": "run"}, "confirm_above", "confirmation"),
]


def test_invalid_signoff_is_422(service: Service) -> None:
    """An override needs a phase other than the recommended one and a reason."""
    stored = service.stored_decision()
    signed = service.store.count("signoffs")  # the signed visit the example starts from
    for body, field, rule in SIGNOFF_ERRORS:
        response = service.client.post(f"/v1/decisions/{stored['id']}/signoff", json=body,
                                       headers=service.as_("clinician"))
        assert response.status_code == 422, body
        assert {"field": field, "rule": rule} in [
            {"field": f["field"], "rule": f["rule"]}
            for f in problem(response)["fields"]], body
    assert service.store.count("signoffs") == signed


def test_override_keeps_the_recommendation(service: Service) -> None:
    """An override records the clinician's phase and reason; the decision is unchanged."""
    stored = service.stored_decision()
    response = service.client.post(
        f"/v1/decisions/{stored['id']}/signoff",
        json={"action": "override", "phase": "run", "reason": "Felt hesitant on the curve"},
        headers=service.as_("clinician"))
    assert response.status_code == 201
    signoff = response.json()
    assert (signoff["recommended_phase"], signoff["signed_phase"]) == ("sprint", "run")
    assert signoff["clinician"] == "test clinician"
    read = service.client.get(f"/v1/decisions/{stored['id']}",
                              headers=service.as_("auditor")).json()
    assert read["decision"] == stored["decision"]
    assert read["signoff"] == {k: v for k, v in signoff.items()
                               if k not in ("report", "report_problem")}
    assert signoff["report"] is None  # this service has no signing key


def test_an_override_above_needs_confirm_above_naming_what_it_clears(
        service: Service) -> None:
    """Signing sprint over the flare's lower recommendation: without ``confirm_above`` a 422
    names the field and says, as the page's confirmation step does, what the override
    clears; nothing is stored. Confirmed with the signed phase's id, it is signed."""
    from engine.confirmation import confirmation
    from engine.decision import Decision

    stored = service.stored_decision("hamstring-symptom-flare-next-morning-pain")
    decision = Decision.model_validate(stored["decision"])
    assert decision.phase.number < 4 and decision.red_flags
    url = f"/v1/decisions/{stored['id']}/signoff"
    body = {"action": "override", "phase": "sprint", "reason": "Flare settled by noon"}
    counts = {t: service.store.count(t) for t in ("signoffs", "audit_entries")}
    refused = service.client.post(url, json=body, headers=service.as_("clinician"))
    assert refused.status_code == 422
    [field] = problem(refused)["fields"]
    assert (field["field"], field["rule"]) == ("confirm_above", "required")
    statement = confirmation(decision, default_protocol(), "override", "sprint", None).statement
    assert statement in field["message"] and "'sprint'" in field["message"]
    assert "clears the athlete to sprint" in field["message"]
    assert "red flag R3" in field["message"] or "sets aside R3" in field["message"]
    assert {t: service.store.count(t) for t in counts} == counts
    signed = service.client.post(url, json={**body, "confirm_above": "sprint"},
                                 headers=service.as_("clinician"))
    assert signed.status_code == 201, signed.text
    assert (signed.json()["recommended_phase"], signed.json()["signed_phase"]) == (
        decision.phase.id, "sprint")
    again = service.client.post(url, json=body, headers=service.as_("clinician"))
    assert again.status_code == 409  # final: the conflict, not the missing confirmation


def test_rules_catalogue_has_every_rule_with_thresholds_and_sources(service: Service) -> None:
    """GET /v1/rules lists every criterion, red flag, hold (with what ends it), caution,
    screen, floor, plan figure and activity, with the rule base version."""
    rules = service.client.get("/v1/rules", headers=service.as_("clinician")).json()
    evaluated = service.client.post("/v1/evaluate", json=example(WINGER),
                                    headers=service.as_("clinician")).json()
    assert rules["rulebase"]["version"] == evaluated["rulebase"]["version"]
    assert {c["id"] for c in rules["criteria"]} == {c["id"] for c in evaluated["criteria"]}
    assert [r["id"] for r in rules["red_flags"]] == ["R1", "R2", "R3", "R4", "R10", "R11"]
    assert [(r["id"], r["ends"]) for r in rules["holds"]] == [
        (h.id, h.ends) for h in default_protocol().holds]
    assert [r["id"] for r in rules["cautions"]] == ["R5", "R7", "R8", "R9", "R12", "R14"]
    assert {s["field"] for s in rules["screening"]} >= {"pain.rest", "pain.next_morning"}
    assert rules["plan"]["velocity_ceiling_pct"]["run"] == 90
    assert {a["id"] for a in rules["activities"]} >= set(
        evaluated["allowed_activities"] + evaluated["restricted_activities"])
    c302 = next(c for c in rules["criteria"] if c["id"] == "C302")
    assert c302["parts"][0]["threshold"] == 90 and c302["sources"]


def test_keys_created_over_http_work_and_revoke(service: Service) -> None:
    """An admin creates a key (shown once), it works, then revoked it is refused with 401."""
    created = service.client.post("/v1/keys", json={"role": "insurer", "name": "Acme Mutual"},
                                  headers=service.as_("admin"))
    assert created.status_code == 201
    key = created.json()["key"]
    stored = service.stored_decision()
    service.client.post(f"/v1/decisions/{stored['id']}/signoff", json={"action": "accept"},
                        headers=service.as_("clinician"))  # insurers read signed decisions
    assert service.client.get(f"/v1/decisions/{stored['id']}",
                              headers={"X-API-Key": key}).status_code == 200
    listed = service.client.get("/v1/keys", headers=service.as_("admin")).json()
    assert key not in json.dumps(listed)
    key_id = created.json()["info"]["id"]
    assert service.client.post(f"/v1/keys/{key_id}/revoke",
                               headers=service.as_("admin")).status_code == 200
    refused = service.client.get(f"/v1/decisions/{stored['id']}", headers={"X-API-Key": key})
    assert refused.status_code == 401
    assert service.client.post(f"/v1/keys/{key_id}/revoke",
                               headers=service.as_("admin")).status_code == 409


def test_healthz_needs_no_key(service: Service) -> None:
    """The health check answers without a key and names the database and rule base."""
    response = service.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_audit_entries_record_who_did_what(service: Service) -> None:
    """Storing an assessment appends two entries naming the clinician's key and the ids."""
    stored = service.stored_decision()
    entries = service.client.get("/v1/audit/entries", params={"after": 0, "limit": 1000},
                                 headers=service.as_("auditor")).json()
    assessment, decision = entries[-2], entries[-1]
    assert assessment["action"] == "assessment.create"
    assert assessment["subject"] == f"assessment/{stored['assessment_id']}"
    assert assessment["actor"] == {"key": assessment["actor"]["key"], "name": "test clinician",
                                   "role": "clinician"}
    assert decision["details"]["decision_sha256"] == stored["decision_sha256"]
    assert decision["prev_hash"] == assessment["hash"]


def test_bad_query_parameters_are_422(service: Service) -> None:
    """Out-of-range or malformed query parameters give the error envelope, never a 500."""
    for params in ({"limit": 0}, {"limit": 10**30}, {"after": -1}, {"after": "x"}):
        response = service.client.get("/v1/audit/entries", params=params,
                                      headers=service.as_("auditor"))
        assert response.status_code == 422, params
        assert problem(response)["fields"], params


@pytest.mark.parametrize(("body", "field"), [
    ({"id": "FC\t23"}, "id"),
    ({"id": "FC-23\n"}, "id"),
    ({"id": "x" * 65}, "id"),
    ({"id": "FC/23"}, "id"),       # stored but unreachable at /v1/athletes/{id}
    ({"id": "FC-23 "}, "id"),
    ({"id": "FC-\u0100"}, "id"),  # outside Latin-1: the Location header could not be written
    ({"id": "FC-23", "name": "Jonas\nBerg"}, "name"),
])
def test_an_athlete_id_or_name_an_assessment_could_not_carry_is_refused(
        service: Service, body: dict[str, Any], field: str) -> None:
    """Athletes follow the data dictionary's rules for athlete.id and athlete.name: an id
    with a tab, a newline or 65 characters would make every assessment of it invalid."""
    response = service.client.post("/v1/athletes", json=body, headers=service.as_("clinician"))
    assert response.status_code == 422
    assert [f["field"] for f in problem(response)["fields"]] == [field]
    assert service.client.get("/v1/athletes", headers=service.as_("clinician")).json() == []
