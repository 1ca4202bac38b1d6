"""The record embedded in every report: the input, the decision, the protocol, as one file.

The record is one JSON file, ``sprintclear-record.json``, attached to the PDF
as a PDF/A-3 associated file of the document (``/AFRelationship /Data``). Its
bytes are the canonical JSON (keys sorted, no whitespace, UTF-8) of::

    {
      "format": "sprintclear.report-record",
      "format_version": 1,
      "generated_at": "2026-03-10T14:05:00Z",       the report's clock, UTC
      "assessment": {...},     the canonical assessment input (engine.parse_assessment)
      "decision": {...},       the decision, as Decision.to_json() gives it
      "protocol": {...},       the protocol that decided it (its canonical JSON), or null
      "history": [...],        what the trend charts plot of each earlier decision
      "signoff": {...}         the clinician's sign-off the report prints, or null:
                               action (accept | override), clinician, signed_at,
                               recommended_phase, signed_phase, reason
    }

**The record hash** printed in every page footer ("Record SHA-256") is the
SHA-256 of exactly those bytes: extract the attachment with any PDF tool
(``pdfdetach -save 1``, ``qpdf --show-attachment=sprintclear-record.json``)
and ``sha256sum`` it. Verification reads the record from the signed revision,
hashes it the same way and compares it with the footer text of every page.

The protocol is embedded so that a report decided under a clinic's own
protocol can still be re-decided years later; the decision's
``rulebase.version`` says whether the current code and that protocol are the
rule base that decided.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.assessment import canonical_json
from engine.decision import Decision, read_decision
from rules.protocol import Protocol

__all__ = [
    "RECORD_FILENAME",
    "RECORD_FORMAT",
    "RECORD_FORMAT_VERSION",
    "ReportRecord",
    "ReportSignoff",
    "build_record",
    "utc_stamp",
]

RECORD_FILENAME = "sprintclear-record.json"
RECORD_FORMAT = "sprintclear.report-record"
RECORD_FORMAT_VERSION = 1
RECORD_DESCRIPTION = ("sprintclear decision record: the assessment input, the decision, the "
                      "protocol and the earlier decisions shown; SHA-256 printed in the footer")


def utc_stamp(moment: dt.datetime, *, what: str = "the time") -> str:
    """``2026-03-10T14:05:00Z``; a naive time is refused (the clock is always passed in)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ReportSignoff:
    """The clinician's sign-off of a decision, as the report prints and records it.

    ``accept`` signs the recommended phase; ``override`` signs another phase and
    needs a reason. The recommendation itself is never changed: the report
    prints both.
    """

    action: Literal["accept", "override"]
    clinician: str
    signed_at: dt.datetime
    signed_phase: str
    reason: str | None = None

    def as_record(self, recommended_phase: str) -> dict[str, Any]:
        return {"action": self.action, "clinician": self.clinician,
                "signed_at": utc_stamp(self.signed_at, what="the sign-off time"),
                "recommended_phase": recommended_phase, "signed_phase": self.signed_phase,
                "reason": self.reason}


@dataclass(frozen=True)
class ReportRecord:
    """The embedded record: its exact bytes, their SHA-256, and the parsed content."""

    data: bytes
    sha256: str
    content: Mapping[str, Any]

    @classmethod
    def from_bytes(cls, data: bytes) -> ReportRecord:
        """Parse embedded bytes (``ValueError`` if they are not a record of this format)."""
        content = json.loads(data.decode("utf-8"))
        if not isinstance(content, dict) or content.get("format") != RECORD_FORMAT:
            raise ValueError("the attachment is not a sprintclear report record")
        if content.get("format_version") != RECORD_FORMAT_VERSION:
            raise ValueError(f"record format version {content.get('format_version')!r} is not "
                             f"the one this sprintclear reads ({RECORD_FORMAT_VERSION})")
        missing = [key for key in ("assessment", "decision", "generated_at")
                   if key not in content]
        if missing:
            raise ValueError("the record lacks " + ", ".join(missing))
        return cls(data=data, sha256=hashlib.sha256(data).hexdigest(), content=content)

    @property
    def assessment(self) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self.content["assessment"]
        return value

    @property
    def decision_document(self) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self.content["decision"]
        return value

    @property
    def protocol_document(self) -> Mapping[str, Any] | None:
        value: Mapping[str, Any] | None = self.content.get("protocol")
        return value

    @property
    def signoff(self) -> Mapping[str, Any] | None:
        value: Mapping[str, Any] | None = self.content.get("signoff")
        return value

    def decision(self) -> Decision:
        """The embedded decision as the model (pydantic ``ValidationError`` if it is not one)."""
        return read_decision(dict(self.content["decision"]))


def build_record(decision: Decision, assessment: Mapping[str, Any], *,
                 protocol: Protocol | None, history: Sequence[Mapping[str, Any]],
                 generated_at: dt.datetime,
                 signoff: ReportSignoff | None = None) -> ReportRecord:
    """The record of one report, canonical and hashed."""
    content = {
        "format": RECORD_FORMAT,
        "format_version": RECORD_FORMAT_VERSION,
        "generated_at": utc_stamp(generated_at, what="generated_at"),
        "assessment": assessment,
        "decision": json.loads(decision.to_json()),
        "protocol": None if protocol is None else json.loads(protocol.canonical_json()),
        "history": list(history),
        "signoff": None if signoff is None else signoff.as_record(decision.phase.id),
    }
    data = canonical_json(content).encode("utf-8")
    return ReportRecord(data=data, sha256=hashlib.sha256(data).hexdigest(), content=content)
