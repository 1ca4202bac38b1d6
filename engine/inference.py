"""Forward chaining over the protocol with experta: the only module that imports experta.

**The Python ≥ 3.10 fix.** experta 1.9.4 (its last release) pins frozendict
1.2, whose class statement subclasses ``collections.Mapping``, an alias
removed in Python 3.10. :func:`_import_experta` puts the alias back *only
while experta is imported* and removes it again; frozendict needs it at class
creation and never afterwards. experta also calls ``logging.basicConfig()``
on import, which would make every later ``logging`` call of the host
application print to stderr; the root logger's handlers are restored. This is
the one place the fix lives, so a plain ``pip install sprintclear`` works.

**The rules.** Criteria and triggers are data, evaluated over the
assessment's measures (``engine.conditions``); gates, red flags, holds,
cautions, the phase and the plan are experta rules named after the protocol's
ids, so the fired-rule trace reads like the protocol. A rule fires only when
its pattern holds, so an assessment fires about ten rules:

========================  ==================================================  ==========
rule, in agenda order     matches → declares                                  fires
========================  ==================================================  ==========
``criteria``              ``Case`` → ``Gates`` (every criterion evaluated;     always
                          carried forward below the signed phase, §2.1)
``criteria_phase_<id>``   ``Gates`` G1…G(k−1) passed, Gk not → ``CriteriaPhase``  one of six
``screen``                ``Case`` → ``Signals`` (red-flag, R5 and caution     always
                          triggers; the first phase a missing screen holds)
``R1`` … (red flags)      ``Signals`` trigger true → ``Cap``                   when true
``R5`` (hold)             ``Signals`` play floor not reached → ``Cap``          when true
``R6`` (hold)             ``Case`` signed phase → ``Cap``                       always
``R13`` (hold)            ``Signals`` + ``CriteriaPhase`` screen missing        when it holds
                          at or below the criteria phase → ``Cap``
``decide_phase``          ``CriteriaPhase`` + every ``Cap`` → ``Phase``        always
``R7`` … (cautions)       ``Signals`` trigger true → ``CautionRaised``          when true
``R5``, ``R9`` (cautions  ``Phase`` → ``CautionRaised`` when the trigger,       always
reading the phase)        which reads the decided phase, is true
``plan``                  ``Phase`` → ``Plan`` (activities, velocity ceiling,   always
                          volume, re-assessment date, surveillance)
========================  ==================================================  ==========

**Speed (issue 11).** experta still matches and orders every rule; four
subclasses here, none changing what fires or in which order, take the
bookkeeping it does for nothing out of each assessment: the matcher enters a
fact only into the branches of its class and polls only the conflict sets
it reached (:class:`_TypedReteMatcher`); alpha tokens skip re-checking their
parts (:class:`_LeanToken`); facts of scalar slots are made without a
per-slot dispatch (:class:`_SlotFact`); the engine resets without
introspecting its class and formats a fired rule's log line only when it is
watched (:class:`_LeanEngine`). ``bench/decide.py`` reports inference alone.

Stages are ordered by salience (see :func:`_salience`). Every firing leaves a
structured trace step (the facts it matched, the fact it declared). The
engine class is built once per protocol and process; :meth:`Inference.run`
resets it per assessment under a lock (an experta engine holds its working
memory and is not thread-safe).

Sources: protocol.md sections 2 (phases, criteria phase), 2.1 (carried
forward), 4 (red flags, holds, cautions; the flare reference; listing),
4.3 (screening) and 6 (activities, the plan).
"""

from __future__ import annotations

import bisect
import collections
import collections.abc
import datetime as dt
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.conditions import (
    Case,
    CriterionResult,
    PartResult,
    TriggerResult,
    evaluate_criterion,
    evaluate_trigger,
    floor_date,
    measure_value,
)
from engine.measures import to_decimal
from rules.protocol import Caution, Hold, Protocol, RedFlag


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
TEST = experta.TEST
Fact = experta.Fact
KnowledgeEngine = experta.KnowledgeEngine
Rule = experta.Rule
_rete = importlib.import_module("experta.matchers.rete")
_TypeCheck = importlib.import_module("experta.matchers.rete.check").TypeCheck
_ConflictSetNode = importlib.import_module("experta.matchers.rete.nodes").ConflictSetNode
_Token = importlib.import_module("experta.matchers.rete.token").Token
_NoMemory = importlib.import_module("experta.matchers.rete.mixins").NoMemory
_Agenda = experta.agenda.Agenda
_FactList = experta.factlist.FactList
_ConditionalElement = experta.fact.ConditionalElement
_watchers = experta.watchers


class _LeanToken(_Token):  # type: ignore[misc,valid-type]
    """experta's token, made and copied without re-checking its parts.

    ``Token.__new__`` asserts, on every copy, that the tag is a tag, every datum
    a ``Fact`` and the context a mapping. The matcher below makes the first
    token of each fact from a declared ``Fact`` (experta's ``FactList`` refuses
    anything else), and a copy has the parts of a checked token, so the checks
    cannot fail; everything else (fields, ``copy`` giving new containers, the
    class of the copies) is experta's.
    """

    __slots__ = ()

    def __new__(cls, tag: Any, data: Any, context: Any = None) -> Any:
        return tuple.__new__(cls, (tag, {data} if isinstance(data, Fact) else set(data),
                                   {} if context is None else context))

    def copy(self) -> Any:
        return tuple.__new__(type(self), (self[0], self[1].copy(), self[2].copy()))


class _TypedReteMatcher(_rete.ReteMatcher):  # type: ignore[misc,name-defined]
    """experta's Rete network, entered by the fact's class, polling only what it reached.

    experta's matcher sends every fact to every type test under the root node
    (each copying the token), resets every node through every path, and after
    each change asks every rule's conflict-set node for its new activations.
    This subclass builds the very same network (experta's own nodes and
    checks) and then, per fact class, remembers the root's children that test
    for that class and the conflict-set nodes below them: a fact enters only
    the branches of its class, and only the conflict sets it can reach are
    polled. A branch of another class would have rejected the fact at its
    type test, and an unreached conflict set has nothing new, so the
    activations, their order of arrival per node and every side effect of a
    ``TEST`` are what experta's matcher gives.
    """

    def build_network(self) -> None:
        super().build_network()
        children = tuple(self.root_node.children)
        untyped = tuple(c for c in children if not isinstance(
            getattr(c.node, "matcher", None), _TypeCheck))
        # a fact of a class no rule matches only enters the branches that test no class
        self._untyped = (untyped, self._conflict_sets(untyped))
        self._by_type: dict[type, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        for child in children:
            check = getattr(child.node, "matcher", None)
            if isinstance(check, _TypeCheck):
                branch = tuple(c for c in children if c is child or c in untyped or (
                    getattr(c.node, "matcher", None) == check))
                self._by_type[check.fact_type] = (branch, self._conflict_sets(branch))
        self._memories = tuple(node for node in self._nodes(children)
                               if not isinstance(node, _NoMemory))

    @staticmethod
    def _nodes(children: tuple[Any, ...]) -> list[Any]:
        """Every node below ``children``, once each, depth first in child order."""
        seen: set[int] = set()
        found: list[Any] = []
        stack = [child.node for child in reversed(children)]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            found.append(node)
            stack.extend(child.node for child in reversed(node.children))
        return found

    def _conflict_sets(self, children: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(node for node in self._nodes(children)
                     if isinstance(node, _ConflictSetNode))

    def _branch(self, fact: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return self._by_type.get(type(fact), self._untyped)

    def changes(self, adding: Any = None, deleting: Any = None) -> tuple[list[Any], list[Any]]:
        reached: dict[int, Any] = {}
        for facts, make in ((deleting, _LeanToken.invalid), (adding, _LeanToken.valid)):
            for fact in facts or ():
                children, conflict_sets = self._branch(fact)
                token = make(fact)
                for child in children:
                    child.callback(token)
                for node in conflict_sets:
                    reached[id(node)] = node
        added: list[Any] = []
        removed: list[Any] = []
        for node in reached.values():
            node_added, node_removed = node.get_activations()
            added.extend(node_added)
            removed.extend(node_removed)
        return added, removed

    def reset(self) -> None:
        for node in self._memories:
            node._reset()


class _LeanFactList(_FactList):  # type: ignore[misc,valid-type]
    """experta's fact list, naming a fact of named slots (:class:`_SlotFact`) without a
    method call per slot.

    ``FactList.declare`` identifies a fact by its class and its slots other than
    experta's special ``__x__`` keys (a fact equal to one declared is not declared
    again), asking ``Fact.is_special`` of every key. This does the same for a
    :class:`_SlotFact`, testing the keys inline; every other fact goes through
    experta's ``declare``. The fact id, the duplicate check, the numbering and
    the ``added`` list are experta's.
    """

    def declare(self, fact: Any) -> Any:
        if not isinstance(fact, _SlotFact):
            return super().declare(fact)
        fact.validate()
        fact_id = frozenset([fact.__class__] + [
            (key, value) for key, value in fact.items()
            if not (isinstance(key, str) and key.startswith("__") and key.endswith("__"))])
        if self.duplication or fact_id not in self.reference_counter:
            idx = self.last_index
            fact.__factid__ = idx
            self[idx] = fact
            self.last_index += 1
            self.added.append(fact)
            self.reference_counter[fact_id] += 1
            _watchers.FACTS.info(" ==> %s: %r", fact, fact)
            return fact
        return None


class _LeanEngine(KnowledgeEngine):  # type: ignore[misc,valid-type]
    """experta's engine with the typed matcher, a reset without introspection, and a run
    loop that formats its log line only when the ``RULES`` watcher would print it.

    ``reset`` does what experta's does for an engine whose only deffacts is the
    ``InitialFact`` (checked when the class is built): a new agenda and fact
    list, the matcher's memories wiped, ``InitialFact`` declared.
    """

    __matcher__ = _TypedReteMatcher

    def reset(self, **kwargs: Any) -> None:
        self.agenda = _Agenda()
        self.facts = _LeanFactList()
        self.matcher.reset()
        self.running = False
        self._KnowledgeEngine__declare(experta.InitialFact())

    def run(self, steps: float = float("inf")) -> None:
        self.running = True
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            activation = self.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            if _watchers.worth("RULES", "INFO"):  # pragma: no cover - debugging aid
                _watchers.RULES.info("FIRE %s: %s", activation.rule.__name__,
                                     ", ".join(str(f) for f in activation.facts))
            activation.rule(self, **{k: v for k, v in activation.context.items()
                                     if not k.startswith("__")})
        self.running = False


class _SalienceOrder(Strategy):  # type: ignore[misc,valid-type]  # experta has no hints
    """The agenda order of experta's DepthStrategy, without its per-activation cache.

    The key is the same: salience, then the newest facts first. DepthStrategy
    memoises the key with ``lru_cache``, which hashes and compares whole
    activations (their facts and bindings) on every insertion. Every rule here
    has its own salience, so the key is cheap to compute each time.
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


_SCALARS = frozenset({str, int, float, bool, type(None)})
_freeze = experta.utils.freeze


class _SlotFact(Fact):  # type: ignore[misc,valid-type]  # experta ships no type hints
    """A fact of named slots, made as experta's ``Fact(**slots)`` makes it, faster.

    ``Fact.__init__`` stores each slot through ``__setitem__``, which checks the
    fact is not declared yet and freezes the value through a single-dispatch
    function. A new fact is never declared, and a scalar freezes to itself, so
    scalars are stored directly and anything else through experta's ``freeze``.
    """

    def __init__(self, **slots: Any) -> None:
        dict.update(self, {key: value if type(value) in _SCALARS else _freeze(value)
                           for key, value in slots.items()})
        self._Fact__defaults: dict[Any, Any] = {}

    def has_field_constraints(self) -> bool:
        """experta's check that no slot is a pattern (``Fact.has_field_constraints``),
        skipping scalars, which never are."""
        return any(type(value) not in _SCALARS and isinstance(value, _ConditionalElement)
                   for value in self.values())

    def has_nested_accessor(self) -> bool:
        """experta's check that no key holds ``__`` (``Fact.has_nested_accessor``); slot
        keys are strings, whose ``str`` is themselves (``strip("__")`` strips ``_``)."""
        return any("__" in (key if type(key) is str else str(key)).strip("_")
                   for key in self.keys())


class CaseFact(_SlotFact):
    """The case under decision: region, profile, the signed phase (0: none) and its day."""


class Gates(_SlotFact):
    """Whether each gate G1…G5 is passed (criteria met, not applicable or carried forward)."""


class CriteriaPhase(_SlotFact):
    """The phase the criteria allow, before red flags and holds."""


class Signals(_SlotFact):
    """Trigger outcomes of red flags, the R5 hold and cautions; the screening gap."""


class Cap(_SlotFact):
    """A red flag or a hold caps the phase."""


class Phase(_SlotFact):
    """The decided phase, after red flags and holds."""


class CautionRaised(_SlotFact):
    """A caution is raised; it changes nothing."""


class PlanFact(_SlotFact):
    """The plan of the decided phase."""


_STAGES = ("criteria", "criteria_phase", "screen", "red_flag", "hold", "decide_phase",
           "caution", "plan")


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
class CapResult:
    """A red flag or hold that caps the phase at ``cap`` (a phase number)."""

    rule_id: str
    kind: str
    """``red_flag`` or ``hold``."""
    cap: int
    ends: str
    until: dt.date | None = None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """A trigger's outcome for one red flag, hold or caution."""

    rule: RedFlag | Hold | Caution
    result: TriggerResult

    @property
    def outcome(self) -> str:
        return {True: "triggered", False: "not_triggered", None: "not_checked"}[
            self.result.outcome]


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Section 6: the running plan of the decided phase."""

    max_velocity_pct: Decimal
    basis: str
    """``phase`` (the phase's ceiling), ``measured`` or ``self_rated`` (the speed lowered it)."""
    pain_free_speed_pct: Decimal | None
    pain_free_speed_basis: str | None
    max_velocity_mps: Decimal | None
    volume_advice: str | None
    """``hold`` (R14), ``increase_gradually``, or ``None`` (below the volume phase, or no
    figures for the last 7 days)."""
    volume_figures: tuple[tuple[str, Any], ...]
    volume_targets: tuple[tuple[str, Any], ...]
    reassess_by: dt.date
    retests: tuple[dt.date, ...]


@dataclass(slots=True)
class Run:
    """Everything one assessment's inference produced."""

    case: Case
    criteria: dict[str, CriterionResult] = field(default_factory=dict)
    gates: dict[str, bool] = field(default_factory=dict)
    carried_forward: tuple[str, ...] = ()
    criteria_phase: int | None = None
    red_flags: dict[str, RuleOutcome] = field(default_factory=dict)
    """Every red flag's trigger outcome (triggered, not triggered, not checked)."""
    hold_triggers: dict[str, RuleOutcome] = field(default_factory=dict)
    screening_missing: tuple[tuple[str, int], ...] = ()
    """Every screening field of the region not recorded, with the phase that needs it."""
    caps: list[CapResult] = field(default_factory=list)
    phase: int | None = None
    cautions: dict[str, RuleOutcome] = field(default_factory=dict)
    """Every caution whose trigger is true."""
    plan: PlanResult | None = None
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
        previous = case.previous_phase
        with self._lock:
            engine = self._engine
            engine.current = engine.context.run = run
            try:
                engine.reset()
                engine.declare(CaseFact(region=case.assessment.region,
                                        profile=case.assessment.profile,
                                        previous=previous or 0,
                                        same_day=previous is not None and case.previous_same_day,
                                        input_sha256=case.assessment.input_sha256))
                engine.run()
            finally:
                engine.current = engine.context.run = None
        if run.phase is None or run.plan is None:  # pragma: no cover - a bug in the network
            raise RuntimeError("the rule network did not reach a phase and a plan")
        return run


# ---- the rules ---------------------------------------------------------------------


def _evidence(parts: tuple[PartResult, ...]) -> dict[str, Any]:
    """The input values the parts read; a value that was not assessed shows as ``None``."""
    slots: dict[str, Any] = {}
    for part in parts:
        slots.update(part.inputs)
        slots.update(dict.fromkeys(part.missing))
    return slots


def _criteria_rule(protocol: Protocol) -> Any:
    gate_ids = tuple(gate.id for gate in protocol.gates)
    criteria_by_gate = {gate_id: protocol.criteria_of_gate(gate_id) for gate_id in gate_ids}
    carries = {gate.id: gate.carries_forward for gate in protocol.gates}

    def rhs(engine: Any, case_fact: Any) -> None:
        """Section 3 and 2.1: every criterion as data; not assessed below the signed
        phase counts as carried forward; a gate passes when all its criteria pass."""
        run: Run = engine.current
        case = run.case
        previous = case_fact["previous"]
        carried: list[str] = []
        gates: dict[str, bool] = {}
        for gate_id, criteria in criteria_by_gate.items():
            below_signed = carries[gate_id] and int(gate_id[1]) < previous
            passed = True
            for criterion in criteria:
                result = evaluate_criterion(criterion, case)
                if below_signed and result.status == "not_assessed":
                    result = result.carried_forward()
                    carried.append(criterion.id)
                run.criteria[criterion.id] = result
                passed = passed and result.passed
            gates[gate_id] = passed
        run.gates = gates
        run.carried_forward = tuple(carried)
        engine.declare(Gates(**gates))
        matched = [("Case", {"input_sha256": case_fact["input_sha256"],
                             "region": case_fact["region"], "previous": previous})]
        declared = {**gates, "carried_forward": list(carried)}
        run.trace.append(TraceStep("criteria", "criteria", tuple(matched), ("Gates", declared)))

    rhs.__name__ = "criteria"
    return Rule(AS.case_fact << CaseFact(), salience=_salience("criteria"))(rhs)


def _criteria_phase_rule(protocol: Protocol) -> Any:
    gate_ids = tuple(gate.id for gate in protocol.gates)

    def rhs(engine: Any, **passed: bool) -> None:
        """Section 2: the highest phase k such that every gate G1…G(k−1) is passed (gates
        are cumulative)."""
        run: Run = engine.current
        number = 1
        for gate_id in gate_ids:
            if not passed[gate_id]:
                break
            number += 1
        run.criteria_phase = number
        slots = {"number": number, "id": protocol.phase_by_number[number].id}
        engine.declare(CriteriaPhase(**slots))
        run.trace.append(TraceStep("criteria_phase", "phase",
                                   (("Gates", {g: passed[g] for g in gate_ids}),),
                                   ("CriteriaPhase", slots)))

    rhs.__name__ = "criteria_phase"
    return Rule(Gates(**{gate_id: getattr(MATCH, gate_id) for gate_id in gate_ids}),
                salience=_salience("criteria_phase"))(rhs)


def _screen_rule(protocol: Protocol) -> Any:
    phase_numbers = {p.id: p.number for p in protocol.phases}
    input_cautions = [c for c in protocol.cautions if not c.reads_decided_phase]
    triggered_holds = [h for h in protocol.holds if h.trigger is not None]

    def rhs(engine: Any, criteria_phase: int) -> None:
        """Section 4: every trigger that does not read the decided phase, and 4.3: which
        screening fields of the region are not recorded."""
        run: Run = engine.current
        case = run.case
        previous = case.previous_phase
        slots: dict[str, Any] = {"criteria_phase": criteria_phase, "previous": previous or 0,
                                 "same_day": previous is not None and case.previous_same_day}
        for flag in protocol.red_flags:
            outcome = RuleOutcome(flag, evaluate_trigger(flag.trigger, case))
            run.red_flags[flag.id] = outcome
            slots[f"flag_{flag.id}"] = outcome.result.outcome
        for hold in triggered_holds:
            assert hold.trigger is not None
            outcome = RuleOutcome(hold, evaluate_trigger(hold.trigger, case))
            run.hold_triggers[hold.id] = outcome
            slots[f"hold_{hold.id}"] = outcome.result.outcome
        for caution in input_cautions:
            result = evaluate_trigger(caution.trigger, case)
            if result.outcome:
                run.cautions[caution.id] = RuleOutcome(caution, result)
            slots[f"caution_{caution.id}"] = result.outcome
        values = case.assessment.values
        region = case.assessment.region
        missing = tuple((item.field, phase_numbers[item.from_phase])
                        for item in protocol.screening
                        if item.region in ("both", region) and values.get(item.field) is None)
        run.screening_missing = missing
        slots["screening_first"] = min((number for _, number in missing), default=0)
        engine.declare(Signals(**slots))
        run.trace.append(TraceStep(
            "screen", "screen",
            (("CriteriaPhase", {"number": criteria_phase}),
             ("Case", {"region": region, "previous": previous or 0})),
            ("Signals", {**slots, "screening_missing": [f for f, _ in missing]})))

    rhs.__name__ = "screen"
    return Rule(CriteriaPhase(number=MATCH.criteria_phase), salience=_salience("screen"))(rhs)


def _red_flag_rule(protocol: Protocol, flag: RedFlag, position: int) -> Any:
    lowest = protocol.phases[0].number
    fixed_cap = protocol.phase_by_id[flag.effect.cap].number if flag.effect.cap else None

    def rhs(engine: Any, criteria_phase: int, previous: int) -> None:
        """Section 4.1: a cap holds while the sign is present; a flare steps back one
        phase from the lower of the criteria phase and the signed phase."""
        run: Run = engine.current
        if flag.effect.kind == "flare":
            reference = min(criteria_phase, previous) if previous else criteria_phase
            cap = max(lowest, reference - 1)
            matched_case: dict[str, Any] = {"previous": previous}
        else:
            assert fixed_cap is not None
            cap = fixed_cap
            matched_case = {}
        run.caps.append(CapResult(flag.id, "red_flag", cap, flag.ends))
        slots = {"rule": flag.id, "cap": cap, "phase": protocol.phase_by_number[cap].id}
        engine.declare(Cap(**slots))
        outcome = run.red_flags[flag.id]
        matched: list[tuple[str, dict[str, Any]]] = [
            ("Signals", {f"flag_{flag.id}": True, **_evidence(outcome.result.reasons)}),
            ("CriteriaPhase", {"number": criteria_phase})]
        if matched_case:
            matched.append(("Case", matched_case))
        run.trace.append(TraceStep(flag.id, "red_flag", tuple(matched), ("Cap", slots)))

    rhs.__name__ = flag.id
    rhs.__doc__ = f"{flag.id} {flag.name}"
    return Rule(Signals(**{f"flag_{flag.id}": True}, criteria_phase=MATCH.criteria_phase,
                        previous=MATCH.previous),
                salience=_salience("red_flag", position))(rhs)


def _hold_rule(protocol: Protocol, hold: Hold, position: int) -> Any:
    effect = hold.effect
    phase_id = {p.number: p.id for p in protocol.phases}
    salience = _salience("hold", position)

    def record(engine: Any, cap: int, ends: str, matched: list[tuple[str, dict[str, Any]]],
               until: dt.date | None = None, missing: tuple[str, ...] = ()) -> None:
        run: Run = engine.current
        run.caps.append(CapResult(hold.id, "hold", cap, ends, until, missing))
        slots: dict[str, Any] = {"rule": hold.id, "cap": cap, "phase": phase_id[cap]}
        if until is not None:
            slots["until"] = until.isoformat()
        if missing:
            slots["missing"] = list(missing)
        engine.declare(Cap(**slots))
        run.trace.append(TraceStep(hold.id, "hold", tuple(matched), ("Cap", slots)))

    if effect.kind == "cap":
        assert effect.cap is not None
        cap_number = protocol.phase_by_id[effect.cap].number

        def cap_rhs(engine: Any) -> None:
            """Section 4.2: a fixed cap while the trigger holds (R5: before the play floor)."""
            run: Run = engine.current
            outcome = run.hold_triggers[hold.id]
            until = None
            if effect.until_days is not None:
                days = (run.case.floors.sprint if effect.until_days.case == "sprint_day_floor"
                        else run.case.floors.play)
                until = floor_date(run.case, days)
            ends = hold.ends.format(until=until.isoformat() if until else "")
            record(engine, cap_number, ends,
                   [("Signals", {f"hold_{hold.id}": True, **_evidence(outcome.result.reasons)})],
                   until=until)

        cap_rhs.__name__ = hold.id
        return Rule(Signals(**{f"hold_{hold.id}": True}), salience=salience)(cap_rhs)

    if effect.kind == "signed_step":
        assert effect.unsigned_cap is not None
        unsigned = protocol.phase_by_id[effect.unsigned_cap].number
        top = protocol.phases[-1].number

        def step_rhs(engine: Any, previous: int, same_day: bool) -> None:
            """R6: at most ``steps`` above the signed phase (``same_day_steps`` when it was
            signed the same day); without a signed phase, at most ``unsigned_cap``."""
            if not previous:
                cap, ends = unsigned, hold.ends
            elif same_day:
                cap, ends = min(top, previous + effect.same_day_steps), \
                    hold.ends_same_day or hold.ends
            else:
                cap, ends = min(top, previous + effect.steps), hold.ends
            record(engine, cap, ends, [("Case", {"previous": previous, "same_day": same_day})])

        step_rhs.__name__ = hold.id
        return Rule(Signals(previous=MATCH.previous, same_day=MATCH.same_day),
                    salience=salience)(step_rhs)

    def screening_rhs(engine: Any, first: int, criteria_phase: int) -> None:
        """R13 (section 4.3): the phase stays below the first phase that needs a screening
        field not recorded; the hold lists the fields that hold it there or above."""
        run: Run = engine.current
        missing = tuple(path for path, needed in run.screening_missing
                        if needed <= criteria_phase)
        ends = hold.ends.format(missing=", ".join(missing))
        record(engine, first - 1, ends,
               [("Signals", {"screening_first": first, **dict.fromkeys(missing)}),
                ("CriteriaPhase", {"number": criteria_phase})], missing=missing)

    screening_rhs.__name__ = hold.id
    return Rule(Signals(screening_first=MATCH.first, criteria_phase=MATCH.criteria_phase),
                TEST(lambda first, criteria_phase: 0 < first <= criteria_phase),
                salience=salience)(screening_rhs)


def _decide_phase_rule(protocol: Protocol) -> Any:
    def rhs(engine: Any, criteria_phase: int) -> None:
        """Section 4: the decided phase is the lowest of the criteria phase and every cap
        (a flare counts once however many flare triggers fire)."""
        run: Run = engine.current
        phase = min([criteria_phase, *(cap.cap for cap in run.caps)])
        run.phase = phase
        slots = {"number": phase, "id": protocol.phase_by_number[phase].id}
        engine.declare(Phase(**slots))
        matched: tuple[tuple[str, dict[str, Any]], ...] = (
            ("Signals", {"criteria_phase": criteria_phase}),
            *(("Cap", {"rule": cap.rule_id, "cap": cap.cap}) for cap in run.caps))
        run.trace.append(TraceStep("decide_phase", "phase", matched, ("Phase", slots)))

    rhs.__name__ = "decide_phase"
    return Rule(Signals(criteria_phase=MATCH.criteria_phase),
                salience=_salience("decide_phase"))(rhs)


class _Context:
    """The run under way, for the conditions of a rule's left-hand side (TEST) that read
    the protocol's data; set by :meth:`Inference.run` under its lock."""

    run: Run | None = None


def _caution_rule(protocol: Protocol, caution: Caution, position: int,
                  context: _Context) -> Any:
    salience = _salience("caution", position)
    if caution.reads_decided_phase:
        def fires(phase: int) -> bool:
            assert context.run is not None
            result = evaluate_trigger(caution.trigger, context.run.case.with_phase(phase))
            if result.outcome:
                context.run.cautions[caution.id] = RuleOutcome(caution, result)
            return bool(result.outcome)

        def decided_rhs(engine: Any, phase: int) -> None:
            """A caution whose trigger reads the decided phase (R5: early for the grade;
            R9: the return-to-play risk window); it fires only when its trigger holds."""
            run: Run = engine.current
            result = run.cautions[caution.id].result
            slots = {"rule": caution.id}
            engine.declare(CautionRaised(**slots))
            evidence = _evidence(result.reasons)
            matched: tuple[tuple[str, dict[str, Any]], ...] = (("Phase", {"number": phase}),)
            if evidence:
                matched += (("Case", evidence),)
            run.trace.append(TraceStep(caution.id, "caution", matched,
                                       ("CautionRaised", slots)))

        decided_rhs.__name__ = caution.id
        return Rule(Phase(number=MATCH.phase), TEST(fires), salience=salience)(decided_rhs)

    def input_rhs(engine: Any) -> None:
        run: Run = engine.current
        outcome = run.cautions[caution.id]
        slots = {"rule": caution.id}
        engine.declare(CautionRaised(**slots))
        run.trace.append(TraceStep(
            caution.id, "caution",
            (("Signals", {f"caution_{caution.id}": True,
                          **_evidence(outcome.result.reasons)}),),
            ("CautionRaised", slots)))

    input_rhs.__name__ = caution.id
    return Rule(Signals(**{f"caution_{caution.id}": True}), salience=salience)(input_rhs)


_ONE_DECIMAL = Decimal("0.1")


def compute_plan(protocol: Protocol, case: Case, phase: int, red_flag_fired: bool,
                 volume_held: bool) -> PlanResult:
    """Section 6, the plan: the running ceiling of the phase, lowered to the max pain-free
    speed when that is lower (with its basis); in m/s when the pre-injury max velocity is
    known (one decimal, half up); the volume advice at ``volume_from_phase`` and above when
    the last 7 days' figures are given; the re-assessment date; the surveillance dates."""
    plan = protocol.plan
    phase_id = protocol.phase_by_number[phase].id
    ceiling = Decimal(plan.velocity_ceiling_pct[phase_id])
    speed, _, _, speed_basis = measure_value(plan.running_speed, case)
    basis = "phase"
    if speed is not None and speed < ceiling:
        ceiling, basis = speed, speed_basis or "measured"
    ceiling = ceiling.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)
    values = case.assessment.values
    reference = values.get(plan.pre_injury_velocity)
    mps = None
    if reference is not None:
        mps = (ceiling * to_decimal(reference) / 100).quantize(_ONE_DECIMAL,
                                                               rounding=ROUND_HALF_UP)
    figures = tuple((path, values.get(path)) for path in plan.volume_last_7_days
                    if values.get(path) is not None)
    targets = tuple((path, values.get(path)) for path in plan.volume_targets
                    if values.get(path) is not None)
    advice = None
    if phase >= protocol.phase_by_id[plan.volume_from_phase].number and figures:
        advice = "hold" if volume_held else "increase_gradually"
    date = case.assessment.assessment_date
    retests = tuple(date + dt.timedelta(weeks=weeks) for weeks in protocol.surveillance.weeks)
    play = protocol.phases[-1].number
    if red_flag_fired:
        reassess = date + dt.timedelta(days=plan.red_flag_reassess_days)
    elif phase == play:
        reassess = retests[0]
    else:
        reassess = date + dt.timedelta(days=plan.reassess_days[phase_id])
    return PlanResult(
        max_velocity_pct=ceiling, basis=basis,
        pain_free_speed_pct=speed, pain_free_speed_basis=speed_basis if speed is not None
        else None,
        max_velocity_mps=mps, volume_advice=advice, volume_figures=figures,
        volume_targets=targets, reassess_by=reassess,
        retests=retests if phase == play else ())


def _plan_rule(protocol: Protocol) -> Any:
    hold_cautions = frozenset(protocol.plan.volume_hold_cautions)
    activities = {(number, region): protocol.activities_at(number, region)
                  for number in protocol.phase_by_number for region in ("hamstring", "calf")}

    def rhs(engine: Any, phase: int) -> None:
        """Section 6: activities of the injury's region up to the decided phase, and the
        running plan."""
        run: Run = engine.current
        case = run.case
        region = case.assessment.region
        run.allowed, run.restricted = activities.get((phase, region)) or \
            protocol.activities_at(phase, region)
        red_flag_fired = any(o.result.outcome for o in run.red_flags.values())
        volume_held = any(cid in hold_cautions for cid in run.cautions)
        plan = compute_plan(protocol, case, phase, red_flag_fired, volume_held)
        run.plan = plan
        slots: dict[str, Any] = {
            "max_velocity_pct": float(plan.max_velocity_pct), "basis": plan.basis,
            "reassess_by": plan.reassess_by.isoformat(),
            "allowed": len(run.allowed), "restricted": len(run.restricted)}
        if plan.volume_advice:
            slots["volume"] = plan.volume_advice
        engine.declare(PlanFact(**slots))
        matched: list[tuple[str, dict[str, Any]]] = [("Phase", {"number": phase}),
                                                     ("Case", {"region": region})]
        if red_flag_fired:
            matched.append(("Signals", {"red_flag_fired": True}))
        if volume_held:
            held_by = sorted(hold_cautions & set(run.cautions))[0]
            matched.append(("CautionRaised", {"rule": held_by}))
        run.trace.append(TraceStep("plan", "plan", tuple(matched), ("Plan", slots)))

    rhs.__name__ = "plan"
    return Rule(Phase(number=MATCH.phase), salience=_salience("plan"))(rhs)


def _build_engine_class(protocol: Protocol) -> type:
    rules: dict[str, Callable[..., Any]] = {"criteria": _criteria_rule(protocol)}
    rules["criteria_phase"] = _criteria_phase_rule(protocol)
    rules["screen"] = _screen_rule(protocol)
    for position, flag in enumerate(protocol.red_flags):
        rules[f"flag_{flag.id}"] = _red_flag_rule(protocol, flag, position)
    for position, hold in enumerate(protocol.holds):
        rules[f"hold_{hold.id}"] = _hold_rule(protocol, hold, position)
    rules["decide_phase"] = _decide_phase_rule(protocol)
    context = _Context()
    for position, caution in enumerate(protocol.cautions):
        rules[f"caution_{caution.id}"] = _caution_rule(protocol, caution, position, context)
    rules["plan"] = _plan_rule(protocol)
    namespace: dict[str, Any] = {"__doc__": f"Rule network of protocol {protocol.id}",
                                 "__strategy__": _SalienceOrder, "current": None,
                                 "context": context, **rules}
    engine_class = type("ProtocolEngine", (_LeanEngine,), namespace)
    deffacts = [name for name, value in vars(KnowledgeEngine).items()
                if isinstance(value, experta.DefFacts)]
    if deffacts != ["_declare_initial_fact"]:  # pragma: no cover - an experta upgrade
        raise RuntimeError(f"_LeanEngine.reset assumes experta's one deffacts, got {deffacts}")
    return engine_class
