"""The decision: what the rules concluded for one assessment, and why, as data.

It carries every key of protocol section 8 and more. Every criterion has its
status, measured value, threshold and sources; every blocking criterion says
what it needs; red flags and cautions carry their message and effect; the
explanation is the ordered trace of fired rules with the facts each matched.
Nothing in it depends on the clock unless a time is passed in, so the same
input and the same rule base give byte-identical JSON (:meth:`Decision.to_json`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JSONScalar = str | int | float | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PhaseRef(_Model):
    number: int = Field(ge=1, le=6)
    id: str
    name: str


class SourceRef(_Model):
    id: str
    short: str


class Reference(_Model):
    id: str
    kind: str
    short: str
    citation: str


class PartFinding(_Model):
    """One measurable part of a criterion or safety trigger."""

    label: str
    measure: str
    fields: list[str]
    op: str
    threshold: Any
    threshold_text: str
    value: Any
    value_text: str
    outcome: Literal["passed", "failed", "not_assessed"]
    missing: list[str]
    inputs: dict[str, Any]


class CriterionFinding(_Model):
    id: str
    name: str
    gate: str
    region: str
    status: Literal["met", "unmet", "not_assessed", "not_applicable"]
    value: Any = Field(description="The measured value; an object by part label for "
                                   "criteria with several parts")
    threshold: Any = Field(description="The threshold, shaped like value")
    summary: str = Field(description="The criterion's parts with their measurements, in words")
    needs: str | None = Field(description="What it needs to pass, when it does not")
    missing: list[str] = Field(description="Input fields it needed that were not assessed")
    parts: list[PartFinding]
    rationale: str
    sources: list[SourceRef]


class GateFinding(_Model):
    id: str
    name: str
    from_phase: str
    to_phase: str
    passed: bool
    criteria: list[str]
    not_passed: list[str]


class BlockingCriterion(_Model):
    id: str
    name: str
    status: Literal["unmet", "not_assessed"]
    needs: str
    missing: list[str]


class RedFlag(_Model):
    id: str
    name: str
    message: str
    effect: str = Field(description="What the rule does to the phase, in words")
    because: str = Field(description="The measurements that triggered it, in words")
    effect_kind: Literal["refer", "cap", "flare"]
    refer: bool
    resulting_phase: PhaseRef
    matched: list[PartFinding]
    sources: list[SourceRef]


class Caution(_Model):
    id: str
    name: str
    message: str
    because: str = Field(description="The measurements that triggered it, in words")
    matched: list[PartFinding]
    sources: list[SourceRef]


class NotChecked(_Model):
    """A red-flag rule that could not be fully checked because inputs were missing."""

    id: str
    name: str
    missing: list[str]


class ActivityFinding(_Model):
    id: str
    name: str
    from_phase: str
    allowed: bool
    sources: list[SourceRef]


class MatchedFact(_Model):
    fact: str
    slots: dict[str, Any]


class TraceStep(_Model):
    step: int
    rule: str
    kind: Literal["criterion", "safety", "gate", "phase", "activities"]
    description: str
    matched: list[MatchedFact]
    declared: MatchedFact


class AthleteInfo(_Model):
    id: str
    name: str | None = None
    sport: str | None = None
    position: str | None = None


class InjuryInfo(_Model):
    region: str
    muscle: str | None = None
    side: str
    date: str
    bamic_grade: str | None = None
    days_since_injury: int
    sprint_day_floor: int | None = Field(
        description="R5's usual minimum days to sprint for this injury (null: grade unknown)")


class AssessmentInfo(_Model):
    date: str
    assessor: str | None = None
    profile: str
    exercise_pain_limit: int
    previous_phase: str | None = None


class RuleBase(_Model):
    version: str = Field(description="SHA-256 over the protocol and the decision logic")
    protocol: str = Field(description="The protocol id")
    protocol_version: str
    protocol_title: str
    protocol_sha256: str
    profile: str
    engine: str = Field(description="sprintclear version that decided")


class Decision(_Model):
    """A recommendation for one assessment. A clinician decides and signs."""

    decision_id: str
    input_sha256: str
    evaluated_at: str | None = None
    athlete: AthleteInfo
    injury: InjuryInfo
    assessment: AssessmentInfo
    phase: PhaseRef
    criteria_phase: PhaseRef
    cleared_to_sprint: bool
    cleared_to_play: bool
    next_gate: GateFinding | None = Field(
        description="The gate between the criteria phase and the next one (null at play)")
    blocking: list[str]
    blocking_details: list[BlockingCriterion]
    missing_tests: list[str] = Field(
        description="Input fields whose absence keeps the next gate closed")
    red_flags: list[RedFlag]
    cautions: list[Caution]
    safety_not_checked: list[NotChecked]
    allowed_activities: list[str]
    restricted_activities: list[str]
    activities: list[ActivityFinding]
    maintenance: list[str] = Field(description="The maintenance plan, from return to play on")
    criteria: list[CriterionFinding]
    gates: list[GateFinding]
    explanation: list[TraceStep]
    rulebase: RuleBase
    references: list[Reference]

    def to_json(self) -> str:
        """Compact JSON, byte-identical for the same input and rule base."""
        return self.model_dump_json()
