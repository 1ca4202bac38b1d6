"""Forward chaining over the protocol with experta: the only module that imports experta.

**The Python ≥ 3.10 fix.** experta 1.9.4 (its last release) pins frozendict
1.2, whose class statement subclasses ``collections.Mapping``, an alias
removed in Python 3.10. :func:`_import_experta` puts the alias back *only
while experta is imported* and removes it again; frozendict needs it at class
creation and never afterwards. experta also calls ``logging.basicConfig()``
on import, which would make every later ``logging`` call of the host
application print to stderr; the root logger's handlers are restored. This is
the one place the fix lives, so a plain ``pip install sprintclear`` works.

**The rules.** One experta rule per protocol entry, named after its id, so
the fired-rule trace reads like the protocol:

=====================  ===============================================
rule, in firing order  matches → declares
=====================  ===============================================
``C101`` … ``C503``    ``Assessment`` → ``Finding(criterion, status)``
``R1`` … (input)       ``Assessment`` → ``SafetyCheck(rule, outcome)``
``G1`` … ``G5``        the gate's ``Finding``\\ s → ``GateResult``
``criteria_phase``     ``GateResult`` G1…G5 → ``CriteriaPhase``
``decide_phase``       ``CriteriaPhase`` + red-flag checks → ``Phase``
``R5`` … (decided)     ``Phase`` → ``SafetyCheck(rule, outcome)``
``activities``         ``Phase`` → ``Activities``
=====================  ===============================================

Stages are ordered by salience (see :func:`_salience`).

Every rule fires exactly once per assessment and leaves a structured trace
step (the facts it matched, the fact it declared); the clinical evaluation
itself is in ``engine.conditions``. The engine class is built once per
protocol and process; :meth:`Inference.run` resets it per assessment under a
lock (an experta engine holds its working memory and is not thread-safe).
"""

from __future__ import annotations

import bisect
import collections
import collections.abc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import (
    Case,
    CriterionResult,
    PartResult,
    TriggerResult,
    evaluate_criterion,
    evaluate_trigger,
)
from rules.protocol import Criterion, Protocol, SafetyRule


def _import_experta() -> Any:
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    added_alias = not hasattr(collections, "Mapping")
    if added_alias:
        collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
    try:
        import experta
    finally:
        if added_alias:
            del collections.Mapping  # type: ignore[attr-defined]
        for handler in list(root.handlers):
            if handler not in handlers_before:
                root.removeHandler(handler)
    return experta


experta = _import_experta()
Strategy = experta.abstract.Strategy
AS = experta.AS
MATCH = experta.MATCH
Fact = experta.Fact
KnowledgeEngine = experta.KnowledgeEngine
Rule = experta.Rule


class _SalienceOrder(Strategy):  # type: ignore[misc,valid-type]  # experta has no hints
    """The agenda order of experta's DepthStrategy, without its per-activation cache.

    The key is the same: salience, then the newest facts first. DepthStrategy
    memoises the key with ``lru_cache``, which hashes and compares whole
    activations (their facts and bindings) on every insertion; that cost
    about 0.6 ms of each decision (bench/decide.py). Every rule here has its
    own salience, so the key is cheap to compute each time.
    """

    @staticmethod
    def _key(activation: Any) -> tuple[int, list[int]]:
        return (activation.rule.salience,
                sorted((fact["__factid__"] for fact in activation.facts), reverse=True))

    def _update_agenda(self, agenda: Any, added: Any, removed: Any) -> None:
        activations = agenda.activations
        for activation in removed:
            activation.key = self._key(activation)
            index = bisect.bisect_left(activations, activation)
            for offset in (0, 1, -1):
                if 0 <= index + offset < len(activations) and \
                        activations[index + offset] == activation:
                    del activations[index + offset]
                    break
        for activation in added:
            activation.key = self._key(activation)
            bisect.insort(activations, activation)


class Assessment(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """The assessment under decision (its values are read through the run's Case)."""


class Finding(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """A criterion's status: met, unmet, not_assessed or not_applicable."""


class SafetyCheck(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """A safety rule's outcome: triggered, not_triggered or not_checked."""


class GateResult(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """Whether a gate is passed."""


class CriteriaPhase(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """The phase the criteria allow, before safety rules."""


class Phase(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """The decided phase, after safety rules."""


class Activities(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """Allowed and restricted activities of the decided phase."""


_STAGES = ("criterion", "safety_input", "gate", "criteria_phase", "decide_phase",
           "safety_decided", "activities")


def _salience(stage: str, position: int = 0) -> int:
    """Stages in the order of the table above; within a stage, protocol order.

    Every rule gets its own salience so the firing order, and with it the
    trace, is the same in every process (experta breaks ties by hash order).
    """
    return (len(_STAGES) - _STAGES.index(stage)) * 1000 - position


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One fired rule: which, the facts it matched and the fact it declared."""

    rule: str
    kind: str
    matched: tuple[tuple[str, dict[str, Any]], ...]
    declared: tuple[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SafetyOutcome:
    rule: SafetyRule
    result: TriggerResult

    @property
    def outcome(self) -> str:
        return {True: "triggered", False: "not_triggered", None: "not_checked"}[
            self.result.outcome]


@dataclass(slots=True)
class Run:
    """Everything one assessment's inference produced."""

    case: Case
    criteria: dict[str, CriterionResult] = field(default_factory=dict)
    safety: dict[str, SafetyOutcome] = field(default_factory=dict)
    gates: dict[str, bool] = field(default_factory=dict)
    criteria_phase: int | None = None
    phase: int | None = None
    allowed: tuple[str, ...] = ()
    restricted: tuple[str, ...] = ()
    trace: list[TraceStep] = field(default_factory=list)


class Inference:
    """The experta engine of one protocol: built once, reset per assessment."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self._engine = _build_engine_class(protocol)()
        self._lock = threading.Lock()

    def run(self, case: Case) -> Run:
        run = Run(case=case)
        with self._lock:
            engine = self._engine
            engine.current = run
            try:
                engine.reset()
                engine.declare(Assessment(region=case.assessment.region,
                                          profile=case.assessment.profile,
                                          input_sha256=case.assessment.input_sha256))
                engine.run()
            finally:
                engine.current = None
        if run.phase is None:  # pragma: no cover - would be a bug in the rule network
            raise RuntimeError("the rule network did not reach a phase")
        return run


# ---- building the engine class -----------------------------------------------------


def _assessment_slots(parts: tuple[PartResult, ...]) -> dict[str, Any]:
    """The input values the parts read; a value that was not assessed shows as ``None``."""
    slots: dict[str, Any] = {}
    for part in parts:
        slots.update(part.inputs)
        slots.update(dict.fromkeys(part.missing))
    return slots


def _criterion_rule(criterion: Criterion, position: int) -> Any:
    def rhs(engine: Any, assessment: Any) -> None:
        run: Run = engine.current
        result = evaluate_criterion(criterion, run.case)
        run.criteria[criterion.id] = result
        slots = {"criterion": criterion.id, "gate": criterion.gate, "status": result.status}
        engine.declare(Finding(**slots))
        matched = [("Assessment", _assessment_slots(result.parts))]
        if criterion.region != "both":
            matched.append(("Assessment", {"injury.region": run.case.assessment.region}))
        run.trace.append(TraceStep(criterion.id, "criterion", tuple(matched),
                                   ("Finding", slots)))

    rhs.__name__ = criterion.id
    rhs.__doc__ = f"{criterion.id} {criterion.name}"
    return Rule(AS.assessment << Assessment(), salience=_salience("criterion", position))(rhs)


def _record_safety(engine: Any, rule: SafetyRule, extra: tuple[tuple[str, dict[str, Any]], ...]
                   ) -> None:
    run: Run = engine.current
    outcome = SafetyOutcome(rule, evaluate_trigger(rule.trigger, run.case))
    run.safety[rule.id] = outcome
    slots = {"rule": rule.id, "outcome": outcome.outcome, "effect": rule.effect.kind}
    engine.declare(SafetyCheck(**slots))
    matched = (("Assessment", _assessment_slots(outcome.result.parts)), *extra)
    run.trace.append(TraceStep(rule.id, "safety", matched, ("SafetyCheck", slots)))


def _safety_rule(rule: SafetyRule, position: int) -> Any:
    if rule.reads_decided_phase:
        def decided_rhs(engine: Any, assessment: Any, phase: int) -> None:
            run: Run = engine.current
            run.case = _with_phase(run.case, phase)
            _record_safety(engine, rule, (("Phase", {"number": phase}),))

        decided_rhs.__name__ = rule.id
        decided_rhs.__doc__ = f"{rule.id} {rule.name}"
        return Rule(AS.assessment << Assessment(), Phase(number=MATCH.phase),
                    salience=_salience("safety_decided", position))(decided_rhs)

    def input_rhs(engine: Any, assessment: Any) -> None:
        _record_safety(engine, rule, ())

    input_rhs.__name__ = rule.id
    input_rhs.__doc__ = f"{rule.id} {rule.name}"
    return Rule(AS.assessment << Assessment(),
                salience=_salience("safety_input", position))(input_rhs)


def _with_phase(case: Case, phase: int) -> Case:
    if case.decided_phase == phase:
        return case
    return Case(case.assessment, case.protocol, case.exercise_pain_limit,
                case.sprint_day_floor, phase)


def _gate_rule(protocol: Protocol, gate_id: str, position: int) -> Any:
    criterion_ids = tuple(c.id for c in protocol.criteria_of_gate(gate_id))

    def rhs(engine: Any, assessment: Any) -> None:
        run: Run = engine.current
        findings = [fact for fact in engine.facts.values()
                    if isinstance(fact, Finding) and fact["gate"] == gate_id]
        statuses = {fact["criterion"]: fact["status"] for fact in findings}
        if set(statuses) != set(criterion_ids):  # pragma: no cover - salience guarantees it
            raise RuntimeError(f"{gate_id} fired before all its criteria were decided")
        passed = all(statuses[cid] in ("met", "not_applicable") for cid in criterion_ids)
        run.gates[gate_id] = passed
        slots = {"gate": gate_id, "passed": passed}
        engine.declare(GateResult(**slots))
        matched = tuple(("Finding", {"criterion": cid, "status": statuses[cid]})
                        for cid in criterion_ids)
        run.trace.append(TraceStep(gate_id, "gate", matched, ("GateResult", slots)))

    rhs.__name__ = gate_id
    rhs.__doc__ = f"{gate_id} {protocol.gate_by_id[gate_id].name}"
    return Rule(AS.assessment << Assessment(), salience=_salience("gate", position))(rhs)


def _criteria_phase_rule(protocol: Protocol) -> Any:
    gate_ids = tuple(gate.id for gate in protocol.gates)

    def rhs(engine: Any, **passed_by_gate: bool) -> None:
        run: Run = engine.current
        number = 1
        for gate_id in gate_ids:
            if not passed_by_gate[gate_id]:
                break
            number += 1
        run.criteria_phase = number
        slots = {"number": number, "id": protocol.phase_by_number[number].id}
        engine.declare(CriteriaPhase(**slots))
        matched = tuple(("GateResult", {"gate": g, "passed": passed_by_gate[g]})
                        for g in gate_ids)
        run.trace.append(TraceStep("criteria_phase", "phase", matched, ("CriteriaPhase", slots)))

    rhs.__name__ = "criteria_phase"
    rhs.__doc__ = "the highest phase whose gates are all passed (gates are cumulative)"
    patterns = [GateResult(gate=gate_id, passed=getattr(MATCH, gate_id)) for gate_id in gate_ids]
    return Rule(*patterns, salience=_salience("criteria_phase"))(rhs)


def _decide_phase_rule(protocol: Protocol) -> Any:
    def rhs(engine: Any, criteria_phase: int) -> None:
        run: Run = engine.current
        triggered = [fact for fact in engine.facts.values()
                     if isinstance(fact, SafetyCheck) and fact["outcome"] == "triggered"
                     and fact["effect"] != "caution"]
        phase = decided_phase(protocol, criteria_phase,
                              [run.safety[fact["rule"]].rule for fact in triggered])
        run.phase = phase
        slots = {"number": phase, "id": protocol.phase_by_number[phase].id}
        engine.declare(Phase(**slots))
        matched = (("CriteriaPhase", {"number": criteria_phase}), *(
            ("SafetyCheck", {"rule": f["rule"], "outcome": "triggered", "effect": f["effect"]})
            for f in sorted(triggered, key=lambda f: _rule_order(f["rule"]))))
        run.trace.append(TraceStep("decide_phase", "phase", matched, ("Phase", slots)))

    rhs.__name__ = "decide_phase"
    rhs.__doc__ = "safety rules lower the criteria phase: lowest result wins, one flare step"
    return Rule(CriteriaPhase(number=MATCH.criteria_phase),
                salience=_salience("decide_phase"))(rhs)


def _rule_order(rule_id: str) -> int:
    return int(rule_id[1:])


def decided_phase(protocol: Protocol, criteria_phase: int, red_flags: list[SafetyRule]) -> int:
    """Protocol section 4: every red flag gives a resulting phase and the lowest wins.

    A cap (refer or cap) gives its phase; a flare gives max(protect,
    criteria phase − 1), applied once however many flare triggers fire.
    """
    results = [criteria_phase]
    lowest = protocol.phases[0].number
    for rule in red_flags:
        if rule.effect.kind in ("refer", "cap"):
            assert rule.effect.cap is not None
            results.append(min(criteria_phase, protocol.phase_by_id[rule.effect.cap].number))
        elif rule.effect.kind == "flare":
            results.append(max(lowest, criteria_phase - 1))
    return min(results)


def _activities_rule(protocol: Protocol) -> Any:
    def rhs(engine: Any, phase: int) -> None:
        run: Run = engine.current
        allowed, restricted = protocol.activities_at(phase)
        run.allowed, run.restricted = allowed, restricted
        slots = {"allowed": len(allowed), "restricted": len(restricted)}
        engine.declare(Activities(**slots))
        run.trace.append(TraceStep("activities", "activities", (("Phase", {"number": phase}),),
                                   ("Activities", {"allowed": list(allowed),
                                                   "restricted": list(restricted)})))

    rhs.__name__ = "activities"
    rhs.__doc__ = "activities of every phase up to the decided one are allowed"
    return Rule(Phase(number=MATCH.phase), salience=_salience("activities"))(rhs)


def _build_engine_class(protocol: Protocol) -> type:
    rules: dict[str, Callable[..., Any]] = {}
    for position, criterion in enumerate(protocol.criteria):
        rules[criterion.id] = _criterion_rule(criterion, position)
    for position, rule in enumerate(protocol.safety_rules):
        rules[rule.id] = _safety_rule(rule, position)
    for position, gate in enumerate(protocol.gates):
        rules[gate.id] = _gate_rule(protocol, gate.id, position)
    rules["criteria_phase"] = _criteria_phase_rule(protocol)
    rules["decide_phase"] = _decide_phase_rule(protocol)
    rules["activities"] = _activities_rule(protocol)
    namespace: dict[str, Any] = {"__doc__": f"Rule network of protocol {protocol.id}",
                                 "__strategy__": _SalienceOrder, "current": None, **rules}
    return type("ProtocolEngine", (KnowledgeEngine,), namespace)
