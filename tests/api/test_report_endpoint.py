"""The signed report of a signed-off decision: issued by the clinician, downloads only read."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from api.main import create_app
from rules.errors import NotConfigured

if TYPE_CHECKING:
    from conftest import Service

FOOTBALLER = "hamstring-footballer-progressive-running-strength-deficit"


def _signed_off(service: Service, body: dict[str, Any] | None = None) -> dict[str, Any]:
    service.stored_decision(FOOTBALLER)
    stored = service.stored_decision()
    response = service.client.post(f"/v1/decisions/{stored['id']}/signoff",
                                   json=body or {"action": "accept"},
                                   headers=service.as_("clinician"))
    assert response.status_code == 201, response.text
    stored["signoff_response"] = response.json()
    return stored


def _without_signing(service: Service) -> Any:
    """Make the service's report service one without a key; return the one it had."""
    from api.reporting import ReportService

    app: Any = service.client.app
    had = app.state.reports
    app.state.reports = ReportService(None, had.name, had.meaning, had.clock, had.protocol)
    return had


def test_signed_report_verifies_and_is_kept(service: Service, report_signing: None,
                                           demo_pki: Any) -> None:
    """Issued at the sign-off, attributed to the clinician: the PDF verifies against the
    clinic's CA, its hash is stored and audited, and downloads get the very same bytes."""
    from reports import verify_report

    stored = _signed_off(service)
    issued = stored["signoff_response"]["report"]
    assert issued is not None and stored["signoff_response"]["report_problem"] is None
    entry = service.store.audit_entries(limit=1000)[-1]
    assert entry.action == "report.create"
    assert entry.actor["role"] == "clinician" and entry.actor["name"] == "test clinician"
    entries = service.store.count("audit_entries")
    url = f"/v1/decisions/{stored['id']}/report.pdf"
    first = service.client.get(url, headers=service.as_("clinician"))
    assert first.status_code == 200
    assert first.headers["x-report-sha256"] == issued["sha256"]
    assert first.headers["content-type"] == "application/pdf"
    digest = hashlib.sha256(first.content).hexdigest()
    assert first.headers["x-report-sha256"] == digest
    verification = verify_report(first.content,
                                 trust_roots=[demo_pki.ca_certificate.read_bytes()])
    assert verification.valid, verification.reasons
    assert verification.decision is not None
    assert verification.decision.decision_id == stored["id"]
    signature = verification.signatures[0]
    assert signature.printed_name == "Test Clinic"
    assert signature.meaning is not None
    assert "recommendation (sprint) accepted by test clinician" in signature.meaning

    again = service.client.get(url, headers=service.as_("insurer"))
    assert again.content == first.content
    assert service.store.count("reports") == 1
    assert service.store.count("audit_entries") == entries  # downloads write nothing
    assert entry.details["pdf_sha256"] == digest
    decision = service.client.get(f"/v1/decisions/{stored['id']}",
                                  headers=service.as_("insurer")).json()
    assert decision["report"]["sha256"] == digest
    assert service.store.verify_audit().intact


def test_override_is_in_the_signature_meaning(service: Service, report_signing: None,
                                              demo_pki: Any) -> None:
    """An overridden decision's report says, in the signature, which phase was signed."""
    from reports import verify_report

    stored = _signed_off(service, {"action": "override", "phase": "run",
                                   "reason": "Hesitant on the bend"})
    response = service.client.get(f"/v1/decisions/{stored['id']}/report.pdf",
                                  headers=service.as_("auditor"))
    verification = verify_report(response.content,
                                 trust_roots=[demo_pki.ca_certificate.read_bytes()])
    assert verification.valid
    meaning = verification.signatures[0].meaning
    assert meaning is not None and "overridden to run" in meaning


def test_the_served_report_prints_the_override_on_its_first_page(
        service: Service, report_signing: None, tmp_path: Path) -> None:
    """The pages an insurer reads say who overrode the recommendation, to what, and why."""
    stored = _signed_off(service, {"action": "override", "phase": "run",
                                   "reason": "Hesitant on the bend"})
    response = service.client.get(f"/v1/decisions/{stored['id']}/report.pdf",
                                  headers=service.as_("insurer"))
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    first_page = " ".join(subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"],
                                         capture_output=True, text=True, check=True
                                         ).stdout.split())
    assert "OVERRIDDEN by test clinician" in first_page
    assert "Signed: Phase 3 of 6 · Progressive running (run) ✗ NOT CLEARED to sprint" in first_page
    assert "Hesitant on the bend" in first_page


def test_without_a_signing_key_nothing_is_issued_and_issuing_is_503(service: Service) -> None:
    """No key: the sign-off issues nothing, a download is 404 saying how to issue, issuing is
    503 naming the settings; nothing is stored."""
    stored = _signed_off(service)
    assert stored["signoff_response"]["report"] is None
    assert stored["signoff_response"]["report_problem"] is None
    response = service.client.get(f"/v1/decisions/{stored['id']}/report.pdf",
                                  headers=service.as_("insurer"))
    assert response.status_code == 404
    assert f"POST /v1/decisions/{stored['id']}/report" in response.text
    issue = service.client.post(f"/v1/decisions/{stored['id']}/report",
                                headers=service.as_("clinician"))
    assert issue.status_code == 503
    assert "SPRINTCLEAR_SIGNING_P12" in issue.text
    assert service.store.count("reports") == 0


def test_an_insurer_download_creates_no_report_and_no_entry(service: Service,
                                                            report_signing: None) -> None:
    """Signed off while the service could not sign: the insurer's download finds nothing and
    writes nothing; unsigned decisions are 409; the clinician then issues it explicitly."""
    had = _without_signing(service)
    stored = _signed_off(service)
    app: Any = service.client.app
    app.state.reports = had  # the key is there now
    before = (service.store.count("reports"), service.store.count("audit_entries"))
    url = f"/v1/decisions/{stored['id']}/report.pdf"
    for role in ("insurer", "auditor", "clinician"):
        assert service.client.get(url, headers=service.as_(role)).status_code == 404, role
    assert (service.store.count("reports"), service.store.count("audit_entries")) == before
    assert service.store.count("access_log") == 0  # nothing was read
    unsigned = service.stored_decision(FOOTBALLER.replace("footballer-progressive-running-"
                                                          "strength-deficit", "conservative-"
                                                          "profile-exercise-pain-above-limit"))
    refused = service.client.get(f"/v1/decisions/{unsigned['id']}/report.pdf",
                                 headers=service.as_("auditor"))
    assert refused.status_code == 409 and "not been signed off" in refused.text
    assert service.client.get(f"/v1/decisions/{unsigned['id']}/report.pdf",
                              headers=service.as_("insurer")).status_code == 404  # scope
    assert service.client.post(f"/v1/decisions/{stored['id']}/report",
                               headers=service.as_("insurer")).status_code == 403
    issued = service.client.post(f"/v1/decisions/{stored['id']}/report",
                                 headers=service.as_("clinician"))
    assert issued.status_code == 201, issued.text
    entry = service.store.audit_entries(limit=1000)[-1]
    assert entry.action == "report.create" and entry.actor["role"] == "clinician"
    assert entry.details["pdf_sha256"] == issued.json()["sha256"]
    download = service.client.get(url, headers=service.as_("insurer"))
    assert download.status_code == 200
    assert download.headers["x-report-sha256"] == issued.json()["sha256"]
    again = service.client.post(f"/v1/decisions/{stored['id']}/report",
                                headers=service.as_("clinician"))
    assert again.status_code == 409 and "already has a report" in again.text


def test_a_report_that_fails_at_signoff_leaves_the_signoff_answered(
        service: Service, report_signing: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sign-off is committed first: a failing report is named in a 201, never a 500."""
    app: Any = service.client.app

    def broken(*_: Any) -> Any:
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(app.state.reports, "issue", broken)
    stored = _signed_off(service)
    answered = stored["signoff_response"]
    assert answered["report"] is None
    assert "the renderer broke" in answered["report_problem"]
    assert f"POST /v1/decisions/{stored['id']}/report" in answered["report_problem"]
    assert service.store.count("signoffs") >= 1 and service.store.count("reports") == 0


def test_an_edited_report_is_found_by_the_audit(service: Service, report_signing: None) -> None:
    """Changing the stored PDF bytes in the database breaks verification at that report."""
    from sqlalchemy import text

    _signed_off(service)  # issues the report
    with service.store.database.engine.begin() as connection:
        if service.store.dialect == "postgresql":
            connection.execute(text("ALTER TABLE reports DISABLE TRIGGER USER"))
            connection.execute(text("UPDATE reports SET pdf = :pdf"), {"pdf": b"%PDF-forged"})
            connection.execute(text("ALTER TABLE reports ENABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER reports_write_once_update"))
            connection.execute(text("UPDATE reports SET pdf = :pdf"), {"pdf": b"%PDF-forged"})
    first = service.store.verify_audit().first_problem
    assert first is not None
    assert first.kind == "edited" and first.subject is not None
    assert first.subject.startswith("report/")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unusable_signing_key_stops_the_start(database_url: str, signing_settings: Any,
                                                 tmp_path: Any) -> None:
    """A wrong password for the clinic's key fails at start-up, saying so, not at a request."""
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not the password\n", "utf-8")
    settings = signing_settings.model_copy(update={"signing_password_file": wrong,
                                                              "database_url": database_url})
    with pytest.raises(NotConfigured, match="signing key"):
        create_app(settings)
