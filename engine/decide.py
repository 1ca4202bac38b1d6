"""Deciding an assessment: validate, infer, and write the decision down as data.

``Evaluator(protocol).decide(document)`` is the whole pipeline:

1. the document is validated against the data dictionary (pydantic), before
   any fact is declared; a bad document raises ``InvalidAssessment``;
2. the protocol's rule network (``engine.inference``) runs forward chaining:
   criteria → gates → criteria phase → safety rules → phase → activities;
3. the run is turned into a :class:`~engine.decision.Decision` with every
   criterion, what blocks the next gate, red flags, cautions, activities and
   the fired-rule trace.

The rule base version is a SHA-256 over the protocol's canonical JSON and
the source of the modules that turn an input into a decision, so any change
to a threshold or to the logic gives a new version, and the same version
always decides the same input the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from decimal import Decimal
from importlib import metadata, resources
from typing import Any

from engine.assessment import Assessment, Bilateral, parse_assessment, parse_assessment_json
from engine.conditions import Case, CriterionResult, PartResult
from engine.decision import (
    ActivityFinding,
    AssessmentInfo,
    AthleteInfo,
    BlockingCriterion,
    Caution,
    CriterionFinding,
    Decision,
    GateFinding,
    InjuryInfo,
    MatchedFact,
    NotChecked,
    PartFinding,
    PhaseRef,
    RedFlag,
    Reference,
    RuleBase,
    SourceRef,
    TraceStep,
)
from engine.inference import Inference, Run, SafetyOutcome
from engine.wording import condition_label, measured_text, needs_sentence, threshold_text
from rules.loading import default_protocol
from rules.protocol import Protocol, SafetyRule

__all__ = ["Evaluator", "decide", "evaluator_for", "rulebase_version"]

# The modules whose source determines what a decision says. Changing any of
# them changes the rule base version.
_DECISION_LOGIC = (
    ("rules", "dictionary.py"),
    ("rules", "protocol.py"),
    ("engine", "assessment.py"),
    ("engine", "measures.py"),
    ("engine", "conditions.py"),
    ("engine", "wording.py"),
    ("engine", "inference.py"),
    ("engine", "decision.py"),
    ("engine", "decide.py"),
)


def _logic_digest() -> bytes:
    digest = hashlib.sha256()
    for package, name in _DECISION_LOGIC:
        digest.update(f"{package}/{name}\n".encode())
        digest.update(resources.files(package).joinpath(name).read_bytes())
    return digest.digest()


_LOGIC_DIGEST = _logic_digest()


def rulebase_version(protocol: Protocol) -> str:
    """SHA-256 (hex) over the protocol's canonical JSON and the decision logic."""
    digest = hashlib.sha256(_LOGIC_DIGEST)
    digest.update(protocol.canonical_json().encode("utf-8"))
    return digest.hexdigest()


def _package_version() -> str:
    try:
        return metadata.version("sprintclear")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


_ENGINE_VERSION = _package_version()


class Evaluator:
    """Decides assessments under one protocol. Build it once; it is thread-safe."""

    def __init__(self, protocol: Protocol | None = None) -> None:
        self.protocol = protocol or default_protocol()
        self.version = rulebase_version(self.protocol)
        self._inference = Inference(self.protocol)
        self._references = [
            Reference(id=s.id, kind=s.kind, short=s.short, citation=s.citation)
            for s in self.protocol.sources
        ]
        self._source_refs = {s.id: SourceRef(id=s.id, short=s.short)
                             for s in self.protocol.sources}

    def decide(self, document: Any, *, evaluated_at: dt.datetime | None = None) -> Decision:
        """Validate ``document`` (a parsed JSON object or an :class:`Assessment`) and decide it."""
        assessment = document if isinstance(document, Assessment) else parse_assessment(document)
        run = self._inference.run(Case.of(assessment, self.protocol))
        return self._decision(run, evaluated_at)

    def decide_json(self, text: str | bytes, *, evaluated_at: dt.datetime | None = None
                    ) -> Decision:
        return self.decide(parse_assessment_json(text), evaluated_at=evaluated_at)

    # ---- writing the decision down ------------------------------------------------

    def _sources(self, ids: tuple[str, ...]) -> list[SourceRef]:
        return [self._source_refs[i] for i in ids]

    def _phase(self, number: int) -> PhaseRef:
        phase = self.protocol.phase_by_number[number]
        return PhaseRef(number=phase.number, id=phase.id, name=phase.name)

    def _decision(self, run: Run, evaluated_at: dt.datetime | None) -> Decision:
        protocol = self.protocol
        case = run.case
        assessment = case.assessment
        document = assessment.document
        assert run.phase is not None and run.criteria_phase is not None
        stamp = None
        if evaluated_at is not None:
            if evaluated_at.tzinfo is None:
                raise ValueError("evaluated_at must be timezone-aware")
            stamp = evaluated_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

        criteria = [self._criterion(result) for result in run.criteria.values()]
        gates = [self._gate(gate.id, run) for gate in protocol.gates]
        next_gate = gates[run.criteria_phase - 1] if run.criteria_phase < 6 else None
        blocking_results = [run.criteria[cid] for cid in (next_gate.not_passed if next_gate
                                                          else [])]
        blocking_details = [
            BlockingCriterion(id=r.criterion.id, name=r.criterion.name,
                              status=r.status,  # type: ignore[arg-type]
                              needs=needs_sentence(r) or "", missing=list(r.missing))
            for r in blocking_results
        ]
        missing_tests = list(dict.fromkeys(p for r in blocking_results for p in r.missing))

        red_flags, cautions, not_checked = [], [], []
        for outcome in run.safety.values():
            rule = outcome.rule
            if outcome.outcome == "triggered":
                if rule.effect.is_red_flag:
                    red_flags.append(self._red_flag(outcome, run.criteria_phase))
                else:
                    matched = [self._part(p) for p in outcome.result.reasons]
                    cautions.append(Caution(
                        id=rule.id, name=rule.name, message=rule.message,
                        because=_because(matched), matched=matched,
                        sources=self._sources(rule.sources)))
            elif outcome.outcome == "not_checked" and rule.effect.is_red_flag:
                not_checked.append(NotChecked(id=rule.id, name=rule.name,
                                              missing=list(outcome.result.missing)))
        red_flags.sort(key=lambda flag: int(flag.id[1:]))
        cautions.sort(key=lambda caution: int(caution.id[1:]))

        activities = [
            ActivityFinding(id=a.id, name=a.name, from_phase=a.from_phase,
                            allowed=a.id in run.allowed, sources=self._sources(a.sources))
            for a in protocol.activities
        ]
        input_sha256 = assessment.input_sha256
        decision_id = hashlib.sha256(
            f"{input_sha256}\n{self.version}\n{stamp or ''}".encode()).hexdigest()[:32]
        injury = document["injury"]
        return Decision(
            decision_id=decision_id,
            input_sha256=input_sha256,
            evaluated_at=stamp,
            athlete=AthleteInfo(**document["athlete"]),
            injury=InjuryInfo(region=injury["region"], muscle=injury.get("muscle"),
                              side=injury["side"], date=injury["date"],
                              bamic_grade=injury.get("bamic_grade"),
                              days_since_injury=assessment.days_since_injury,
                              sprint_day_floor=case.sprint_day_floor),
            assessment=AssessmentInfo(date=document["assessment"]["date"],
                                      assessor=document["assessment"].get("assessor"),
                                      profile=assessment.profile,
                                      exercise_pain_limit=case.exercise_pain_limit,
                                      previous_phase=assessment.previous_phase),
            phase=self._phase(run.phase),
            criteria_phase=self._phase(run.criteria_phase),
            cleared_to_sprint=protocol.clearance(run.phase)[0],
            cleared_to_play=protocol.clearance(run.phase)[1],
            next_gate=next_gate,
            blocking=[b.id for b in blocking_details],
            blocking_details=blocking_details,
            missing_tests=missing_tests,
            red_flags=red_flags,
            cautions=cautions,
            safety_not_checked=not_checked,
            allowed_activities=list(run.allowed),
            restricted_activities=list(run.restricted),
            activities=activities,
            maintenance=([item.text for item in protocol.maintenance]
                         if run.phase == protocol.phase_by_id["play"].number else []),
            criteria=criteria,
            gates=gates,
            explanation=[self._step(index, step) for index, step in enumerate(run.trace, 1)],
            rulebase=RuleBase(version=self.version, protocol=protocol.id,
                              protocol_version=protocol.version, protocol_title=protocol.title,
                              protocol_sha256=protocol.content_hash, profile=assessment.profile,
                              engine=_ENGINE_VERSION),
            references=self._references,
        )

    def _part(self, part: PartResult) -> PartFinding:
        condition = part.condition
        threshold = condition.threshold if condition.measure == "phase" else part.threshold
        return PartFinding(
            label=condition_label(condition),
            measure=condition.measure,
            fields=list(condition.field_paths()) or [path for path, _ in part.inputs],
            op=condition.op,
            threshold=_json(threshold),
            threshold_text=threshold_text(part),
            value=_json(part.value),
            value_text=measured_text(part),
            outcome="not_assessed" if part.outcome is None else (
                "passed" if part.outcome else "failed"),
            missing=list(part.missing),
            inputs=dict(part.inputs),
        )

    def _criterion(self, result: CriterionResult) -> CriterionFinding:
        criterion = result.criterion
        parts = [self._part(part) for part in result.parts]
        if len(parts) == 1:
            value, threshold = parts[0].value, parts[0].threshold
        else:
            keys = _unique_labels([p.label for p in parts])
            value = {key: p.value for key, p in zip(keys, parts, strict=True)}
            threshold = {key: p.threshold for key, p in zip(keys, parts, strict=True)}
        summary = "; ".join(f"{p.label} {p.value_text} (needs {p.threshold_text})"
                            for p in parts)
        return CriterionFinding(
            id=criterion.id, name=criterion.name, gate=criterion.gate, region=criterion.region,
            status=result.status, value=value, threshold=threshold, summary=summary,
            needs=needs_sentence(result), missing=list(result.missing), parts=parts,
            rationale=criterion.rationale, sources=self._sources(criterion.sources),
        )

    def _gate(self, gate_id: str, run: Run) -> GateFinding:
        gate = self.protocol.gate_by_id[gate_id]
        ids = [c.id for c in self.protocol.criteria_of_gate(gate_id)]
        return GateFinding(
            id=gate_id, name=gate.name,
            from_phase=self.protocol.phase_by_number[gate.number].id,
            to_phase=self.protocol.phase_by_number[gate.number + 1].id,
            passed=run.gates[gate_id], criteria=ids,
            not_passed=[cid for cid in ids if not run.criteria[cid].passed],
        )

    def _red_flag(self, outcome: SafetyOutcome, criteria_phase: int) -> RedFlag:
        rule: SafetyRule = outcome.rule
        from engine.inference import decided_phase

        resulting = decided_phase(self.protocol, criteria_phase, [rule])
        phase = self._phase(resulting)
        if rule.effect.kind == "flare":
            effect = (f"symptom flare: one phase below the criteria phase, at most "
                      f"{phase.id} ({phase.number}); applied once however many flares fire")
        else:
            cap = self.protocol.phase_by_id[rule.effect.cap or "protect"]
            effect = f"phase capped at {cap.id} ({cap.number})"
            if rule.effect.kind == "refer":
                effect = "refer to a physician; " + effect
        matched = [self._part(p) for p in outcome.result.reasons]
        return RedFlag(
            id=rule.id, name=rule.name, message=rule.message, effect=effect,
            because=_because(matched),
            effect_kind=rule.effect.kind,  # type: ignore[arg-type]
            refer=rule.effect.kind == "refer", resulting_phase=phase, matched=matched,
            sources=self._sources(rule.sources),
        )

    def _step(self, index: int, step: Any) -> TraceStep:
        return TraceStep(
            step=index, rule=step.rule, kind=step.kind,
            description=self._describe_rule(step.rule),
            matched=[MatchedFact(fact=fact, slots=slots) for fact, slots in step.matched],
            declared=MatchedFact(fact=step.declared[0], slots=step.declared[1]),
        )

    def _describe_rule(self, rule_id: str) -> str:
        protocol = self.protocol
        if rule_id in protocol.criterion_by_id:
            return protocol.criterion_by_id[rule_id].name
        if rule_id in protocol.gate_by_id:
            return protocol.gate_by_id[rule_id].name
        for rule in protocol.safety_rules:
            if rule.id == rule_id:
                return rule.name
        return {
            "criteria_phase": "the highest phase whose gates are all passed",
            "decide_phase": "safety rules lower the criteria phase; the lowest result wins",
            "activities": "activities of every phase up to the decided one are allowed",
        }[rule_id]


def _because(parts: list[PartFinding]) -> str:
    """``next-morning pain 4 (≥ 3)``; parts on the same measure are merged, context left out."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for part in parts:
        if part.measure == "region":
            continue
        _, thresholds = merged.setdefault(part.label, (part.value_text, []))
        thresholds.append(part.threshold_text)
    return "; ".join(f"{label} {value} ({' and '.join(thresholds)})"
                     for label, (value, thresholds) in merged.items())


def _unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        count = seen.get(label, 0)
        seen[label] = count + 1
        unique.append(label if count == 0 else f"{label} ({count + 1})")
    return unique


def _json(value: Any) -> Any:
    """Plain JSON values: decimals become numbers (already rounded), tuples lists."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Bilateral):
        return {"injured": value.injured, "uninjured": value.uninjured}
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    return value


_EVALUATORS: dict[str, Evaluator] = {}
_EVALUATORS_LOCK = threading.Lock()


def evaluator_for(protocol: Protocol | None = None) -> Evaluator:
    """The process's evaluator of a protocol (built once per protocol content)."""
    protocol = protocol or default_protocol()
    key = protocol.content_hash
    with _EVALUATORS_LOCK:
        evaluator = _EVALUATORS.get(key)
        if evaluator is None:
            evaluator = _EVALUATORS[key] = Evaluator(protocol)
        return evaluator


def decide(document: Any, *, protocol: Protocol | None = None,
           evaluated_at: dt.datetime | None = None) -> Decision:
    """Decide one assessment with the default (or given) protocol."""
    return evaluator_for(protocol).decide(document, evaluated_at=evaluated_at)
