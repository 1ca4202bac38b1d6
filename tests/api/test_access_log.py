"""Insurer scope and the access log (issue 10, item 10): insurers see signed decisions only;
reads by insurers and auditors are recorded, append-only, and readable by auditors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from api.store.access import AccessLogFilters, Page

if TYPE_CHECKING:
    from conftest import Service

FOOTBALLER = "hamstring-footballer-progressive-running-strength-deficit"


def _two_decisions(service: Service) -> tuple[dict[str, Any], dict[str, Any]]:
    """FC-23's footballer visit, signed off, and the winger's, awaiting sign-off."""
    signed = service.stored_decision(FOOTBALLER)
    response = service.client.post(f"/v1/decisions/{signed['id']}/signoff",
                                   json={"action": "accept"}, headers=service.as_("clinician"))
    assert response.status_code == 201, response.text
    return signed, service.stored_decision()


def _log(service: Service, **query: Any) -> dict[str, Any]:
    response = service.client.get("/v1/access-log", params=query,
                                  headers=service.as_("auditor"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_insurer_sees_signed_decisions_only_and_leaves_a_trace(service: Service) -> None:
    """The unsigned recommendation is 404 for an insurer, untraced; the signed one is read
    and recorded with who, what and when."""
    signed, unsigned = _two_decisions(service)
    hidden = service.client.get(f"/v1/decisions/{unsigned['id']}",
                                headers=service.as_("insurer"))
    assert hidden.status_code == 404 and "signed" in hidden.text
    assert service.client.get(f"/v1/decisions/{unsigned['id']}/report.pdf",
                              headers=service.as_("insurer")).status_code == 404
    assert service.store.count("access_log") == 0
    read = service.client.get(f"/v1/decisions/{signed['id']}", headers=service.as_("insurer"))
    assert read.status_code == 200
    [entry] = _log(service)["entries"]
    assert entry["actor"]["role"] == "insurer" and entry["actor"]["name"] == "test insurer"
    assert (entry["action"], entry["subject"], entry["via"]) == (
        "decision.read", f"decision/{signed['id']}", "api")
    assert entry["athlete_id"] == "FC-23" and entry["at"].endswith("Z")


def test_auditors_reads_are_recorded_clinicians_are_not(service: Service) -> None:
    """Auditors see unsigned decisions too, and their reads are logged; clinicians' are not."""
    signed, unsigned = _two_decisions(service)
    for role in ("clinician", "auditor"):
        for decision in (signed, unsigned):
            assert service.client.get(f"/v1/decisions/{decision['id']}",
                                      headers=service.as_(role)).status_code == 200
    entries = _log(service)["entries"]
    assert [(e["actor"]["role"], e["subject"]) for e in entries] == [
        ("auditor", f"decision/{signed['id']}"), ("auditor", f"decision/{unsigned['id']}")]


def test_report_downloads_are_recorded(service: Service, report_signing: None) -> None:
    """An insurer's download of a signed report is a report.read entry, not an audit entry."""
    signed, _ = _two_decisions(service)
    audit = service.store.count("audit_entries")
    pdf = service.client.get(f"/v1/decisions/{signed['id']}/report.pdf",
                             headers=service.as_("insurer"))
    assert pdf.status_code == 200
    assert service.store.count("audit_entries") == audit
    [entry] = _log(service, action="report.read")["entries"]
    assert entry["actor"]["role"] == "insurer" and entry["subject"] == f"decision/{signed['id']}"


def test_the_log_filters_and_pages(service: Service) -> None:
    """Filters by role, decision and athlete; pages continue with next_after; store API too."""
    signed, unsigned = _two_decisions(service)
    for role, decision in (("insurer", signed), ("auditor", unsigned), ("auditor", signed),
                           ("insurer", signed)):
        service.client.get(f"/v1/decisions/{decision['id']}", headers=service.as_(role))
    assert len(_log(service, role="insurer")["entries"]) == 2
    assert len(_log(service, decision=unsigned["id"])["entries"]) == 1
    assert len(_log(service, athlete="FC-23")["entries"]) == 4
    assert _log(service, athlete="NOBODY")["entries"] == []
    first = _log(service, limit=3)
    assert len(first["entries"]) == 3 and first["next_after"] == first["entries"][-1]["id"]
    rest = _log(service, after=first["next_after"])
    assert len(rest["entries"]) == 1 and rest["next_after"] is None
    page = service.store.access_log(AccessLogFilters(role="auditor"), Page(limit=1))
    assert [e.subject for e in page.entries] == [f"decision/{unsigned['id']}"]
    assert page.next_after is not None
    assert service.store.access_log(AccessLogFilters(until="2000-01-01")).entries == []
    for role in ("insurer", "clinician", "admin"):
        assert service.client.get("/v1/access-log",
                                  headers=service.as_(role)).status_code == 403


def test_the_log_is_append_only_in_the_database(service: Service) -> None:
    """The database itself refuses to change or delete a recorded read."""
    signed, _ = _two_decisions(service)
    service.client.get(f"/v1/decisions/{signed['id']}", headers=service.as_("insurer"))
    for statement in ("UPDATE access_log SET actor_name = 'nobody'", "DELETE FROM access_log"):
        with pytest.raises(DatabaseError), \
                service.store.database.engine.begin() as connection:
            connection.execute(text(statement))
    assert service.store.count("access_log") == 1
