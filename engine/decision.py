"""The decision: what the rules concluded for one assessment, and why, as data.

It carries every key of protocol section 8 and more: every criterion with its
status (``met``, ``unmet``, ``not_assessed``, ``not_applicable``,
``carried_forward``), measured value, threshold, ``basis`` and source ids;
what blocks the next gate and what each blocking criterion needs; red flags,
holds and cautions with their message and effect; ``held_by`` (every red flag
and hold that puts the phase below the criteria phase, each with what ends
it); the criteria carried forward from the signed phase; the screening not
recorded; the activities of the injury's region; the running ``plan``; and the
fired-rule ``explanation``.

What is the same in every decision of a rule base — source citations, activity
names, criterion rationales — is stated once, in the protocol (``GET
/v1/rules``, the report's embedded protocol, the store), and referenced here
by id.

The engine writes a decision as plain data and serialises it once
(:func:`decision_json`: sorted keys, compact, UTF-8); :class:`Decision` is
the typed view of the same data for the command line, the report and the
pages. ``Decision.model_validate(data).to_json()`` gives the very same bytes,
so the same input and rule base always give byte-identical JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

FORMAT = "sprintclear-decision/2"
"""The decision's format. 2026.1 decisions (format 1) had no ``format`` key."""
LEGACY_FORMAT = "sprintclear-decision/1"
"""Decisions of sprintclear-rts 2026.1, read for display and verification only."""


def decision_json(data: dict[str, Any]) -> str:
    """Canonical JSON of a decision: sorted keys, no whitespace, UTF-8 text."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PhaseRef(_Model):
    number: int = Field(ge=1, le=6)
    id: str
    name: str


class PartFinding(_Model):
    """One measurable part of a criterion or a trigger."""

    label: str
    measure: str = Field(description="lsi, ratio, value … (protocol.md section 3)")
    op: str
    value: Any = Field(description="What was compared (percentages rounded to 0.1); null "
                                   "when not assessed")
    threshold: Any = Field(description="The threshold, profile limits and references resolved")
    value_text: str
    threshold_text: str
    outcome: Literal["passed", "failed", "not_assessed"]


class CriterionFinding(_Model):
    id: str
    name: str
    gate: str
    region: str
    status: Literal["met", "unmet", "not_assessed", "not_applicable", "carried_forward"]
    value: Any = Field(description="The measured value; a list in part order for criteria "
                                   "with several parts (null when not applicable)")
    threshold: Any = Field(description="The threshold, shaped like value")
    basis: str | None = Field(description="speed and load criteria: measured, self_rated or "
                                          "attested")
    sources: list[str] = Field(description="Source ids of the protocol")
    missing: list[str] = Field(description="Input fields it needed that were not assessed")
    parts: list[PartFinding] = Field(description="Each part with its measurement (empty when "
                                                 "not applicable)")


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


class HeldBy(_Model):
    """A red flag or hold that puts the phase below the criteria phase (section 8)."""

    id: str
    kind: Literal["red_flag", "hold"]
    cap: str = Field(description="The phase id it caps at")
    ends: str = Field(description="What ends it: 'record a physician review', 'wait until "
                                  "2026-04-02', 'record pain.next_morning' …")


class NextStep(_Model):
    """One thing that stands between the athlete and the next phase, in the order to act."""

    kind: Literal["red_flag", "hold", "criterion"]
    id: str
    text: str


class RedFlag(_Model):
    id: str
    name: str
    message: str
    effect: str = Field(description="What the rule does to the phase, in words")
    effect_kind: Literal["refer", "cap", "flare"]
    refer: bool
    cap: PhaseRef = Field(description="The phase it caps at")
    because: str = Field(description="The measurements that triggered it, in words")
    matched: list[PartFinding]
    sources: list[str]


class Hold(_Model):
    id: str
    name: str
    message: str
    effect: str
    cap: PhaseRef
    ends: str
    until: str | None = Field(default=None, description="R5: the date the hold ends")
    missing: list[str] = Field(default_factory=list, description="R13: the screening fields "
                                                                 "not recorded")
    sources: list[str]


class Caution(_Model):
    id: str
    name: str
    message: str
    because: str = Field(description="The measurements that triggered it, in words")
    matched: list[PartFinding]
    sources: list[str]


class NotChecked(_Model):
    """A red flag that could not be settled because inputs were missing."""

    id: str
    name: str
    missing: list[str]


class MissingScreen(_Model):
    """A screening field of section 4.3 not recorded, and the phase that needs it."""

    field: str
    from_phase: str


class Volume(_Model):
    advice: Literal["hold", "increase_gradually"] | None
    note: str
    last_7_days: dict[str, float]
    targets: dict[str, float]


class Plan(_Model):
    """Section 6, the plan."""

    max_velocity_pct: float
    basis: Literal["phase", "measured", "self_rated"] = Field(
        description="phase: the phase's ceiling; measured / self_rated: lowered to the max "
                    "pain-free speed")
    max_velocity_mps: float | None
    pain_free_speed_pct: float | None
    pain_free_speed_basis: str | None
    volume: Volume
    reassess_by: str
    retests: list[str]
    surveillance: str | None


class MatchedFact(_Model):
    fact: str
    slots: dict[str, Any]


class TraceStep(_Model):
    step: int
    rule: str
    kind: str = Field(description="criteria, phase, screen, red_flag, hold, caution, plan "
                                  "(format 1: criterion, safety, gate, phase, activities)")
    matched: list[MatchedFact]
    declared: MatchedFact


class AthleteInfo(_Model):
    id: str
    name: str | None = None
    sport: str | None = None
    position: str | None = None


class InjuryInfo(_Model):
    region: str
    muscle: str | None
    side: str
    date: str
    bamic_grade: str | None
    tendon_involved: bool | None
    physician_review: dict[str, Any] | None
    days_since_injury: int
    sprint_day_floor: int | None = Field(description="R5: days from injury before sprint is "
                                                     "not cautioned (section 4.5)")
    play_day_floor: int | None = Field(description="R5: days from injury before train or "
                                                   "play (null in format 1)")
    floor_reasons: list[str] = Field(description="the minimums and extra days that applied")


class AssessmentInfo(_Model):
    date: str
    assessor: str | None
    profile: str
    exercise_pain_limit: int


class Previous(_Model):
    """The signed phase the decision started from (section 2.1)."""

    phase: str | None
    date: str | None


class RuleBase(_Model):
    version: str = Field(description="SHA-256 over the protocol and the decision logic")
    protocol: str = Field(description="The protocol id")
    protocol_version: str
    protocol_sha256: str
    profile: str
    engine: str = Field(description="sprintclear version that decided")


class Decision(_Model):
    """A recommendation for one assessment. A clinician decides and signs."""

    format: Literal["sprintclear-decision/1", "sprintclear-decision/2"] = Field(
        description="2 for sprintclear-rts 2027.1; 1 for a stored 2026.1 decision read "
                    "through read_decision (never written any more)")
    decision_id: str
    input_sha256: str
    evaluated_at: str | None
    athlete: AthleteInfo
    injury: InjuryInfo
    assessment: AssessmentInfo
    previous: Previous
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
    held_by: list[HeldBy]
    next_steps: list[NextStep] = Field(
        description="What stands between the athlete and the next phase: red flags and "
                    "holds first, then the next gate's criteria")
    red_flags: list[RedFlag]
    holds: list[Hold]
    cautions: list[Caution]
    safety_not_checked: list[NotChecked]
    carried_forward: list[str]
    missing_screening: list[MissingScreen]
    allowed_activities: list[str]
    restricted_activities: list[str]
    maintenance: list[str] = Field(description="The maintenance programme, from play on")
    plan: Plan | None = Field(description="The plan (null only in format 1)")
    criteria: list[CriterionFinding]
    gates: list[GateFinding]
    explanation: list[TraceStep]
    rulebase: RuleBase

    _plain: dict[str, Any] | None = PrivateAttr(default=None)
    """The plain data the engine wrote this decision from (:meth:`of_plain`), if any."""

    @classmethod
    def of_plain(cls, data: dict[str, Any]) -> Decision:
        """The typed view of plain decision data the caller hands over and never changes
        afterwards (the engine's own): :meth:`to_json` then serialises that data directly
        instead of dumping the model again (the same bytes, a third of the time)."""
        decision = cls.model_validate(data)
        decision._plain = data
        return decision

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> Decision:
        """A copy (with ``update`` applied) that serialises from its own fields."""
        copy = super().model_copy(update=update, deep=deep)
        copy._plain = None
        return copy

    def __eq__(self, other: object) -> bool:
        """Equal when every field is: the plain data a decision was written from is a
        cache of the same content, not part of the decision (a decision read back from
        its JSON equals the one the engine made)."""
        if not isinstance(other, Decision):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, compact), byte-identical to what the engine wrote."""
        return decision_json(self.plain())

    def plain(self) -> dict[str, Any]:
        """The decision as plain JSON data (section 8's keys): the data the engine wrote it
        from, or its fields dumped. The caller must not change it."""
        return self._plain if self._plain is not None else self.model_dump(mode="json")


def read_decision(data: str | bytes | dict[str, Any]) -> Decision:
    """A stored decision of either format as a :class:`Decision`.

    Format 2 (2027.1) is validated as it is. A format-1 decision (2026.1, stored before
    the upgrade, or embedded in an archived report) is mapped onto the same model for
    display and verification: its phase, clearance, criteria statuses, red flags and
    cautions as they were; the keys 2026.1 did not have are empty (no holds, nothing
    carried forward, no plan). The stored bytes are never rewritten: this is a view.

    Raises ``pydantic.ValidationError`` when the data is neither format.
    """
    document: dict[str, Any] = (orjson.loads(data) if isinstance(data, str | bytes)
                                else dict(data))
    if document.get("format") == FORMAT:
        return Decision.model_validate(document)
    return Decision.model_validate(_from_format_1(document))


def _source_ids(sources: list[Any]) -> list[str]:
    return [s["id"] if isinstance(s, dict) else str(s) for s in sources]


def _part(part: dict[str, Any]) -> dict[str, Any]:
    keys = ("label", "measure", "op", "value", "threshold", "value_text", "threshold_text",
            "outcome")
    return {key: part.get(key) for key in keys}


def _from_format_1(old: dict[str, Any]) -> dict[str, Any]:
    assessment = old.get("assessment") or {}
    injury = old.get("injury") or {}
    criteria = [{
        "id": c["id"], "name": c["name"], "gate": c["gate"], "region": c.get("region", "both"),
        "status": c["status"], "value": c.get("value"), "threshold": c.get("threshold"),
        "basis": None, "sources": _source_ids(c.get("sources", [])),
        "missing": c.get("missing", []), "parts": [_part(p) for p in c.get("parts", [])],
    } for c in old.get("criteria", [])]
    red_flags = [{
        "id": f["id"], "name": f["name"], "message": f["message"], "effect": f["effect"],
        "effect_kind": f["effect_kind"], "refer": f["refer"], "cap": f["resulting_phase"],
        "because": f.get("because", ""), "matched": [_part(p) for p in f.get("matched", [])],
        "sources": _source_ids(f.get("sources", [])),
    } for f in old.get("red_flags", [])]
    cautions = [{
        "id": c["id"], "name": c["name"], "message": c["message"],
        "because": c.get("because", ""), "matched": [_part(p) for p in c.get("matched", [])],
        "sources": _source_ids(c.get("sources", [])),
    } for c in old.get("cautions", [])]
    next_steps = [{"kind": "criterion", "id": b["id"], "text": b["needs"]}
                  for b in old.get("blocking_details", [])]
    rulebase = dict(old.get("rulebase") or {})
    rulebase.pop("protocol_title", None)
    return {
        "format": LEGACY_FORMAT,
        "decision_id": old["decision_id"], "input_sha256": old["input_sha256"],
        "evaluated_at": old.get("evaluated_at"), "athlete": old["athlete"],
        "injury": {"region": injury["region"], "muscle": injury.get("muscle"),
                   "side": injury["side"], "date": injury["date"],
                   "bamic_grade": injury.get("bamic_grade"), "tendon_involved": None,
                   "physician_review": None,
                   "days_since_injury": injury["days_since_injury"],
                   "sprint_day_floor": injury.get("sprint_day_floor"), "play_day_floor": None,
                   "floor_reasons": []},
        "assessment": {"date": assessment["date"], "assessor": assessment.get("assessor"),
                       "profile": assessment["profile"],
                       "exercise_pain_limit": assessment["exercise_pain_limit"]},
        "previous": {"phase": assessment.get("previous_phase"), "date": None},
        "phase": old["phase"], "criteria_phase": old["criteria_phase"],
        "cleared_to_sprint": old["cleared_to_sprint"], "cleared_to_play": old["cleared_to_play"],
        "next_gate": old.get("next_gate"), "blocking": old.get("blocking", []),
        "blocking_details": old.get("blocking_details", []),
        "missing_tests": old.get("missing_tests", []),
        "held_by": [], "next_steps": next_steps, "red_flags": red_flags, "holds": [],
        "cautions": cautions, "safety_not_checked": old.get("safety_not_checked", []),
        "carried_forward": [], "missing_screening": [],
        "allowed_activities": old.get("allowed_activities", []),
        "restricted_activities": old.get("restricted_activities", []),
        "maintenance": old.get("maintenance", []), "plan": None,
        "criteria": criteria, "gates": old.get("gates", []),
        "explanation": [{"step": s["step"], "rule": s["rule"], "kind": s["kind"],
                         "matched": s["matched"], "declared": s["declared"]}
                        for s in old.get("explanation", [])],
        "rulebase": rulebase,
    }
