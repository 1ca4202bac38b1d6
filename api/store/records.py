"""What the store gives back: read models of the stored records.

They are plain frozen pydantic models, detached from the database session, so
the HTTP layer returns them as they are (and OpenAPI documents them) and the
command line prints them. The full decision is kept as the exact JSON text
the engine wrote (:attr:`StoredDecision.decision_json`); it is never parsed
and re-encoded on its way out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rules.dictionary import Region, Side

__all__ = [
    "ApiKeyInfo",
    "AssessmentEntry",
    "AssessmentRecord",
    "Athlete",
    "AuditEntry",
    "DecisionSummary",
    "Injury",
    "InjuryTimeline",
    "NewApiKey",
    "Principal",
    "ReportInfo",
    "Signoff",
    "StoredDecision",
    "StoredReport",
    "SummaryPhase",
    "Timeline",
]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Principal(_Record):
    """Who is acting: the API key's id, its holder's name, and its role."""

    key_id: str | None = Field(description="The API key's id; null for the local command line")
    name: str
    role: str


class Athlete(_Record):
    id: str = Field(description="The athlete id used in assessments (athlete.id)")
    name: str | None = None
    sport: str | None = None
    position: str | None = None
    created_at: str


class Injury(_Record):
    """An injury episode: one muscle injury of one athlete, from its date on."""

    id: str
    athlete_id: str
    region: Region
    side: Side
    date: str
    muscle: str | None = None
    bamic_grade: str | None = None
    mechanism: str | None = None
    created_at: str


class SummaryPhase(_Record):
    number: int
    id: str


class Signoff(_Record):
    """A clinician's sign-off: the recommendation accepted, or overridden with a reason."""

    id: str
    decision_id: str
    action: Literal["accept", "override"]
    recommended_phase: str = Field(description="The phase the rules recommended (unchanged)")
    signed_phase: str = Field(description="The phase the clinician signed")
    reason: str | None = Field(description="Why (mandatory for an override)")
    clinician: str
    clinician_key_id: str | None
    signed_at: str
    acknowledged: list[str] | None = Field(
        default=None, description="The red flag, hold and caution ids the clinician "
        "acknowledged when confirming the sign-off (null: none recorded)")


class ReportInfo(_Record):
    id: str
    decision_id: str
    sha256: str = Field(description="SHA-256 of the signed PDF")
    size: int
    signer_name: str
    meaning: str
    created_at: str


class StoredReport(_Record):
    info: ReportInfo
    pdf: bytes


class DecisionSummary(_Record):
    """The decision in a line: what a timeline shows."""

    id: str
    phase: SummaryPhase
    criteria_phase: SummaryPhase
    cleared_to_sprint: bool
    cleared_to_play: bool
    red_flags: list[str]
    cautions: list[str]
    blocking: list[str]
    rulebase_version: str
    protocol: str
    protocol_version: str
    evaluated_at: str


class AssessmentEntry(_Record):
    """One stored assessment with its decision and sign-off, as a timeline lists it."""

    id: str
    athlete_id: str
    injury_id: str
    assessment_date: str
    assessor: str | None
    supersedes: str | None
    superseded_by: str | None
    input_sha256: str
    created_at: str
    decision: DecisionSummary
    signoff: Signoff | None


class AssessmentRecord(_Record):
    """A stored assessment: its entry and the canonical input document."""

    entry: AssessmentEntry
    document: dict[str, Any]


class InjuryTimeline(_Record):
    injury: Injury
    assessments: list[AssessmentEntry] = Field(
        description="In assessment-date order (then storage order); superseded ones included")


class Timeline(_Record):
    athlete: Athlete
    injuries: list[InjuryTimeline]


class StoredDecision(_Record):
    """A stored decision: where it belongs, its sign-off and report, and the full JSON."""

    id: str
    assessment_id: str
    athlete_id: str
    injury_id: str
    superseded_by: str | None
    summary: DecisionSummary
    signoff: Signoff | None
    report: ReportInfo | None
    decision_json: str
    decision_sha256: str

    def envelope(self) -> dict[str, Any]:
        """Everything but the decision itself, for the HTTP envelope."""
        return {"id": self.id, "assessment_id": self.assessment_id,
                "athlete_id": self.athlete_id, "injury_id": self.injury_id,
                "superseded_by": self.superseded_by,
                "rulebase_version": self.summary.rulebase_version,
                "decided_at": self.summary.evaluated_at,
                "decision_sha256": self.decision_sha256,
                "signoff": self.signoff.model_dump() if self.signoff else None,
                "report": self.report.model_dump() if self.report else None}


class ApiKeyInfo(_Record):
    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None


class NewApiKey(_Record):
    """A key just created: the secret is shown this once and stored only as a hash."""

    key: str = Field(description="The API key; send it as the X-API-Key header")
    info: ApiKeyInfo


class AuditEntry(_Record):
    seq: int
    at: str
    actor: dict[str, Any]
    action: str
    subject: str
    details: Any
    prev_hash: str
    hash: str


class AccessEntry(_Record):
    """One read of a decision or report by an insurer or an auditor (the access log)."""

    id: int
    at: str
    actor: dict[str, Any] = Field(description="{key, name, role} of the reader's API key")
    action: Literal["decision.read", "decision.fhir", "report.read"]
    subject: str = Field(description="decision/<id>")
    athlete_id: str | None
    via: Literal["api", "page"]


class AccessLogPage(_Record):
    """A page of the access log, oldest first; ``next_after`` continues it (None: the end)."""

    entries: list[AccessEntry]
    next_after: int | None
