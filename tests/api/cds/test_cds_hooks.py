"""CDS Hooks 2.0 conformance: discovery, JWT authentication, patient-view with and without
prefetch (a FHIR server on loopback), and feedback recorded in the audit chain."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from fhir_support import entries, evaluator, example_bundle, example_document

from api.cds.service import PREFETCH
from api.main import create_app
from api.settings import Settings
from api.store import Principal, Store
from engine.assessment import parse_assessment

HOOK = "/cds-services/sprintclear-rts"
AUDIENCE = f"http://testserver{HOOK}"
SECRET = "cds hooks test session secret: not for any real service"
WINGER = "hamstring-winger-cleared-to-sprint"
RED_FLAG = "hamstring-red-flag-increasing-swelling-refer"
TOKEN = "fhir-access-token-of-the-test"


class Ehr:
    """An EHR's signing key (made offline for the test) and the JWTs it issues."""

    def __init__(self, kid: str = "ehr-1") -> None:
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}]}

    def token(self, *, aud: str = AUDIENCE, expires_in: int = 300, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": "https://ehr.example", "sub": "ehr-client", "aud": aud,
                   "iat": now, "exp": now + expires_in, "jti": str(uuid.uuid4()), **claims}
        return jwt.encode(payload, self.key, algorithm="ES256", headers={"kid": self.kid})

    def headers(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**claims)}"}


@pytest.fixture(scope="module")
def ehr() -> Ehr:
    return Ehr()


@pytest.fixture
def client(store: Store, ehr: Ehr, tmp_path: Path) -> Iterator[TestClient]:
    jwks = tmp_path / "ehr-jwks.json"
    jwks.write_text(json.dumps(ehr.jwks()), "utf-8")
    app = create_app(Settings(database_url="sqlite:////nonexistent/unused.sqlite3",
                              session_secret=SECRET, cds_jwks_file=jwks),
                     store=store, clock=store.now)
    with TestClient(app) as test_client:
        yield test_client


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"resource": resource} for resource in resources]}


def _record(name: str) -> dict[str, Any]:
    """The athlete's record as an EHR holds it: Patient, Condition, Observations (with ids)."""
    bundle = example_bundle(name)
    patient = {**entries(bundle, "Patient")[0], "id": "FC-23"}
    conditions = [{**c, "id": f"cond-{i}"} for i, c in enumerate(entries(bundle, "Condition"))]
    observations = [{**o, "id": f"obs-{i}"}
                    for i, o in enumerate(entries(bundle, "Observation"))]
    # an unrelated reading the EHR also has: skipped
    observations.append({"resourceType": "Observation", "id": "bp", "status": "final",
                         "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                         "effectiveDateTime": "2026-03-17"})
    return {"patient": patient, "conditions": _searchset(conditions),
            "observations": _searchset(observations)}


def _request(prefetch: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                            "context": {"userId": "Practitioner/1", "patientId": "FC-23"},
                            **extra}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def test_discovery_shape(client: TestClient) -> None:
    """GET /cds-services: one patient-view service with its id, description and prefetch."""
    response = client.get("/cds-services")
    assert response.status_code == 200
    (service,) = response.json()["services"]
    assert service["hook"] == "patient-view" and service["id"] == "sprintclear-rts"
    assert service["title"] and service["description"]
    assert set(service["prefetch"]) == {"patient", "conditions", "observations"}
    assert all("{{context.patientId}}" in template for template in service["prefetch"].values())


def test_patient_view_with_prefetch_answers_cards(client: TestClient, ehr: Ehr) -> None:
    """The winger's record: a phase card (what is in force first, then the recommendation)
    and the blocking criteria, each with coded overrideReasons."""
    response = client.post(HOOK, json=_request(_record(WINGER)), headers=ehr.headers())
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    first = cards[0]
    assert first["indicator"] == "info"
    assert first["summary"] == "Recommendation: Return to sprint — cleared to sprint"
    assert first["detail"].startswith("In force: run, signed for the assessment of 2026-03-10.")
    assert first["source"]["label"] == "sprintclear (sprintclear-rts 2027.1)"
    blocking = next(card for card in cards if card["summary"].startswith("Blocking"))
    assert blocking["indicator"] == "warning" and "C401" in blocking["summary"]
    assert all(card["overrideReasons"][0]["system"]
               == "https://sprintclear.org/fhir/CodeSystem/sprintclear" for card in cards)
    assert all(uuid.UUID(card["uuid"]) for card in cards)


def test_a_red_flag_is_a_critical_card(client: TestClient, ehr: Ehr) -> None:
    """Increasing swelling: R1 as a critical card."""
    cards = client.post(HOOK, json=_request(_record(RED_FLAG)),
                        headers=ehr.headers()).json()["cards"]
    critical = [card for card in cards if card["indicator"] == "critical"]
    assert [card["summary"][:3] for card in critical] == ["R1:"]


def test_the_decision_page_is_linked_when_the_store_holds_the_assessment(
        client: TestClient, ehr: Ehr, store: Store) -> None:
    """The same assessment stored: each card links to its decision page."""
    from fhir_support import evaluator, example_document

    from api.store import Principal
    from engine.assessment import parse_assessment

    clinician = Principal(key_id=None, name="test", role="clinician")
    document = example_document(WINGER)
    store.create_athlete(clinician, athlete_id="FC-23")
    injury = store.create_injury(clinician, "FC-23", region="hamstring", side="right",
                                 date="2026-02-10")
    assessment = parse_assessment(document)
    stored = store.record_assessment(clinician, injury.id, assessment, evaluator().decide(
        assessment, evaluated_at=store.now()))
    cards = client.post(HOOK, json=_request(_record(WINGER)),
                        headers=ehr.headers()).json()["cards"]
    assert cards[0]["links"] == [{"label": "Decision page", "type": "absolute",
                                  "url": f"http://testserver/decisions/{stored.id}"}]


def _signed_visit_on_record(store: Store) -> None:
    """The winger's visit of 2026-03-10 stored in sprintclear and accepted (at run)."""
    clinician = Principal(key_id=None, name="test", role="clinician")
    document = example_document(WINGER)
    document["assessment"]["date"] = "2026-03-10"
    del document["previous"]
    store.create_athlete(clinician, athlete_id="FC-23")
    injury = store.create_injury(clinician, "FC-23", region="hamstring", side="right",
                                 date="2026-02-10")
    assessment = parse_assessment(document)
    stored = store.record_assessment(clinician, injury.id, assessment, evaluator().decide(
        assessment, evaluated_at=store.now()))
    assert stored.summary.phase.id == "run"
    store.sign_off(clinician, stored.id, action="accept")


def _previous_observation(record: dict[str, Any]) -> dict[str, Any]:
    return next(e["resource"] for e in record["observations"]["entry"]
                if e["resource"]["code"]["coding"][0]["code"] == "previous.phase")


def test_the_signed_phase_on_record_is_sprintclears(client: TestClient, ehr: Ehr,
                                                    store: Store) -> None:
    """The record system sends no signed phase: sprintclear's own sign-off of the episode
    is the one in force (section 2.1), and the decision is that of the example."""
    _signed_visit_on_record(store)
    record = _record(WINGER)
    record["observations"]["entry"] = [e for e in record["observations"]["entry"]
                                       if e["resource"].get("id") != _previous_observation(
                                           record)["id"]]
    cards = client.post(HOOK, json=_request(record), headers=ehr.headers()).json()["cards"]
    assert cards[0]["detail"].startswith("In force: run, signed for the assessment of "
                                         "2026-03-10.")
    assert cards[0]["summary"] == "Recommendation: Return to sprint — cleared to sprint"


def test_a_signed_phase_that_differs_from_the_record_is_refused(client: TestClient, ehr: Ehr,
                                                                store: Store) -> None:
    """The record system claims train was signed; sprintclear's sign-offs say run: no
    decision, a warning card naming previous.phase."""
    _signed_visit_on_record(store)
    record = _record(WINGER)
    _previous_observation(record)["valueCodeableConcept"]["coding"][0]["code"] = "phase.train"
    cards = client.post(HOOK, json=_request(record), headers=ehr.headers()).json()["cards"]
    assert len(cards) == 1 and cards[0]["indicator"] == "warning"
    assert "previous.phase: the record system gives train signed for 2026-03-10, " \
           "sprintclear's sign-offs run for 2026-03-10" in cards[0]["detail"]


@pytest.mark.parametrize("case", ["none", "other key", "audience", "expired", "hmac",
                                  "no jti"])
def test_unauthenticated_requests_are_401(client: TestClient, ehr: Ehr, case: str) -> None:
    """No JWT, another EHR's key, another audience, expired, HMAC, a missing claim: 401."""
    headers: dict[str, str]
    if case == "none":
        headers = {}
    elif case == "other key":
        headers = Ehr(kid="ehr-1").headers()
    elif case == "audience":
        headers = ehr.headers(aud="https://elsewhere.example/cds-services/sprintclear-rts")
    elif case == "expired":
        headers = ehr.headers(expires_in=-60)
    elif case == "hmac":
        now = int(time.time())
        headers = {"Authorization": "Bearer " + jwt.encode(
            {"iss": "x", "sub": "x", "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": "1"},
            "a shared secret that is long enough to sign", algorithm="HS256",
            headers={"kid": "ehr-1"})}
    else:
        token = jwt.encode({"iss": "x", "sub": "x", "aud": AUDIENCE, "iat": int(time.time()),
                            "exp": int(time.time()) + 60}, ehr.key, algorithm="ES256",
                           headers={"kid": "ehr-1"})
        headers = {"Authorization": f"Bearer {token}"}
    response = client.post(HOOK, json=_request(_record(WINGER)), headers=headers)
    assert response.status_code == 401, response.text
    feedback = client.post(f"{HOOK}/feedback", headers=headers, json={"feedback": [
        {"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "2026-03-17"}]})
    assert feedback.status_code == 401


def test_without_prefetch_or_fhir_server_the_service_asks_for_what_it_needs(
        client: TestClient, ehr: Ehr) -> None:
    """412 naming each prefetch query it needs, for this patient."""
    response = client.post(HOOK, json=_request(None), headers=ehr.headers())
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["fields"][0] == {"field": "prefetch.patient", "rule": "required",
                                            "message": "needed: Patient/FC-23"}
    needed = response.json()["prefetch"]
    assert set(needed) == set(PREFETCH)
    assert needed["patient"] == "Patient/FC-23"


class _FhirServer(BaseHTTPRequestHandler):
    record: ClassVar[dict[str, Any]] = {}
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"resourceType": "OperationOutcome"})
            return
        path = urlsplit(self.path)
        if path.path == "/fhir/Patient/FC-23":
            self._send(200, self.record["patient"])
        elif path.path == "/fhir/Condition":
            self._send(200, self.record["conditions"])
        elif path.path == "/fhir/Observation":
            everything = self.record["observations"]["entry"]
            half = len(everything) // 2
            page = "page=2" in (path.query or "")
            body = _searchset([e["resource"] for e in (everything[half:] if page
                                                       else everything[:half])])
            if not page:
                host = f"http://127.0.0.1:{self.server.server_address[1]}"
                body["link"] = [{"relation": "next",
                                 "url": f"{host}/fhir/Observation?patient=FC-23&page=2"}]
            self._send(200, body)
        else:
            self._send(404, {"resourceType": "OperationOutcome"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def fhir_server() -> Iterator[str]:
    """A FHIR server on loopback that holds the winger's record and wants a bearer token."""
    _FhirServer.record = _record(WINGER)
    _FhirServer.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FhirServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()
    thread.join()


def test_without_prefetch_the_service_fetches_from_the_fhir_server(
        client: TestClient, ehr: Ehr, fhir_server: str) -> None:
    """No prefetch: the queries go to the EHR's FHIR server with its token (both pages of
    the Observations), and the cards are those of the prefetch."""
    body = _request(None, fhirServer=fhir_server,
                    fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer",
                                       "expires_in": 300, "scope": "patient/*.read",
                                       "subject": "ehr-client"})
    response = client.post(HOOK, json=body, headers=ehr.headers())
    assert response.status_code == 200, response.text
    with_prefetch = client.post(HOOK, json=_request(_record(WINGER)), headers=ehr.headers())
    assert [c["summary"] for c in response.json()["cards"]] == [
        c["summary"] for c in with_prefetch.json()["cards"]]
    paths = [path for path, _ in _FhirServer.seen]
    assert paths[0] == "/fhir/Patient/FC-23"
    assert any("page=2" in path for path in paths)
    assert {auth for _, auth in _FhirServer.seen} == {f"Bearer {TOKEN}"}


def test_a_fhir_server_that_refuses_the_token_is_412(client: TestClient, ehr: Ehr,
                                                     fhir_server: str) -> None:
    """The FHIR server answers 401 to a wrong token: the service cannot decide (412)."""
    body = _request(None, fhirServer=fhir_server,
                    fhirAuthorization={"access_token": "wrong", "token_type": "Bearer"})
    assert client.post(HOOK, json=body, headers=ehr.headers()).status_code == 412


def test_a_record_without_the_injury_gives_one_warning_card(client: TestClient,
                                                            ehr: Ehr) -> None:
    """No muscle-injury Condition: no decision, a warning card naming what is missing."""
    record = _record(WINGER)
    record["conditions"] = _searchset([])
    cards = client.post(HOOK, json=_request(record), headers=ehr.headers()).json()["cards"]
    assert len(cards) == 1 and cards[0]["indicator"] == "warning"
    assert "Condition: no Condition coded muscle-injury" in cards[0]["detail"]


def test_feedback_is_recorded_in_the_audit_chain_and_is_no_sign_off(
        client: TestClient, ehr: Ehr, store: Store) -> None:
    """Accepted and overridden cards: two cds.feedback entries naming the decision, no
    sign-off, and the chain still verifies."""
    cards = client.post(HOOK, json=_request(_record(WINGER)),
                        headers=ehr.headers()).json()["cards"]
    feedback_url = f"http://testserver{HOOK}/feedback"
    response = client.post(f"{HOOK}/feedback", headers=ehr.headers(aud=feedback_url), json={
        "feedback": [
            {"card": cards[0]["uuid"], "outcome": "accepted",
             "outcomeTimestamp": "2026-03-17T10:00:00Z"},
            {"card": cards[1]["uuid"], "outcome": "overridden",
             "overrideReason": {"reason": cards[1]["overrideReasons"][0],
                                "userComment": "re-test tomorrow"},
             "outcomeTimestamp": "2026-03-17T10:01:00Z"}]})
    assert response.status_code == 200, response.text
    recorded = [e for e in store.audit_entries() if e.action == "cds.feedback"]
    assert [e.details["outcome"] for e in recorded] == ["accepted", "overridden"]
    assert recorded[0].subject == f"cds-card/{cards[0]['uuid']}"
    assert recorded[1].details["override_reason"]["code"] == "override.clinical-judgement"
    assert recorded[0].details["about"]["phase"] == "sprint"
    assert recorded[0].actor == {"key": None, "name": "CDS client ehr-client "
                                 "(https://ehr.example)", "role": "cds_client"}
    assert store.count("signoffs") == 0
    assert not [e for e in store.audit_entries() if e.action.startswith("signoff.")]
    assert store.verify_audit().intact


def test_invalid_feedback_writes_nothing(client: TestClient, ehr: Ehr, store: Store) -> None:
    """An outcome that is neither accepted nor overridden: 422 and no entry at all."""
    before = len(store.audit_entries())
    response = client.post(f"{HOOK}/feedback",
                           headers=ehr.headers(aud=f"http://testserver{HOOK}/feedback"),
                           json={"feedback": [
                               {"card": "a", "outcome": "accepted", "outcomeTimestamp": "x"},
                               {"card": "b", "outcome": "signed", "outcomeTimestamp": "x"}]})
    assert response.status_code == 422
    assert len(store.audit_entries()) == before


def test_feedback_with_a_nul_character_is_refused(client: TestClient, ehr: Ehr,
                                                  store: Store) -> None:
    """A NUL in a comment: 422, nothing written (no database keeps it in text)."""
    before = len(store.audit_entries())
    response = client.post(f"{HOOK}/feedback",
                           headers=ehr.headers(aud=f"http://testserver{HOOK}/feedback"),
                           json={"feedback": [{"card": "a", "outcome": "overridden",
                                               "overrideReason": {"userComment": "a\u0000b"},
                                               "outcomeTimestamp": "x"}]})
    assert response.status_code == 422
    assert len(store.audit_entries()) == before


def test_without_configured_keys_the_service_is_503(store: Store, ehr: Ehr) -> None:
    """No SPRINTCLEAR_CDS_JWKS_FILE: the hook cannot trust anyone and says so."""
    app = create_app(Settings(database_url="sqlite:////nonexistent/unused.sqlite3",
                              session_secret=SECRET), store=store, clock=store.now)
    with TestClient(app) as test_client:
        response = test_client.post(HOOK, json=_request(_record(WINGER)),
                                    headers=ehr.headers())
    assert response.status_code == 503
    assert "SPRINTCLEAR_CDS_JWKS_FILE" in response.text
