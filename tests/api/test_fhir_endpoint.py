"""GET /v1/decisions/{id}/fhir: the stored decision as a FHIR transaction Bundle, by role."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir_support import entries, undeclared

if TYPE_CHECKING:
    from conftest import Service


def _bundle(service: Service, decision_id: str, role: str) -> Any:
    return service.client.get(f"/v1/decisions/{decision_id}/fhir", headers=service.as_(role))


def _sign(service: Service, decision_id: str) -> None:
    response = service.client.post(f"/v1/decisions/{decision_id}/signoff",
                                   json={"action": "accept"}, headers=service.as_("clinician"))
    assert response.status_code == 201, response.text


def test_a_clinician_reads_the_bundle_of_an_unsigned_decision(service: Service) -> None:
    """200 application/fhir+json; it validates; the name is there; no Provenance yet."""
    stored = service.stored_decision()
    response = _bundle(service, stored["id"], "clinician")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    Bundle.model_validate_json(response.content)
    bundle = response.json()
    assert entries(bundle, "Patient")[0]["name"] == [{"text": "Jonas Berg"}]
    assert entries(bundle, "Provenance") == []
    assert undeclared(bundle) == []


@pytest.mark.parametrize(("role", "status"), [("insurer", 404), ("auditor", 200),
                                              ("admin", 403), (None, 401)])
def test_who_reads_an_unsigned_decision(service: Service, role: str | None,
                                        status: int) -> None:
    """An insurer reads signed decisions only (an unsigned one is not found, as on every
    decision route); an admin nothing clinical; no key: 401. A refused read is not logged."""
    stored = service.stored_decision()
    assert _bundle(service, stored["id"], role).status_code == status
    assert service.store.access_log().entries == [] or status == 200


def test_an_insurer_reads_a_signed_decision_without_the_name(service: Service) -> None:
    """Once signed, the insurer gets the Bundle with the Provenance, but not who the athlete is."""
    stored = service.stored_decision()
    _sign(service, stored["id"])
    response = _bundle(service, stored["id"], "insurer")
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert "name" not in entries(bundle, "Patient")[0]
    provenance = entries(bundle, "Provenance")[0]
    assert provenance["agent"][0]["who"]["display"] == "test clinician"
    assert provenance["activity"]["coding"][0]["code"] == "signoff.accept"
    read = service.store.access_log().entries[-1]
    assert (read.action, read.actor["role"]) == ("decision.fhir", "insurer")


def test_an_unknown_decision_is_404(service: Service) -> None:
    """An id that does not exist."""
    assert _bundle(service, "0" * 32, "clinician").status_code == 404


def test_the_signed_report_is_a_document_reference(service: Service,
                                                   report_signing: None) -> None:
    """After the report is made: its URL, size, SHA-1 (base64) and SHA-256 identifier."""
    stored = service.stored_decision()
    _sign(service, stored["id"])
    pdf = service.client.get(f"/v1/decisions/{stored['id']}/report.pdf",
                             headers=service.as_("clinician")).content
    bundle = _bundle(service, stored["id"], "auditor").json()
    document = entries(bundle, "DocumentReference")[0]
    attachment = document["content"][0]["attachment"]
    assert attachment["url"].endswith(f"/v1/decisions/{stored['id']}/report.pdf")
    assert attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    assert document["identifier"][0]["value"] == hashlib.sha256(pdf).hexdigest()
