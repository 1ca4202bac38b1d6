"""Signed PDF reports of signed-off decisions: issued by a clinician, kept, read as kept.

A report is **issued** (:meth:`ReportService.issue`) when the clinician signs the
decision off, if the service has a signing key (:meth:`ReportService.after_signoff`),
or later by an explicit clinician action (``POST /v1/decisions/{id}/report``). Issuing
renders it (``reports.render_report_pdf`` with the stored canonical input and the
injury's earlier decisions as history), prints the clinician's sign-off on its first
page (accepted, or overridden to which phase and why, under the unchanged
recommendation), signs it with the clinic's key (``reports.sign_report``), and stores
the PDF and its SHA-256 with an audit entry attributed to that clinician.

A download by any role only **reads** it (:meth:`ReportService.read`): the very bytes
that were kept, so the hash an insurer archives stays valid, and no audit entry. A
decision not signed off has no report (409); a signed one whose report was not issued
answers 404 saying how to issue it. The signature vouches for a reviewed
recommendation, and its meaning says who accepted or overrode it.

The signing key is read and parsed once, when the service starts; a key that
cannot be read stops the start with a clear message. Without one, issuing
answers 503 naming the settings to set, and a sign-off issues nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.settings import Settings
from api.store import Principal, Store
from api.store.records import Signoff, StoredReport
from engine.decision import read_decision
from rules.errors import Conflict, NotConfigured, NotFound, ReportError, ReportInputError
from rules.protocol import Protocol

__all__ = ["ReportService", "signature_meaning"]

_LOG = logging.getLogger(__name__)

_NO_KEY = ("no signing key is configured: set SPRINTCLEAR_SIGNING_P12 and "
           "SPRINTCLEAR_SIGNING_PASSWORD_FILE to the clinic's PKCS#12 key and its password")


def signature_meaning(meaning: str, signoff: Signoff) -> str:
    """The clinic's meaning, then the sign-off it vouches for, in one line."""
    if signoff.action == "accept":
        what = f"recommendation ({signoff.recommended_phase}) accepted"
    else:
        what = (f"recommendation ({signoff.recommended_phase}) overridden to "
                f"{signoff.signed_phase}")
    when = _parse_stamp(signoff.signed_at)
    return (f"{meaning}; {what} by {signoff.clinician} on "
            f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC")


def _parse_stamp(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass
class ReportService:
    """Renders, signs and keeps reports; ``signer`` is None when no key is configured."""

    signer: Any | None
    name: str
    meaning: str
    clock: Callable[[], dt.datetime]
    protocol: Protocol

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], dt.datetime],
                      protocol: Protocol) -> ReportService:
        """The service as configured; the signing key is read and parsed now, once."""
        if settings.signing_p12 is None:
            return cls(None, settings.signing_name, settings.signing_meaning, clock, protocol)
        try:
            from reports import ClinicianSigner
        except ImportError as exc:
            raise NotConfigured(f"a signing key is configured, but the report renderer is not "
                                f"available: {exc}") from exc
        try:
            data = settings.signing_p12.read_bytes()
            password = None
            if settings.signing_password_file is not None:
                lines = settings.signing_password_file.read_bytes().splitlines()
                password = lines[0] if lines else b""
        except OSError as exc:
            raise NotConfigured(f"cannot read the signing key: {exc}") from exc
        try:
            signer = ClinicianSigner.from_pkcs12(data, password)
        except ReportError as exc:
            raise NotConfigured(f"the signing key {settings.signing_p12} cannot be used: "
                                f"{exc}") from exc
        return cls(signer, settings.signing_name, settings.signing_meaning, clock, protocol)

    @property
    def signs(self) -> bool:
        """Whether the service has a signing key (and so issues reports at sign-off)."""
        return self.signer is not None

    def read(self, store: Store, decision_id: str) -> StoredReport:
        """The decision's kept report, unchanged; nothing is written.

        ``NotFound`` without the decision, or when its report was not issued (saying how to
        issue it); ``Conflict`` when the decision was not signed off (no report can exist).
        """
        kept = store.get_report(decision_id)
        if kept is not None:
            return kept
        if store.get_decision(decision_id).signoff is None:
            raise Conflict(f"decision {decision_id} has not been signed off: a report is "
                           f"issued once a clinician accepts or overrides it")
        raise NotFound(f"no report was issued for decision {decision_id}: a clinician issues "
                       f"it with POST /v1/decisions/{decision_id}/report (the service issues "
                       f"it at sign-off when it has a signing key)")

    def after_signoff(self, store: Store, actor: Principal, decision_id: str
                      ) -> tuple[StoredReport | None, str | None]:
        """Issue the report of a decision ``actor`` has just signed off, when the service
        signs reports: (the report, None), or (None, why it was not issued).

        The sign-off is already committed, so nothing here may fail the response: a report
        that cannot be issued is named, and logged, and can be issued later.
        """
        if not self.signs:
            return None, None
        try:
            return self.issue(store, actor, decision_id), None
        except Exception as exc:  # the committed sign-off must be answered, whatever failed
            _LOG.exception("the report of decision %s was not issued at sign-off", decision_id)
            return None, (f"the sign-off is stored, but its report was not issued ({exc}); "
                          f"issue it with POST /v1/decisions/{decision_id}/report")

    def issue(self, store: Store, actor: Principal, decision_id: str) -> StoredReport:
        """Render, sign and keep the decision's report, attributed to ``actor``.

        ``Conflict`` when the decision was not signed off or already has a report;
        ``NotConfigured`` (503) without a signing key; ``NotFound`` without the decision.
        """
        stored = store.get_decision(decision_id)
        if stored.signoff is None:
            raise Conflict(f"decision {decision_id} has not been signed off: a report is "
                           f"issued once a clinician accepts or overrides it")
        if stored.report is not None:
            raise Conflict(f"decision {decision_id} already has a report ({stored.report.id}, "
                           f"issued {stored.report.created_at}): it is issued once; download "
                           f"it with GET /v1/decisions/{decision_id}/report.pdf")
        if self.signer is None:
            raise NotConfigured(_NO_KEY)
        from reports import ReportSignoff, render_report_pdf, sign_report

        decision = read_decision(stored.decision_json)
        history = [read_decision(text)
                   for text in store.earlier_decisions(decision_id)]
        protocol = (self.protocol if self.protocol.content_hash ==
                    decision.rulebase.protocol_sha256 else None)
        now = self.clock()
        signoff = stored.signoff
        # the pages print the sign-off under the unchanged recommendation: an override, its
        # signed phase and reason are in the PDF's text, not only in the signature's meaning
        printed = ReportSignoff(action=signoff.action, clinician=signoff.clinician,
                                signed_at=_parse_stamp(signoff.signed_at),
                                signed_phase=signoff.signed_phase, reason=signoff.reason)
        pdf = render_report_pdf(decision, store.document_of(decision_id), history=history,
                                generated_at=now, protocol=protocol, signoff=printed)
        meaning = signature_meaning(self.meaning, stored.signoff)
        try:
            signed = sign_report(pdf, self.signer, name=self.name, meaning=meaning,
                                 signed_at=now)
        except ReportInputError:
            # a long clinician name can overflow the signature block: the clinic's
            # meaning alone still fits (the sign-off itself is in the store and audit)
            meaning = self.meaning
            try:
                signed = sign_report(pdf, self.signer, name=self.name, meaning=meaning,
                                     signed_at=now)
            except ReportInputError as exc:
                raise NotConfigured(f"the report cannot be signed with the configured key, "
                                    f"name and meaning: {exc}") from exc
        info = store.store_report(actor, decision_id, pdf=signed, signer_name=self.name,
                                  meaning=meaning, at=now)
        return StoredReport(info=info, pdf=signed)
