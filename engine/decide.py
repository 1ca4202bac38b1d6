"""Deciding an assessment: validate, infer, and write the decision down as data.

``Evaluator(protocol).decide(document)`` is the whole pipeline:

1. the document is validated against the data dictionary (pydantic), before
   any fact is declared; a bad document raises ``InvalidAssessment``;
2. the protocol's rule network (``engine.inference``) runs forward chaining:
   criteria → gates → criteria phase → red flags and holds → phase →
   cautions → plan;
3. the run is written down as plain data (section 8 of the protocol, and
   more) and serialised once; :meth:`Evaluator.decide_json` returns that text
   and :meth:`Evaluator.decide` the typed :class:`~engine.decision.Decision`
   of the same data.

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
from engine.conditions import Case, CriterionResult, PartResult, evaluate_trigger
from engine.decision import FORMAT, Decision, decision_json
from engine.inference import CapResult, Inference, PlanResult, RuleOutcome, Run
from engine.wording import condition_label, measured_text, needs_sentence, threshold_text
from rules.loading import default_protocol
from rules.protocol import Hold, Note, Protocol, RedFlag

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

_VOLUME_NOTES = {
    "hold": "Hold the running volume: it rose more than the protocol allows in a week (R14); "
            "do not add.",
    "increase_gradually": "Increase the high-speed and sprint volume gradually, in small "
                          "steps week to week.",
}


class Evaluator:
    """Decides assessments under one protocol. Build it once; it is thread-safe."""

    def __init__(self, protocol: Protocol | None = None) -> None:
        self.protocol = protocol or default_protocol()
        self.version = rulebase_version(self.protocol)
        self._inference = Inference(self.protocol)
        protocol = self.protocol
        self._phases = {p.number: {"number": p.number, "id": p.id, "name": p.name}
                        for p in protocol.phases}
        self._gate_criteria = {g.id: [c.id for c in protocol.criteria_of_gate(g.id)]
                               for g in protocol.gates}
        self._rulebase_base = {"version": self.version, "protocol": protocol.id,
                               "protocol_version": protocol.version,
                               "protocol_sha256": protocol.content_hash,
                               "engine": _ENGINE_VERSION}
        # the protocol's fixed parts, written once per rule base (section 8's keys stay in
        # every decision; only the work of writing them is shared)
        self._not_applicable = {
            c.id: {"id": c.id, "name": c.name, "gate": c.gate, "region": c.region,
                   "status": "not_applicable", "value": None, "threshold": None,
                   "basis": None} for c in protocol.criteria}
        self._words: dict[int, tuple[Any, str, str, str]] = {}
        self._threshold_texts: dict[tuple[Any, ...], tuple[Any, str]] = {}
        self._surveillance_note = (
            f"{protocol.surveillance.tests} At "
            + ", ".join(str(w) for w in protocol.surveillance.weeks)
            + f" weeks after the play decision, then every "
            f"{protocol.surveillance.then_every_months} months.")

    # ---- the pipeline -------------------------------------------------------------

    def run(self, document: Any) -> tuple[Assessment, Run]:
        """Validate and infer; the run before it is written down."""
        assessment = document if isinstance(document, Assessment) else parse_assessment(document)
        return assessment, self._inference.run(Case.of(assessment, self.protocol))

    def decide_data(self, document: Any, *, evaluated_at: dt.datetime | None = None
                    ) -> dict[str, Any]:
        """The decision as plain JSON data (section 8): validate, infer, write down."""
        _, run = self.run(document)
        return self._decision(run, evaluated_at)

    def decide(self, document: Any, *, evaluated_at: dt.datetime | None = None) -> Decision:
        """Validate ``document`` (a parsed JSON object or an :class:`Assessment`) and decide it.

        Raises ``InvalidAssessment`` naming every offending field; "not cleared" is a
        result, never an error.
        """
        return Decision.of_plain(self.decide_data(document, evaluated_at=evaluated_at))

    def decide_json(self, text: str | bytes, *, evaluated_at: dt.datetime | None = None
                    ) -> Decision:
        """Parse assessment JSON text (duplicate keys refused) and decide it."""
        return self.decide(parse_assessment_json(text), evaluated_at=evaluated_at)

    def decision_text(self, document: Any, *, evaluated_at: dt.datetime | None = None) -> str:
        """The decision's canonical JSON text, without building the typed model (the fast
        path of the service, ``evaluate --json`` and the benchmark)."""
        if isinstance(document, str | bytes):
            document = parse_assessment_json(document)
        return decision_json(self.decide_data(document, evaluated_at=evaluated_at))

    # ---- writing the decision down ------------------------------------------------

    def _decision(self, run: Run, evaluated_at: dt.datetime | None) -> dict[str, Any]:
        protocol = self.protocol
        case = run.case
        assessment = case.assessment
        document = assessment.document
        assert run.phase is not None and run.criteria_phase is not None and run.plan is not None
        stamp = None
        if evaluated_at is not None:
            if evaluated_at.tzinfo is None:
                raise ValueError("evaluated_at must be timezone-aware")
            stamp = evaluated_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        phase, criteria_phase = run.phase, run.criteria_phase
        plan = run.plan

        criteria = [self._criterion(result) for result in run.criteria.values()]
        gates = [self._gate(gate.id, gate.name, gate.number, run) for gate in protocol.gates]
        next_gate = gates[criteria_phase - 1] if criteria_phase < len(protocol.phases) else None
        blocking_results = [run.criteria[cid] for cid in (next_gate["not_passed"] if next_gate
                                                          else [])]
        blocking_details: list[dict[str, Any]] = [
            {"id": r.criterion.id, "name": r.criterion.name, "status": r.status,
             "needs": needs_sentence(r) or "", "missing": list(r.missing)}
            for r in blocking_results]
        missing_tests = list(dict.fromkeys(p for r in blocking_results for p in r.missing))

        reassess_by = plan.reassess_by.isoformat()
        red_flags, not_checked = [], []
        for outcome in run.red_flags.values():
            if outcome.result.outcome:
                red_flags.append(self._red_flag(outcome, run))
            elif outcome.result.outcome is None:
                not_checked.append({"id": outcome.rule.id, "name": outcome.rule.name,
                                    "missing": list(outcome.result.missing)})
        holding = [cap for cap in run.caps if cap.cap < criteria_phase]
        holds = [self._hold(cap, run) for cap in holding if cap.kind == "hold"]
        held_by = [{"id": cap.rule_id, "kind": cap.kind,
                    "cap": protocol.phase_by_number[cap.cap].id,
                    "ends": cap.ends.format(reassess_by=reassess_by)} for cap in holding]
        cautions = [self._caution(outcome, case) for outcome in
                    sorted(run.cautions.values(), key=lambda o: int(o.rule.id[1:]))]

        next_steps = [{"kind": cap.kind, "id": cap.rule_id,
                       "text": f"{cap.rule_id} {protocol.rule_names[cap.rule_id]}: "
                               f"{cap.ends.format(reassess_by=reassess_by)}"}
                      for cap in sorted(holding, key=lambda c: (c.cap != phase,
                                                                c.kind != "red_flag"))]
        next_steps.extend({"kind": "criterion", "id": b["id"], "text": b["needs"]}
                          for b in blocking_details)

        phase_ids = {p.number: p.id for p in protocol.phases}
        injury = document["injury"]
        assessment_doc = document["assessment"]
        previous = document.get("previous") or {}
        input_sha256 = assessment.input_sha256
        decision_id = hashlib.sha256(
            f"{input_sha256}\n{self.version}\n{stamp or ''}".encode()).hexdigest()[:32]
        athlete = document["athlete"]
        cleared_to_sprint, cleared_to_play = protocol.clearance(phase)
        return {
            "format": FORMAT,
            "decision_id": decision_id,
            "input_sha256": input_sha256,
            "evaluated_at": stamp,
            "athlete": {"id": athlete["id"], "name": athlete.get("name"),
                        "sport": athlete.get("sport"), "position": athlete.get("position")},
            "injury": {"region": injury["region"], "muscle": injury.get("muscle"),
                       "side": injury["side"], "date": injury["date"],
                       "bamic_grade": injury.get("bamic_grade"),
                       "tendon_involved": injury.get("tendon_involved"),
                       "physician_review": injury.get("physician_review"),
                       "days_since_injury": assessment.days_since_injury,
                       "sprint_day_floor": case.floors.sprint,
                       "play_day_floor": case.floors.play,
                       "floor_reasons": list(case.floors.applied)},
            "assessment": {"date": assessment_doc["date"],
                           "assessor": assessment_doc.get("assessor"),
                           "profile": assessment.profile,
                           "exercise_pain_limit": case.exercise_pain_limit},
            "previous": {"phase": previous.get("phase"), "date": previous.get("date")},
            "phase": self._phases[phase],
            "criteria_phase": self._phases[criteria_phase],
            "cleared_to_sprint": cleared_to_sprint,
            "cleared_to_play": cleared_to_play,
            "next_gate": next_gate,
            "blocking": [b["id"] for b in blocking_details],
            "blocking_details": blocking_details,
            "missing_tests": missing_tests,
            "held_by": held_by,
            "next_steps": next_steps,
            "red_flags": red_flags,
            "holds": holds,
            "cautions": cautions,
            "safety_not_checked": not_checked,
            "carried_forward": list(run.carried_forward),
            "missing_screening": [{"field": path, "from_phase": phase_ids[number]}
                                  for path, number in run.screening_missing],
            "allowed_activities": list(run.allowed),
            "restricted_activities": list(run.restricted),
            "maintenance": ([item.text for item in protocol.maintenance_for(injury["region"])]
                            if phase == protocol.phases[-1].number else []),
            "plan": self._plan(plan),
            "criteria": criteria,
            "gates": gates,
            "explanation": [
                {"step": index, "rule": step.rule, "kind": step.kind,
                 "matched": [{"fact": fact, "slots": _json(slots)}
                             for fact, slots in step.matched],
                 "declared": {"fact": step.declared[0], "slots": _json(step.declared[1])}}
                for index, step in enumerate(run.trace, 1)],
            "rulebase": {**self._rulebase_base, "profile": assessment.profile},
        }

    def _part(self, part: PartResult) -> dict[str, Any]:
        condition = part.condition
        label, measure, op = self._condition_words(condition)
        value, threshold = part.value, part.threshold
        return {
            "label": label,
            "measure": measure,
            "op": op,
            "value": value if type(value) in _PLAIN else _json(value),
            "threshold": threshold if type(threshold) in _PLAIN else _json(threshold),
            "value_text": measured_text(part),
            "threshold_text": self._threshold_text(part),
            "outcome": "not_assessed" if part.outcome is None else (
                "passed" if part.outcome else "failed"),
        }

    def _condition_words(self, condition: Any) -> tuple[str, str, str]:
        """(label, measure, op) of a condition of this protocol: written once per
        condition (the protocol, and with it every condition, lives as long as the
        evaluator)."""
        words = self._words.get(id(condition))
        if words is None or words[0] is not condition:
            words = self._words[id(condition)] = (
                condition, condition_label(condition), condition.measure, condition.op)
        return words[1], words[2], words[3]

    def _threshold_text(self, part: PartResult) -> str:
        """``threshold_text`` of the part, written once per condition and threshold (a
        threshold is the protocol's, a profile limit or a day floor: few per condition;
        ``times`` thresholds depend on the athlete's figures and are written each time)."""
        condition = part.condition
        threshold = part.threshold
        if condition.measure == "times" or type(threshold) is Decimal or \
                len(self._threshold_texts) > _TEXT_CACHE_LIMIT:
            return threshold_text(part)
        # the type keeps True apart from 1 (decimals, whose 1.5 and 1.50 are equal but
        # written differently, are written each time above)
        key = (id(condition), type(threshold), threshold, part.missing)
        entry = self._threshold_texts.get(key)
        if entry is None or entry[0] is not condition:
            entry = self._threshold_texts[key] = (condition, threshold_text(part))
        return entry[1]

    def _criterion(self, result: CriterionResult) -> dict[str, Any]:
        criterion = result.criterion
        if result.status == "not_applicable":
            return {**self._not_applicable[criterion.id], "sources": list(criterion.sources),
                    "missing": [], "parts": []}
        shown = list(result.parts)
        if result.attestation is not None:
            shown.append(result.attestation)
        parts = [self._part(part) for part in shown]
        if len(parts) == 1:
            value, threshold = parts[0]["value"], parts[0]["threshold"]
        else:
            value = [p["value"] for p in parts]
            threshold = [p["threshold"] for p in parts]
        return {
            "id": criterion.id, "name": criterion.name, "gate": criterion.gate,
            "region": criterion.region, "status": result.status, "value": value,
            "threshold": threshold, "basis": result.basis, "sources": list(criterion.sources),
            "missing": list(result.missing), "parts": parts,
        }

    def _gate(self, gate_id: str, name: str, number: int, run: Run) -> dict[str, Any]:
        ids = self._gate_criteria[gate_id]
        return {"id": gate_id, "name": name, "from_phase": self._phases[number]["id"],
                "to_phase": self._phases[number + 1]["id"], "passed": run.gates[gate_id],
                "criteria": ids,
                "not_passed": [cid for cid in ids if not run.criteria[cid].passed]}

    def _cap_of(self, run: Run, rule_id: str) -> int:
        return next(cap.cap for cap in run.caps if cap.rule_id == rule_id)

    def _red_flag(self, outcome: RuleOutcome, run: Run) -> dict[str, Any]:
        rule = outcome.rule
        assert isinstance(rule, RedFlag)
        cap = self._cap_of(run, rule.id)
        capped = self._phases[cap]
        if rule.effect.kind == "flare":
            previous = run.case.previous_phase
            reference = "the lower of the signed phase and the criteria phase" if previous \
                else "the criteria phase"
            effect = (f"symptom flare: one phase below {reference}, at most {capped['id']} "
                      f"({cap}); applied once however many flares fire")
        else:
            effect = f"phase capped at {capped['id']} ({cap}) while it is present"
            if rule.effect.kind == "refer":
                effect = "refer to a physician; " + effect
        matched = [self._part(p) for p in outcome.result.reasons]
        found = "; ".join(condition_label(p.condition) for p in outcome.result.reasons)
        return {
            "id": rule.id, "name": rule.name,
            "message": _message(rule.message.replace("{found}", found), rule.notes, run.case),
            "effect": effect, "effect_kind": rule.effect.kind,
            "refer": rule.effect.kind == "refer", "cap": capped,
            "because": _because(matched), "matched": matched, "sources": list(rule.sources),
        }

    def _hold(self, cap: CapResult, run: Run) -> dict[str, Any]:
        protocol = self.protocol
        rule = next(h for h in protocol.holds if h.id == cap.rule_id)
        assert isinstance(rule, Hold)
        capped = self._phases[cap.cap]
        effect = f"phase capped at {capped['id']} ({cap.cap})"
        if rule.effect.kind == "cap" and cap.until is not None:
            effect += f" until {cap.until.isoformat()}"
        elif rule.effect.kind == "signed_step":
            previous = run.case.assessment.previous_phase
            effect += (f": one step per signed review from the signed phase {previous}"
                       if previous else ": no signed phase on record")
        elif rule.effect.kind == "screening":
            effect += " until " + ", ".join(cap.missing) + " recorded"
        return {
            "id": rule.id, "name": rule.name,
            "message": _message(rule.message, rule.notes, run.case),
            "effect": effect, "cap": capped, "ends": cap.ends,
            "until": cap.until.isoformat() if cap.until else None,
            "missing": list(cap.missing), "sources": list(rule.sources),
        }

    def _caution(self, outcome: RuleOutcome, case: Case) -> dict[str, Any]:
        rule = outcome.rule
        matched = [self._part(p) for p in outcome.result.reasons]
        return {"id": rule.id, "name": rule.name,
                "message": _message(rule.message, rule.notes, case),
                "because": _because(matched), "matched": matched,
                "sources": list(rule.sources)}

    def _plan(self, plan: PlanResult) -> dict[str, Any]:
        last = {path.rpartition(".")[2]: _json(value) for path, value in plan.volume_figures}
        targets = {path.rpartition(".")[2]: _json(value) for path, value in plan.volume_targets}
        note = _VOLUME_NOTES.get(plan.volume_advice or "", "")
        if targets:
            shown = ", ".join(f"{key.replace('pre_injury_', '').replace('_m_7d', '')} "
                              f"{_metres(value)} m" for key, value in targets.items())
            note = (note + " " if note else "") + f"Pre-injury weekly targets: {shown}."
        if not note:
            note = "No running volume figures recorded."
        return {
            "max_velocity_pct": float(plan.max_velocity_pct),
            "basis": plan.basis,
            "max_velocity_mps": _json(plan.max_velocity_mps),
            "pain_free_speed_pct": _json(plan.pain_free_speed_pct),
            "pain_free_speed_basis": plan.pain_free_speed_basis,
            "volume": {"advice": plan.volume_advice, "note": note, "last_7_days": last,
                       "targets": targets},
            "reassess_by": plan.reassess_by.isoformat(),
            "retests": [d.isoformat() for d in plan.retests],
            "surveillance": self._surveillance_note if plan.retests else None,
        }


def _message(message: str, notes: tuple[Note, ...], case: Case) -> str:
    """A rule's message with the notes whose condition holds (``when`` true, not unknown)."""
    extra = [note.text for note in notes if evaluate_trigger(note.when, case).outcome]
    return " ".join([message, *extra])


def _metres(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _because(parts: list[dict[str, Any]]) -> str:
    """``next-morning pain 4 (≥ 3)``; parts on the same label are merged, context left out."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for part in parts:
        if part["label"] == "region":
            continue
        _, thresholds = merged.setdefault(part["label"], (part["value_text"], []))
        thresholds.append(part["threshold_text"])
    return "; ".join(f"{label} {value} ({' and '.join(thresholds)})"
                     for label, (value, thresholds) in merged.items())


_TEXT_CACHE_LIMIT = 10_000
"""Threshold texts kept per evaluator; beyond it (a protocol with unusual thresholds) they
are written each time."""

_PLAIN = frozenset({str, int, float, bool, type(None)})


def _json(value: Any) -> Any:
    """Plain JSON values: decimals become numbers (already rounded), tuples lists."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:  # the exact types first (the slots of a trace step); subclasses below
        return {key: _json(item) for key, item in value.items()}
    if kind is Decimal:
        return float(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Bilateral):
        return {"injured": value.injured, "uninjured": value.uninjured}
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
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
