"""Who may do what: every role (and no key, an unknown key, a revoked key) at every endpoint.

The expected matrix is written here from the issue, not read from ``api.roles``,
so a wrong entry there fails this test:

- clinician: create, evaluate, sign off, and read what is clinical;
- auditor: read everything, and the audit trail;
- insurer: read decisions and signed reports only;
- admin: manage keys only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from support import load_example, problem, varied

from api.store import Principal
from api.store.jobs import JobStore

if TYPE_CHECKING:
    from conftest import Service

WINGER = "hamstring-winger-cleared-to-sprint"
C, A, INS, ADMIN = "clinician", "auditor", "insurer", "admin"
ROLES = (C, A, INS, ADMIN)

# (method, path, who may, body, status when allowed)
ENDPOINTS: list[tuple[str, str, set[str], Any, int]] = [
    ("POST", "/v1/evaluate", {C}, "assessment", 200),
    ("GET", "/v1/rules", {C, A}, None, 200),
    ("POST", "/v1/athletes", {C}, {"id": "NEW-1"}, 201),
    ("GET", "/v1/athletes", {C, A}, None, 200),
    ("GET", "/v1/athletes/{athlete}", {C, A}, None, 200),
    ("GET", "/v1/athletes/{athlete}/timeline", {C, A}, None, 200),
    ("POST", "/v1/athletes/{athlete}/injuries", {C},
     {"region": "calf", "side": "left", "date": "2026-01-01"}, 201),
    ("GET", "/v1/athletes/{athlete}/injuries", {C, A}, None, 200),
    ("GET", "/v1/injuries/{injury}", {C, A}, None, 200),
    ("POST", "/v1/injuries/{injury}/assessments", {C}, "correction", 201),
    ("GET", "/v1/injuries/{injury}/assessments", {C, A}, None, 200),
    ("GET", "/v1/assessments/{assessment}", {C, A}, None, 200),
    ("GET", "/v1/decisions/{signed}", {C, A, INS}, None, 200),  # insurers: signed only
    ("POST", "/v1/decisions/{decision}/signoff", {C}, {"action": "accept"}, 201),
    ("GET", "/v1/decisions/{signed}/report.pdf", {C, A, INS}, None, 200),
    ("GET", "/v1/decisions/{signed}/fhir", {C, A, INS}, None, 200),
    # issued at the sign-off already (the service signs): issuing again is a conflict
    ("POST", "/v1/decisions/{signed}/report", {C}, None, 409),
    ("GET", "/v1/access-log", {A}, None, 200),
    ("GET", "/v1/audit/verify", {A}, None, 200),
    ("GET", "/v1/audit/entries", {A}, None, 200),
    ("POST", "/v1/replays", {A}, None, 202),
    ("GET", "/v1/replays/{replay}", {A}, None, 200),
    ("POST", "/v1/reports/issues", {C}, None, 202),
    ("GET", "/v1/reports/issues/{issue}", {C}, None, 200),
    ("GET", "/v1/keys", {ADMIN}, None, 200),
    ("POST", "/v1/keys", {ADMIN}, {"role": "insurer", "name": "Acme Mutual"}, 201),
    ("POST", "/v1/keys/{key}/revoke", {ADMIN}, None, 200),
]


def _setup(service: Service) -> dict[str, str]:
    stored = service.stored_decision()
    signed = service.stored_decision("hamstring-footballer-progressive-running-strength-"
                                      "deficit")
    response = service.client.post(f"/v1/decisions/{signed['id']}/signoff",
                                   json={"action": "accept"}, headers=service.as_(C))
    assert response.status_code == 201
    key = service.client.post("/v1/keys", json={"role": "auditor", "name": "to revoke"},
                              headers=service.as_(ADMIN)).json()
    jobs = JobStore(service.store.database)
    for kind in ("replay", "reports"):  # finished jobs (no chunks) to read
        jobs.create(job_id=f"job-{kind}", kind=kind, created_at="2026-03-01T09:00:00Z",
                    actor=Principal(key_id=None, name="test", role=A),
                    rulebase_version="0" * 64, protocol_id="p", protocol_version="1",
                    protocol_text=None, chunks=[], lease_seconds=60)
    return {"athlete": "FC-23", "injury": stored["injury_id"], "decision": stored["id"],
            "assessment": stored["assessment_id"], "signed": signed["id"],
            "key": key["info"]["id"], "replay": "job-replay", "issue": "job-reports"}


def _call(service: Service, method: str, path: str, body: Any, ids: dict[str, str],
          headers: dict[str, str]) -> Any:
    url = path.format(**ids)
    if body == "assessment":
        body = load_example(WINGER)
    elif body == "correction":
        body = varied(load_example(WINGER), {"pain.rest": 1})
    return service.client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_table_lists_every_endpoint(service: Service) -> None:
    """Every operation of the OpenAPI document is in the table, but /healthz (no key)."""
    paths = service.client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), re.sub(r"\{(\w+)_id\}", r"{\1}", path))
              for path, operations in paths.items() for method in operations}
    table = {(method, path.replace("{signed}", "{decision}")) for method, path, *_ in ENDPOINTS}
    assert routes - table == {("GET", "/healthz")}
    assert table <= routes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("method", "path", "allowed", "body", "status"), ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_every_role_at_every_endpoint(service: Service, report_signing: None, method: str,
                                      path: str, allowed: set[str], body: Any,
                                      status: int) -> None:
    """No key, an unknown or revoked key → 401; a role not allowed → 403; an allowed one works.

    Refused calls come first and must leave the audit trail as it was."""
    ids = _setup(service)
    revoked = service.client.post("/v1/keys", json={"role": C, "name": "gone"},
                                  headers=service.as_(ADMIN)).json()
    service.client.post(f"/v1/keys/{revoked['info']['id']}/revoke", headers=service.as_(ADMIN))
    entries = service.store.count("audit_entries")
    refusals: list[tuple[str, dict[str, str], int]] = [
        ("no key", {}, 401), ("unknown key", {"X-API-Key": "sck_" + "x" * 43}, 401),
        ("revoked key", {"X-API-Key": revoked["key"]}, 401),
        *((role, service.as_(role), 403) for role in ROLES if role not in allowed)]
    for who, headers, expected in refusals:
        response = _call(service, method, path, body, ids, headers)
        assert response.status_code == expected, (who, response.text)
        assert problem(response)["detail"], who
    assert service.store.count("audit_entries") == entries
    for role in sorted(allowed):
        response = _call(service, method, path, body, ids, service.as_(role))
        assert response.status_code == status, (role, response.text[:300])


def test_healthz_is_open_to_everyone(service: Service) -> None:
    """The health check answers 200 with no key and with any role's key."""
    for role in (None, *ROLES):
        assert service.client.get("/healthz", headers=service.as_(role)).status_code == 200
