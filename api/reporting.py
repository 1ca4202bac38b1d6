"""Signed PDF reports of signed-off decisions: made once, kept, and served as kept.

The first request for a decision's report renders it (``reports.render_report_pdf``
with the stored canonical input and the injury's earlier decisions as history),
prints the clinician's sign-off on its first page (accepted, or overridden to
which phase and why, under the unchanged recommendation), signs it with the
clinic's key (``reports.sign_report``), and stores the PDF
and its SHA-256 with an audit entry. Every later request gets those very
bytes, so the hash an insurer archives stays valid. A report is only issued
once a clinician has signed the decision off: the signature then vouches for
a reviewed recommendation, and its meaning says who accepted or overrode it.

The signing key is read and parsed once, when the service starts; a key that
cannot be read stops the start with a clear message. Without one, reports
answer 503 naming the settings to set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.settings import Settings
from api.store import Principal, Store
from api.store.records import Signoff, StoredReport
from engine.decision import read_decision
from rules.errors import Conflict, NotConfigured, ReportError, ReportInputError
from rules.protocol import Protocol

__all__ = ["ReportService", "signature_meaning"]

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

    def report(self, store: Store, actor: Principal, decision_id: str) -> StoredReport:
        """The decision's signed report: the stored one, or a new one made, kept and returned."""
        existing = store.get_report(decision_id)
        if existing is not None:
            return existing
        stored = store.get_decision(decision_id)
        if stored.signoff is None:
            raise Conflict(f"decision {decision_id} has not been signed off: a report is "
                           f"issued once a clinician accepts or overrides it")
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
        try:
            store.store_report(actor, decision_id, pdf=signed, signer_name=self.name,
                               meaning=meaning, at=now)
        except Conflict:
            # another request made it first; serve the one that was kept
            kept = store.get_report(decision_id)
            if kept is None:
                raise
            return kept
        kept = store.get_report(decision_id)
        assert kept is not None
        return kept
