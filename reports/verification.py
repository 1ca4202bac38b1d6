"""Verifying a signed report: is it the file that was signed, and does it say what the rules say?

:func:`verify_report` never raises for a bad report; it returns a
:class:`ReportVerification` whose ``valid`` is true only when every check
below passes (fail closed: whatever cannot be read or checked is a reason):

1. **Signatures.** Every signature validates with pyHanko against the given
   trust roots only (nothing fetched from the network): intact, valid, and
   chaining to a root (``bottom_line``), with a claimed signing time inside
   its certificate's validity. The last one covers the entire file,
   so nothing was appended after it; an earlier one covers its whole revision
   and was followed only by signature-field updates (a countersignature).
   Document timestamps are not accepted (this verifier does not check them).
2. **The record is the signed one.** The record is read from the revision the
   first signature covers (the bytes it signed), declared as the document's
   associated file with relationship Data, exactly once; every later signed
   revision holds the same bytes.
3. **The footer shows its hash.** The SHA-256 of the record bytes is printed
   after "Record SHA-256" in the text of every page of that revision.
4. **The page shows the record's decision.** The first page prints the
   decision's phase line and both clearance lines ("✓ CLEARED to sprint" /
   "✗ NOT CLEARED to sprint", to play) and never the opposite ones; when the
   record holds the clinician's sign-off, the page prints it too (accepted or
   overridden, by whom, the signed phase and what it clears).
5. **The input is the decided one.** The embedded assessment is valid and is
   the input whose SHA-256 the decision records.
6. **The rules decide the same.** When the decision's rule base version is
   the current one (the current code with the default protocol, or with the
   protocol embedded in the record), the input is decided again, with the
   recorded ``evaluated_at``, and the canonical JSON must be identical.

   When the recorded version is not the current one, the decision is **not**
   decided again and the report is still valid, with the note "decided under
   rule base version X (current is Y)". Years later the rules will have
   moved on; the signature still proves what the clinician approved under the
   rules of the day, and calling every such report invalid would make the
   archive worthless. The note is in ``notes``, ``decision_check`` is
   ``other_rule_base``, and callers that need the current rules
   (``require_current_rulebase=True``, ``sprintclear verify --require-current``)
   get an invalid result instead.

Not checked: revocation (no CRL or OCSP offline), and a trusted time (B-B has
none: the signing time is the signer's claim). Certificates are checked at
the time of verification by default, so a report whose certificate has since
expired is invalid. An archive that must read such a report years later can
ask for the check at the signer's claimed signing time instead
(``at_signing_time=True``, ``sprintclear verify --at-signing-time``): the
result then says, in ``notes``, that the time is the signer's claim and not a
trusted timestamp. Everything else is checked exactly the same way.

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
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from engine.assessment import canonical_json, parse_assessment
from engine.decide import evaluator_for, rulebase_version
from engine.decision import Decision
from reports.pdf_reading import PdfContentError, page_texts, record_attachment
from reports.record import ReportRecord
from reports.signing import certificate_name
from reports.view import (
    StatusInForce,
    page_one_claims,
    page_one_contradictions,
    status_in_force,
)
from rules.errors import ProtocolError, ReportInputError, SprintclearError, VerificationFailed
from rules.loading import default_protocol, parse_protocol

__all__ = ["ReportVerification", "SignatureCheck", "load_trust_roots", "verify_report"]

DecisionCheck = Literal["same", "different", "other_rule_base", "not_checked"]

_FOOTER_HASH = re.compile(r"RecordSHA-256:?([0-9a-f]{64})")
_ACCEPTED_LATER_CHANGES = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
                           ModificationLevel.FORM_FILLING)


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of the report and what its validation found."""

    field: str
    signer: str
    """The certificate's subject (common name)."""
    issuer: str
    printed_name: str | None
    meaning: str | None
    signed_at: str | None
    """The signing time the signer claims (UTC, ISO 8601); not a trusted timestamp."""
    intact: bool
    valid: bool
    trusted: bool
    coverage: str
    later_changes: str
    ok: bool

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in (
            "field", "signer", "issuer", "printed_name", "meaning", "signed_at", "intact",
            "valid", "trusted", "coverage", "later_changes", "ok")}


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


def load_trust_roots(roots: Sequence[bytes]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (one or several per item) or DER; refuse anything else."""
    certificates: list[asn1_x509.Certificate] = []
    for index, data in enumerate(roots, 1):
        try:
            if b"-----BEGIN" in data:
                loaded = x509.load_pem_x509_certificates(data)
            else:
                loaded = [x509.load_der_x509_certificate(data)]
        except ValueError as exc:
            raise ReportInputError(f"trust root {index} is not a PEM or DER certificate") \
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


def _check_signatures(reader: PdfFileReader, roots: list[asn1_x509.Certificate],
                      reasons: list[str], notes: list[str], at_signing_time: bool
                      ) -> tuple[list[SignatureCheck], list[Any]]:
    embedded = reader.embedded_signatures
    if not embedded:
        raise _Invalid("the report is not signed")
    checks, signed = [], []
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    for position, signature in enumerate(embedded, 1):
        last = position == len(embedded)
        label = f"signature {position} ({signature.field_name})"
        if signature.sig_object_type != "/Sig":
            reasons.append(f"{label} is a document timestamp, which this verifier does not "
                           "check")
            continue
        if at_signing_time and signature.self_reported_timestamp is not None:
            claimed_at = signature.self_reported_timestamp
            context = ValidationContext(trust_roots=roots, allow_fetching=False,
                                        moment=claimed_at)
            notes.append(f"{label}: certificates checked at {_time_text(claimed_at)}, the "
                         "signing time the signer's own clock claims (not a trusted "
                         "timestamp)")
        try:
            status = validate_pdf_signature(signature, context)
        except Exception as exc:  # pyHanko raises assorted errors on a malformed signature
            reasons.append(f"{label} cannot be validated: {exc}")
            continue
        cert = signature.signer_cert
        signer, issuer = certificate_name(cert.subject), certificate_name(cert.issuer)
        modification = status.modification_level
        later = "none" if modification is None else modification.name.lower()
        coverage_ok = (status.coverage == SignatureCoverageLevel.ENTIRE_FILE if last else
                       status.coverage is not None
                       and status.coverage >= SignatureCoverageLevel.ENTIRE_REVISION
                       and modification in _ACCEPTED_LATER_CHANGES)
        claimed = signature.self_reported_timestamp
        found = []
        if not status.intact:
            found.append(f"{label}: the signed bytes were changed after signing")
        elif not status.valid:
            found.append(f"{label}: the signature value does not match the signed bytes")
        elif not status.trusted:
            problem = getattr(status.trust_problem_indic, "name", "untrusted")
            found.append(f"{label}: the signer's certificate ({signer}, issued by {issuer}) "
                         "does not chain to a given trust root, is not valid now, or may not "
                         f"sign ({problem.lower().replace('_', ' ')})")
        elif not status.bottom_line:
            found.append(f"{label} is not valid: {status.summary()}")
        if status.intact and not coverage_ok:
            found.append(f"{label} does not cover the whole file: something was appended "
                         "after the last signature" if last else
                         f"{label}: the file was changed after it beyond adding signatures "
                         f"({later})")
        if status.bottom_line:
            found.extend(f"{label}: {problem}" for problem in _container_problems(signature,
                                                                                  status))
        if claimed is None:
            found.append(f"{label} states no signing time")
        elif not cert.not_valid_before <= claimed <= cert.not_valid_after:
            found.append(f"{label} claims to be made at {_time_text(claimed)}, outside its "
                         f"certificate's validity ({_time_text(cert.not_valid_before)} to "
                         f"{_time_text(cert.not_valid_after)})")
        sig_object = signature.sig_object
        checks.append(SignatureCheck(
            field=str(signature.field_name), signer=signer, issuer=issuer,
            printed_name=str(sig_object["/Name"]) if "/Name" in sig_object else None,
            meaning=str(sig_object["/Reason"]) if "/Reason" in sig_object else None,
            signed_at=_time_text(claimed),
            intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
            coverage=_coverage_text(status.coverage), later_changes=later,
            ok=not found))
        reasons.extend(found)
        if not found:
            signed.append(signature)
    return checks, signed


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


def _signed_revision(pdf: bytes, signature: Any, reader: PdfFileReader) -> PdfFileReader:
    """The document as the signature covers it: the file up to the end of its byte range."""
    byte_range = [int(x) for x in signature.byte_range]
    end = byte_range[2] + byte_range[3]
    if byte_range[0] != 0 or end > len(pdf):
        raise _Invalid(f"signature {signature.field_name} has an unusable byte range")
    if end == len(pdf):
        return reader
    return PdfFileReader(io.BytesIO(pdf[:end]), strict=True)


def _footer_hashes(texts: list[str]) -> list[set[str]]:
    return [set(_FOOTER_HASH.findall("".join(text.split()))) for text in texts]


def _decision_difference(recorded: Mapping[str, Any], decided: Mapping[str, Any]) -> str:
    keys = sorted(k for k in set(recorded) | set(decided) if recorded.get(k) != decided.get(k))
    return ", ".join(keys[:8]) + (" …" if len(keys) > 8 else "")


def verify_report(pdf: bytes, *, trust_roots: Sequence[bytes],
                  require_current_rulebase: bool = False,
                  at_signing_time: bool = False) -> ReportVerification:
    """Verify a signed report against the given trust roots (PEM or DER); never raises for it.

    ``at_signing_time`` checks the certificates at each signature's claimed
    signing time rather than now (for archived reports whose certificate has
    since expired); the result's notes say so.
    """
    roots = load_trust_roots(trust_roots)
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
            checks, signed = _check_signatures(reader, roots, reasons, notes, at_signing_time)
        except _Invalid:
            raise
        except Exception as exc:  # anything pyHanko cannot parse: fail closed
            raise _Invalid(f"the file cannot be read as a signed PDF: {exc}") from exc
        if reasons or not signed:
            raise _Invalid("")

        # the record and the text, from the revision the first signature covers
        try:
            first = _signed_revision(pdf, signed[0], reader)
            data = record_attachment(first.root)
            texts = page_texts(first.root, follow_forms=False)
            for later in signed[1:]:
                if record_attachment(_signed_revision(pdf, later, reader).root) != data:
                    raise _Invalid(f"the record in the revision signed by {later.field_name} is "
                                   "not the one the first signature covers")
        except PdfContentError as exc:
            raise _Invalid(str(exc)) from exc
        try:
            record = ReportRecord.from_bytes(data)
        except ValueError as exc:
            raise _Invalid(f"the embedded record cannot be read: {exc}") from exc

        printed = _footer_hashes(texts)
        missing = [str(number) for number, hashes in enumerate(printed, 1) if not hashes]
        if missing:
            raise _Invalid("no record hash is printed in the footer of page "
                           + ", ".join(missing))
        shown = set().union(*printed)
        footer = next(iter(shown)) if len(shown) == 1 else None
        if shown != {record.sha256} or any(hashes != shown for hashes in printed):
            raise _Invalid(f"the record hash printed in the footer ({', '.join(sorted(shown))}) "
                           f"is not the SHA-256 of the embedded record ({record.sha256})")

        try:
            decision = record.decision()
        except Exception as exc:  # pydantic ValidationError: not a decision of this model
            raise _Invalid(f"the embedded decision cannot be read: {exc}") from exc
        page_one = "".join(texts[0].split())
        signoff = record.signoff
        try:
            if signoff is not None and signoff["recommended_phase"] != decision.phase.id:
                raise _Invalid("the recorded sign-off names another recommendation "
                               f"({signoff['recommended_phase']}) than the decision "
                               f"({decision.phase.id})")
            claims = page_one_claims(decision, signoff)
            contradictions = page_one_contradictions(decision, signoff)
        except (KeyError, TypeError, ValueError) as exc:
            raise _Invalid(f"the recorded sign-off cannot be read: {exc}") from exc
        for claim in claims:
            if "".join(claim.split()) not in page_one:
                raise _Invalid(f"the first page does not show “{claim}”, which the embedded "
                               "record says")
        for claim in contradictions:
            if "".join(claim.split()) in page_one:
                raise _Invalid(f"the first page shows “{claim}”, which contradicts the "
                               "embedded record")
        if f"Decision{decision.decision_id}" not in page_one:
            raise _Invalid(f"the first page does not show decision {decision.decision_id}")

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
            raise _Invalid(f"the embedded input could not be decided again: {exc}") from exc
        if decision_check == "different":
            raise _Invalid(notes.pop())
        if decision_check == "other_rule_base" and require_current_rulebase:
            raise _Invalid(notes[-1])
    except _Invalid as problem:
        if str(problem):
            reasons.append(str(problem))
    return ReportVerification(
        valid=not reasons, reasons=tuple(reasons), notes=tuple(notes),
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
