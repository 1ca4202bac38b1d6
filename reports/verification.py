"""Verifying a signed report: is it the file that was signed, and does it say what the rules say?

:func:`verify_report` never raises for a bad report; it returns a
:class:`ReportVerification` whose ``valid`` is true only when every check
below passes (fail closed: whatever cannot be read or checked is a reason,
and each reason names its cause):

1. **Signatures.** Every approval signature validates with pyHanko against
   the given trust roots only (nothing fetched from the network): intact,
   valid, chaining to a root, and allowed to sign (non-repudiation). When it
   fails, the reason says why: "certificate expired on 2026-01-01", "not yet
   valid until …", "issuer … is not among the trust roots", "certificate not
   allowed to sign (no non-repudiation)". The printed name is the
   certificate's subject. The last signature (or document timestamp) covers
   the entire file, so nothing was appended after it; the zero padding and the
   certificates carried inside a signature (which its value does not protect)
   are unchanged.
2. **Trusted time.** A signature timestamp (PAdES B-T) or a later document
   timestamp (B-LTA) counts only when it chains to a ``tsa_roots``
   certificate; one from any other authority is a reason, named. With a
   trusted time, the signer's certificate is checked at that time (a
   certificate that expired after it still verifies, and a note says why);
   without one, at the time of verification, or with ``at_signing_time`` at
   the signer's own claimed time (a note says it is a claim). A document
   timestamp that cannot be checked (no TSA root given) is a reason.
3. **Structure** (:mod:`reports.inspection`). Revision 0 is what ``report``
   writes, and what every page *draws* (content, XObjects, annotations,
   optional content) holds nothing planted; every later revision is
   sprintclear's own signature in the template's next slot (its appearance
   drawing exactly its stamp), validation data, or an invisible document
   timestamp; the file is still PDF/A-3b. Each departure is a reason.
4. **The record is the signed one**, read from the revision the first
   signature covers, declared as the document's one associated Data file; every
   later signed revision holds the same bytes. Its SHA-256 is printed in the
   footer of every page.
5. **The first page says what the record says**: the status in force (the
   clinician's signed phase and clearance, or "Recommendation — not signed
   off") and the rule base's recommendation, labelled as such, never their
   opposites (:func:`reports.view.page_one_claims`).
6. **The input is the decided one**, and **the rules decide the same**: when
   the decision's rule base version is the current one (the current code with
   the default protocol, or with the protocol embedded in the record), the
   input is decided again with the recorded ``evaluated_at`` and the canonical
   JSON must be identical. Another rule base version is valid with the note
   "decided under rule base version X (current is Y)" (invalid with
   ``require_current_rulebase``): the signature still proves what the
   clinician approved under the rules of the day.

Not checked: revocation (no CRL or OCSP offline).

pyHanko's validation runs its own event loop: call :func:`verify_report` from
a thread (e.g. a plain ``def`` route), not from inside a running loop.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from engine.assessment import canonical_json, parse_assessment
from engine.decide import evaluator_for, rulebase_version
from engine.decision import Decision
from reports.inspection import ReportFile, content_problems, metadata_problems
from reports.pdf_reading import PdfContentError
from reports.record import ReportRecord
from reports.stamp_text import certificate_name, same_name
from reports.view import StatusInForce, status_in_force
from rules.errors import ProtocolError, ReportInputError, SprintclearError, VerificationFailed
from rules.loading import default_protocol, parse_protocol

__all__ = ["ReportVerification", "SignatureCheck", "load_trust_roots", "trust_causes",
           "verify_report"]

DecisionCheck = Literal["same", "different", "other_rule_base", "not_checked"]

_FOOTER_HASH = re.compile(r"RecordSHA-256:?([0-9a-f]{64})")
_ACCEPTED_LATER_CHANGES = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
                           ModificationLevel.FORM_FILLING)


@dataclass(frozen=True)
class SignatureCheck:
    """One signature (or document timestamp) of the report and what its validation found."""

    field: str
    signer: str
    """The certificate's subject (common name); for a document timestamp, the TSA's."""
    issuer: str
    printed_name: str | None
    meaning: str | None
    signed_at: str | None
    """The signing time the signer claims (UTC, ISO 8601); for a document timestamp, the
    TSA's time."""
    intact: bool
    valid: bool
    trusted: bool
    coverage: str
    later_changes: str
    ok: bool
    kind: str = "signature"
    """``signature`` (an approval) or ``document timestamp``."""
    timestamp: str | None = None
    """The trusted time of its RFC 3161 timestamp (its own, B-T, or a later document
    timestamp's, B-LTA), UTC; ``None`` without a trusted timestamp."""
    timestamp_by: str | None = None
    """The time-stamping authority of that timestamp."""
    certificate_checked_at: str | None = None
    """When the signer's certificate was checked: the trusted time, the claimed signing time
    (``at_signing_time``), or the time of verification."""

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in (
            "field", "kind", "signer", "issuer", "printed_name", "meaning", "signed_at",
            "timestamp", "timestamp_by", "certificate_checked_at", "intact", "valid", "trusted",
            "coverage", "later_changes", "ok")}


@dataclass(frozen=True)
class ReportVerification:
    """The result of verifying a signed report. ``valid`` only when nothing failed."""

    valid: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    signatures: tuple[SignatureCheck, ...]
    record_sha256: str | None
    footer_sha256: str | None
    decision: Decision | None
    assessment: Mapping[str, Any] | None
    decision_check: DecisionCheck
    recorded_rulebase_version: str | None
    current_rulebase_version: str | None
    record: Mapping[str, Any] | None = field(default=None, repr=False)
    status: StatusInForce | None = None
    """What is in force: the recorded sign-off's phase, or a recommendation not signed off."""

    @property
    def decision_rechecked(self) -> bool:
        """The rules were run again on the embedded input and decided the same."""
        return self.decision_check == "same"

    def raise_if_invalid(self) -> None:
        """Raise :class:`~rules.errors.VerificationFailed` with the reasons when invalid."""
        if not self.valid:
            raise VerificationFailed("the report does not verify: " + "; ".join(self.reasons))

    def as_dict(self) -> dict[str, Any]:
        decision = self.decision
        return {
            "valid": self.valid,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "signatures": [s.as_dict() for s in self.signatures],
            "record_sha256": self.record_sha256,
            "footer_sha256": self.footer_sha256,
            "decision_check": self.decision_check,
            "recorded_rulebase_version": self.recorded_rulebase_version,
            "current_rulebase_version": self.current_rulebase_version,
            "status_in_force": None if self.status is None else {
                "summary": self.status.summary,
                "signed": self.status.signed,
                "phase": self.status.phase_id,
                "cleared_to_sprint": self.status.cleared_to_sprint,
                "cleared_to_play": self.status.cleared_to_play,
                "recommendation": self.status.recommendation,
            },
            "decision": None if decision is None else {
                "decision_id": decision.decision_id,
                "athlete": decision.athlete.id,
                "assessment_date": decision.assessment.date,
                "phase": decision.phase.model_dump(),
                "cleared_to_sprint": decision.cleared_to_sprint,
                "cleared_to_play": decision.cleared_to_play,
            },
        }


def load_trust_roots(roots: Sequence[bytes], *, what: str = "trust root"
                     ) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (one or several per item) or DER; refuse anything else."""
    certificates: list[asn1_x509.Certificate] = []
    for index, data in enumerate(roots, 1):
        try:
            if b"-----BEGIN" in data:
                loaded = x509.load_pem_x509_certificates(data)
            else:
                loaded = [x509.load_der_x509_certificate(data)]
        except ValueError as exc:
            raise ReportInputError(f"{what} {index} is not a PEM or DER certificate") \
                from exc
        certificates.extend(
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in loaded)
    if not certificates:
        raise ReportInputError("at least one trust root is needed to verify a report")
    return certificates


class _Invalid(Exception):
    """A check failed; the message is the reason."""


def _coverage_text(coverage: Any) -> str:
    return {SignatureCoverageLevel.ENTIRE_FILE: "entire file",
            SignatureCoverageLevel.ENTIRE_REVISION: "entire revision",
            SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "part of the file",
            SignatureCoverageLevel.UNCLEAR: "unclear"}.get(coverage, "unknown")


def _time_text(value: Any) -> str | None:
    if not isinstance(value, dt.datetime):
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class _TrustedTime:
    moment: dt.datetime
    authority: str
    source: str


def _tsa_name(certificate: Any) -> str:
    return certificate_name(certificate.subject) if certificate is not None else "(unknown)"


def _issued_by(certificate: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bool:
    """The issuer's key signed the certificate (names alone are not enough)."""
    if certificate.issuer != issuer.subject:
        return False
    try:
        x509.load_der_x509_certificate(certificate.dump()).verify_directly_issued_by(
            x509.load_der_x509_certificate(issuer.dump()))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _chains_to(certificate: asn1_x509.Certificate, carried: Sequence[asn1_x509.Certificate],
               roots: Sequence[asn1_x509.Certificate]) -> bool:
    current, seen = certificate, 0
    while seen < 8:
        if any(_issued_by(current, root) for root in roots):
            return True
        parents = [c for c in carried if c.dump() != current.dump() and _issued_by(current, c)]
        if not parents:
            return False
        current, seen = parents[0], seen + 1
    return False


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d")


def trust_causes(certificate: asn1_x509.Certificate, carried: Sequence[asn1_x509.Certificate],
                 roots: Sequence[asn1_x509.Certificate], moment: dt.datetime, *,
                 needs_non_repudiation: bool = True) -> list[str]:
    """Why a certificate is not trusted at ``moment``, each cause in words.

    ``certificate expired on 2026-01-01``, ``certificate not yet valid until
    2026-03-01 09:00 UTC``, ``issuer “X” is not among the trust roots``,
    ``certificate not allowed to sign (no non-repudiation)``.
    """
    causes = []
    if moment > certificate.not_valid_after:
        causes.append(f"certificate expired on {_day(certificate.not_valid_after)}")
    elif moment < certificate.not_valid_before:
        causes.append("certificate not yet valid until "
                      f"{certificate.not_valid_before:%Y-%m-%d %H:%M} UTC")
    if not _chains_to(certificate, carried, roots):
        causes.append(f"issuer “{certificate_name(certificate.issuer)}” is not among the trust "
                      "roots")
    usage = certificate.key_usage_value
    if needs_non_repudiation and usage is not None and "non_repudiation" not in usage.native:
        causes.append("certificate not allowed to sign (no non-repudiation)")
    return causes


def _timestamp_problem(label: str, status: Any, tsa_roots: Sequence[asn1_x509.Certificate],
                       carried: Sequence[asn1_x509.Certificate]) -> str | None:
    """Why a timestamp token does not give a trusted time (None when it does)."""
    authority = _tsa_name(getattr(status, "signing_cert", None))
    if not tsa_roots:
        return (f"{label} is time-stamped by “{authority}”, and no time-stamping authority's "
                "root was given to check it (--trust-tsa)")
    if not status.intact or not status.valid:
        return f"{label}: the timestamp by “{authority}” does not match what it time-stamps"
    if not status.trusted:
        certificate = status.signing_cert
        causes = trust_causes(certificate, carried, tsa_roots, status.timestamp,
                              needs_non_repudiation=False) if certificate is not None else []
        return (f"{label}: the timestamp is by “{authority}”, which is not among the trusted "
                "time-stamping authorities (--trust-tsa)" if not causes or any(
                    "issuer" in cause for cause in causes) else
                f"{label}: the timestamp by “{authority}” is not trusted: {'; '.join(causes)}")
    return None


def _check_signatures(reader: PdfFileReader, roots: list[asn1_x509.Certificate],
                      tsa_roots: list[asn1_x509.Certificate], reasons: list[str],
                      notes: list[str], at_signing_time: bool
                      ) -> tuple[list[SignatureCheck], list[Any]]:
    embedded = reader.embedded_signatures
    if not embedded:
        raise _Invalid("the report is not signed")
    now = dt.datetime.now(dt.UTC)
    tsa_context = ValidationContext(trust_roots=tsa_roots or roots, allow_fetching=False)
    # document timestamps first: a trusted one gives every signature before it a trusted time
    document_times: list[tuple[int, _TrustedTime | None]] = []
    checks: dict[int, SignatureCheck] = {}
    for position, signature in enumerate(embedded, 1):
        if signature.sig_object_type != "/DocTimeStamp":
            continue
        label = f"signature {position} ({signature.field_name}, a document timestamp)"
        try:
            stamp_status = validate_pdf_timestamp(signature, tsa_context)
        except Exception as exc:  # pyHanko raises assorted errors on a malformed token
            reasons.append(f"{label} cannot be validated: {_cause(exc)}")
            document_times.append((signature.signed_revision, None))
            continue
        problem = _timestamp_problem(label, stamp_status, tsa_roots, signature.other_embedded_certs)
        last = position == len(embedded)
        coverage_ok = stamp_status.coverage == SignatureCoverageLevel.ENTIRE_FILE if last else \
            stamp_status.coverage is not None and stamp_status.coverage >= \
            SignatureCoverageLevel.ENTIRE_REVISION
        stamp_problems = [problem] if problem else []
        if stamp_status.intact and not coverage_ok:
            stamp_problems.append(f"{label} does not cover the whole file: something was "
                                  "appended after it" if last else
                                  f"{label} does not cover its revision")
        reasons.extend(stamp_problems)
        trusted = _TrustedTime(stamp_status.timestamp, _tsa_name(stamp_status.signing_cert),
                               f"the document timestamp {signature.field_name}") \
            if not stamp_problems else None
        document_times.append((signature.signed_revision, trusted))
        checks[position] = SignatureCheck(
            field=str(signature.field_name), kind="document timestamp",
            signer=_tsa_name(stamp_status.signing_cert),
            issuer=(certificate_name(stamp_status.signing_cert.issuer)
                    if stamp_status.signing_cert else ""),
            printed_name=None, meaning=None, signed_at=_time_text(stamp_status.timestamp),
            timestamp=_time_text(stamp_status.timestamp) if trusted else None,
            timestamp_by=_tsa_name(stamp_status.signing_cert) if trusted else None,
            intact=bool(stamp_status.intact), valid=bool(stamp_status.valid),
            trusted=bool(stamp_status.trusted),
            coverage=_coverage_text(stamp_status.coverage), later_changes="none",
            ok=not stamp_problems)
    signed = []
    for position, signature in enumerate(embedded, 1):
        if signature.sig_object_type == "/DocTimeStamp":
            continue
        last = position == len(embedded)
        label = f"signature {position} ({signature.field_name})"
        cert = signature.signer_cert
        signer, issuer = certificate_name(cert.subject), certificate_name(cert.issuer)
        claimed = signature.self_reported_timestamp
        found: list[str] = []
        trusted_time: _TrustedTime | None = None
        timestamp_named = False
        def validate_at(moment: dt.datetime, signature: Any = signature) -> Any:
            context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=moment)
            return validate_pdf_signature(signature, context, tsa_context)

        status: Any = None
        token_time = _token_time(signature)
        if token_time is not None:
            # validated at the token's time: one validation when the token is trusted
            try:
                status = validate_at(token_time)
                token_status = status.timestamp_validity
            except Exception as exc:  # pyHanko raises assorted errors on a malformed token
                token_status = None
                found.append(f"{label}: its timestamp cannot be validated: {_cause(exc)}")
            if token_status is not None:
                problem = _timestamp_problem(f"{label}", token_status, tsa_roots,
                                             signature.other_embedded_certs)
                if problem is None:
                    trusted_time = _TrustedTime(token_status.timestamp,
                                                _tsa_name(token_status.signing_cert),
                                                "its own timestamp (PAdES B-T)")
                else:
                    found.append(problem)
                    timestamp_named = True
        if trusted_time is None:
            later = [time for revision, time in document_times
                     if revision > signature.signed_revision and time is not None]
            trusted_time = later[0] if later else None
        if trusted_time is not None:
            moment = trusted_time.moment
            if moment < now and now > cert.not_valid_after:
                notes.append(f"{label}: the certificate expired on "
                             f"{_day(cert.not_valid_after)}, after {trusted_time.source} by "
                             f"“{trusted_time.authority}” proved the signature existed at "
                             f"{_time_text(moment)}; it was checked at that trusted time")
        elif at_signing_time and claimed is not None:
            moment = claimed
            notes.append(f"{label}: certificates checked at {_time_text(claimed)}, the "
                         "signing time the signer's own clock claims (not a trusted "
                         "timestamp)")
        else:
            moment = now
        if status is None or moment != token_time:
            try:
                status = validate_at(moment)
            except Exception as exc:  # pyHanko raises assorted errors on a malformed signature
                reasons.append(f"{label} cannot be validated: {_cause(exc)}")
                continue
        modification = status.modification_level
        later_changes = "none" if modification is None else modification.name.lower()
        coverage_ok = (status.coverage == SignatureCoverageLevel.ENTIRE_FILE if last else
                       status.coverage is not None
                       and status.coverage >= SignatureCoverageLevel.ENTIRE_REVISION
                       and modification in _ACCEPTED_LATER_CHANGES)
        if not status.intact:
            found.append(f"{label}: the signed bytes were changed after signing")
        elif not status.valid:
            found.append(f"{label}: the signature value does not match the signed bytes")
        elif not status.trusted:
            causes = trust_causes(cert, signature.other_embedded_certs, roots, moment)
            when = ("at the trusted time " + (_time_text(moment) or "")
                    if trusted_time is not None else
                    f"at the claimed signing time {_time_text(moment)}" if at_signing_time
                    else "now")
            if not causes:
                indic = getattr(status.trust_problem_indic, "name", "untrusted")
                causes = [f"not trusted ({indic.lower().replace('_', ' ')})"]
            found.append(f"{label}: the signer's certificate ({signer}, issued by {issuer}), "
                         f"checked {when}: {'; '.join(causes)}")
        elif not status.bottom_line and not timestamp_named:
            found.append(f"{label} is not valid: {status.summary()}")
        if status.intact and not coverage_ok:
            found.append(f"{label} does not cover the whole file: something was appended "
                         "after the last signature" if last else
                         f"{label}: the file was changed after it beyond adding signatures "
                         f"({later_changes})")
        if status.bottom_line:
            found.extend(f"{label}: {problem}" for problem in _container_problems(signature,
                                                                                  status))
        printed = str(signature.sig_object["/Name"]) if "/Name" in signature.sig_object \
            else None
        if printed is None:
            found.append(f"{label} prints no signer's name")
        elif not same_name(printed, signer):
            found.append(f"{label} prints the name “{printed}”, but its certificate was issued "
                         f"to “{signer}”")
        if claimed is None:
            found.append(f"{label} states no signing time")
        elif not cert.not_valid_before <= claimed <= cert.not_valid_after:
            found.append(f"{label} claims to be made at {_time_text(claimed)}, outside its "
                         f"certificate's validity ({_time_text(cert.not_valid_before)} to "
                         f"{_time_text(cert.not_valid_after)})")
        elif trusted_time is not None and claimed > trusted_time.moment + _CLOCK_TOLERANCE:
            found.append(f"{label} claims to be made at {_time_text(claimed)}, after its trusted "
                         f"timestamp ({_time_text(trusted_time.moment)})")
        sig_object = signature.sig_object
        checks[position] = SignatureCheck(
            field=str(signature.field_name), signer=signer, issuer=issuer,
            printed_name=printed,
            meaning=str(sig_object["/Reason"]) if "/Reason" in sig_object else None,
            signed_at=_time_text(claimed),
            timestamp=_time_text(trusted_time.moment) if trusted_time else None,
            timestamp_by=trusted_time.authority if trusted_time else None,
            certificate_checked_at=_time_text(moment),
            intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
            coverage=_coverage_text(status.coverage), later_changes=later_changes,
            ok=not found)
        reasons.extend(found)
        if not found:
            signed.append(signature)
    return [checks[position] for position in sorted(checks)], signed


def _token_time(signature: Any) -> dt.datetime | None:
    """The time in the signature's RFC 3161 timestamp token (PAdES B-T), not yet checked."""
    unsigned = signature.signer_info["unsigned_attrs"]
    if unsigned.native is None:
        return None
    for attribute in unsigned:
        if attribute["type"].native == "signature_time_stamp_token":
            try:
                token = attribute["values"][0]["content"]["encap_content_info"]["content"]
                moment = token.parsed["gen_time"].native
            except (KeyError, IndexError, ValueError, TypeError):
                return None
            return moment if isinstance(moment, dt.datetime) else None
    return None


_CLOCK_TOLERANCE = dt.timedelta(minutes=10)
"""How far a signer's claimed time may run ahead of its trusted timestamp (clocks drift)."""


def _cause(exc: BaseException) -> str:
    """The message of an error and the errors it came from, without a traceback."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 4:
        text = str(seen).strip().splitlines()[0] if str(seen).strip() else ""
        if text and text not in messages:
            messages.append(text)
        seen = seen.__cause__ or seen.__context__
    return ": ".join(messages) or type(exc).__name__


def _container_problems(signature: Any, status: Any) -> list[str]:
    """What in the signature's own bytes the signature value does not protect, and was changed.

    The /Contents string holds the CMS blob and zero padding; the blob's certificate
    set is not signed. Any byte changed there would go unnoticed by the cryptographic
    check, so: the padding must be zeros, and every certificate carried must be the
    signer's (protected by its signed ESS attribute) or a certificate of the chain
    just validated to the trust root, byte for byte.
    """
    problems = []
    raw: bytes = signature.pkcs7_content
    _, _, _, header, contents, _ = asn1_parser.parse(raw)
    length = len(header) + len(contents)
    if raw[length:].strip(b"\x00"):
        problems.append("its signature container has bytes after its end that are not padding")
    chain = {cert.dump() for cert in status.validation_path.iter_certs(include_root=True)} \
        if status.validation_path is not None else set()
    chain.add(signature.signer_cert.dump())
    carried = signature.signed_data["certificates"]
    for choice in carried if carried.native is not None else []:
        if choice.name != "certificate" or choice.chosen.dump() not in chain:
            problems.append("it carries a certificate that is not part of the chain it was "
                            "validated with (changed, or foreign)")
            break
    return problems


def _decision_difference(recorded: Mapping[str, Any], decided: Mapping[str, Any]) -> str:
    keys = sorted(k for k in set(recorded) | set(decided) if recorded.get(k) != decided.get(k))
    return ", ".join(keys[:8]) + (" …" if len(keys) > 8 else "")


def verify_report(pdf: bytes, *, trust_roots: Sequence[bytes],
                  tsa_roots: Sequence[bytes] = (),
                  require_current_rulebase: bool = False,
                  at_signing_time: bool = False) -> ReportVerification:
    """Verify a signed report against the given trust roots (PEM or DER); never raises for it.

    ``tsa_roots`` are the roots of the time-stamping authorities whose
    timestamps count (B-T signature timestamps, B-LTA document timestamps).
    ``at_signing_time`` checks the certificates of a signature without a
    trusted timestamp at its claimed signing time rather than now (for
    archived reports whose certificate has since expired); the result's notes
    say so. Raises :class:`~rules.errors.ReportInputError` only for trust roots
    that are not certificates.
    """
    roots = load_trust_roots(trust_roots)
    tsa = load_trust_roots(tsa_roots, what="time-stamping authority root") if tsa_roots else []
    reasons: list[str] = []
    notes: list[str] = []
    checks: list[SignatureCheck] = []
    record: ReportRecord | None = None
    footer: str | None = None
    decision: Decision | None = None
    assessment: Mapping[str, Any] | None = None
    decision_check: DecisionCheck = "not_checked"
    current_version: str | None = None
    try:
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=True)
            checks, signed = _check_signatures(reader, roots, tsa, reasons, notes,
                                               at_signing_time)
        except _Invalid:
            raise
        except Exception as exc:  # anything pyHanko cannot parse: fail closed
            raise _Invalid(f"the file cannot be read as a signed PDF: {_cause(exc)}") from exc
        if reasons or not signed:
            raise _Invalid("" if reasons else "the report has no valid approval signature")
        try:
            report_file = ReportFile(pdf, reader)
        except PdfContentError as exc:
            raise _Invalid(str(exc)) from exc
        with report_file:
            # the record and the text, from the revision the first signature covers
            first = signed[0].signed_revision
            try:
                data = report_file.record_bytes(first)
                for later in signed[1:]:
                    if report_file.record_bytes(later.signed_revision) != data:
                        raise _Invalid(f"the record in the revision signed by "
                                       f"{later.field_name} is not the one the first signature "
                                       "covers")
                texts = report_file.page_texts(first)
            except PdfContentError as exc:
                raise _Invalid(str(exc)) from exc
            try:
                record = ReportRecord.from_bytes(data)
            except ValueError as exc:
                raise _Invalid(f"the embedded record cannot be read: {exc}") from exc
            try:
                decision = record.decision()
            except Exception as exc:  # pydantic ValidationError: not a decision of this model
                raise _Invalid(f"the embedded decision cannot be read: {_cause(exc)}") from exc
            reasons.extend(report_file.problems(decision, record.content.get("history") or []))
            reasons.extend(metadata_problems(report_file.documents[0], record, decision))
        shown = {match for text in texts for match in _FOOTER_HASH.findall("".join(text.split()))}
        footer = next(iter(shown)) if len(shown) == 1 else None
        reasons.extend(content_problems(texts, record, decision))
        if reasons:
            raise _Invalid("")

        try:
            parsed = parse_assessment(dict(record.assessment))
        except (SprintclearError, TypeError, ValueError) as exc:
            raise _Invalid(f"the embedded assessment is not valid: {exc}") from exc
        assessment = parsed.document
        if canonical_json(parsed.document) != canonical_json(record.assessment) or \
                parsed.input_sha256 != decision.input_sha256:
            raise _Invalid("the embedded assessment is not the input the decision was made for")

        try:
            decision_check, current_version = _check_decision(record, decision, parsed, notes)
        except _Invalid:
            raise
        except Exception as exc:  # the rules could not run on the embedded input: fail closed
            raise _Invalid(f"the embedded input could not be decided again: {_cause(exc)}") \
                from exc
        if decision_check == "different":
            raise _Invalid(notes.pop())
        if decision_check == "other_rule_base" and require_current_rulebase:
            raise _Invalid(notes[-1])
    except _Invalid as problem:
        if str(problem):
            reasons.append(str(problem))
    return ReportVerification(
        valid=not reasons, reasons=tuple(dict.fromkeys(reasons)), notes=tuple(notes),
        signatures=tuple(checks), record_sha256=record.sha256 if record else None,
        footer_sha256=footer, decision=decision, assessment=assessment,
        decision_check=decision_check,
        recorded_rulebase_version=decision.rulebase.version if decision else None,
        current_rulebase_version=current_version,
        record=record.content if record else None,
        status=_status(decision, record))


def _status(decision: Decision | None, record: ReportRecord | None) -> StatusInForce | None:
    if decision is None or record is None:
        return None
    try:
        return status_in_force(decision, record.signoff)
    except (KeyError, TypeError, ValueError):  # a sign-off that cannot be read is a reason
        return None


def _check_decision(record: ReportRecord, decision: Decision, parsed: Any,
                    notes: list[str]) -> tuple[DecisionCheck, str]:
    """Decide the embedded input again when the recorded rule base is the current one."""
    recorded = decision.rulebase.version
    evaluator = evaluator_for(default_protocol())
    current = evaluator.version
    if recorded != current and record.protocol_document is not None:
        try:
            protocol = parse_protocol(canonical_json(record.protocol_document),
                                      origin="the embedded protocol", require_contract=False)
        except ProtocolError as exc:
            raise _Invalid(f"the embedded protocol cannot be read: {exc.summary}") from exc
        if protocol.content_hash != decision.rulebase.protocol_sha256:
            raise _Invalid("the embedded protocol is not the one the decision names")
        current = rulebase_version(protocol)
        if current == recorded:
            evaluator = evaluator_for(protocol)
    if recorded != current:
        notes.append(f"decided under rule base version {recorded} (current is {current}); "
                     "the decision was not decided again")
        return "other_rule_base", current
    evaluated_at = (dt.datetime.fromisoformat(decision.evaluated_at)
                    if decision.evaluated_at else None)
    again = evaluator.decide(parsed, evaluated_at=evaluated_at)
    decided = json.loads(again.to_json())
    if canonical_json(decided) != canonical_json(record.decision_document):
        notes.append(f"the embedded decision is not what rule base {recorded} decides for the "
                     f"embedded input (it differs in: "
                     f"{_decision_difference(record.decision_document, decided)})")
        return "different", current
    return "same", current
