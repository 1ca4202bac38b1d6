"""Replay: decide every stored assessment again with the rule base in use, change nothing.

What a clinic runs before it upgrades sprintclear or its protocol: each stored
assessment (its canonical input, exactly as kept) is decided by the current
evaluator and compared with the decision that was stored. A decision "would
change" when its outcome would: the phase, the criteria phase, clearance to
sprint or play, a criterion's status, what blocks the next gate, a red flag,
a caution, a red flag left unchecked, or the allowed activities. Each change
says why, in the decision's own words: a criterion shows what it measured and
what it needs now and needed then, a red flag what triggered it.

Replay reads in one snapshot and writes nothing: no decision, no audit entry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from api.store import Store
from api.store.assessments import StoredAssessmentInput
from engine.assessment import parse_assessment_json
from engine.decide import Evaluator
from rules.errors import InvalidAssessment, Problem

__all__ = ["Change", "ReplayReport", "Replayed", "compare_decisions", "replay"]


@dataclass(frozen=True, slots=True)
class Change:
    """One difference in outcome: what, before, after, and why."""

    what: str
    before: str
    after: str
    why: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "before": self.before, "after": self.after, "why": self.why}


@dataclass(frozen=True, slots=True)
class Replayed:
    """One stored assessment decided again."""

    assessment_id: str
    athlete_id: str
    assessment_date: str
    decision_id: str
    stored_rulebase: str
    superseded_by: str | None
    changes: tuple[Change, ...] = ()
    problems: tuple[Problem, ...] = ()
    """Not empty when the stored input is no longer accepted by the current data dictionary."""

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {"assessment_id": self.assessment_id, "athlete_id": self.athlete_id,
                "assessment_date": self.assessment_date, "decision_id": self.decision_id,
                "stored_rulebase": self.stored_rulebase, "superseded_by": self.superseded_by,
                "changes": [c.as_dict() for c in self.changes],
                "no_longer_valid": [p.as_dict() for p in self.problems]}


@dataclass(frozen=True, slots=True)
class ReplayReport:
    rulebase_version: str
    protocol: str
    protocol_version: str
    replayed: int
    changed: tuple[Replayed, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"rulebase_version": self.rulebase_version, "protocol": self.protocol,
                "protocol_version": self.protocol_version, "replayed": self.replayed,
                "would_change": len(self.changed), "unchanged": self.replayed - len(self.changed),
                "changed": [item.as_dict() for item in self.changed]}


def replay(store: Store, evaluator: Evaluator,
           progress: Callable[[Replayed], None] | None = None) -> ReplayReport:
    """Decide every stored assessment again; report those whose outcome would change."""
    return replay_items(store.stored_assessments(), evaluator, progress)


def replay_items(items: Iterable[StoredAssessmentInput], evaluator: Evaluator,
                 progress: Callable[[Replayed], None] | None = None) -> ReplayReport:
    changed: list[Replayed] = []
    count = 0
    for item in items:
        count += 1
        result = _replay_one(item, evaluator)
        if result.changed:
            changed.append(result)
        if progress is not None:
            progress(result)
    protocol = evaluator.protocol
    return ReplayReport(rulebase_version=evaluator.version, protocol=protocol.id,
                        protocol_version=protocol.version, replayed=count,
                        changed=tuple(changed))


def _replay_one(item: StoredAssessmentInput, evaluator: Evaluator) -> Replayed:
    stored = json.loads(item.decision_json)
    replayed = Replayed(assessment_id=item.assessment_id, athlete_id=item.athlete_id,
                        assessment_date=item.assessment_date, decision_id=item.decision_id,
                        stored_rulebase=item.rulebase_version,
                        superseded_by=item.superseded_by)
    try:
        assessment = parse_assessment_json(item.document)
    except InvalidAssessment as exc:
        return replace(replayed, problems=exc.problems)
    evaluated_at = stored.get("evaluated_at")
    when = (dt.datetime.fromisoformat(evaluated_at.replace("Z", "+00:00"))
            if isinstance(evaluated_at, str) else None)
    new = json.loads(evaluator.decide(assessment, evaluated_at=when).to_json())
    return replace(replayed, changes=tuple(compare_decisions(stored, new)))


# ---- comparing two decisions ----------------------------------------------------------


def _phase(decision: dict[str, Any], key: str) -> str:
    phase = decision.get(key) or {}
    return f"{phase.get('id')} ({phase.get('number')})"


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _by_id(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("id")): item for item in items}


def compare_decisions(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The differences in outcome between a stored decision and a new one, with reasons."""
    changes: list[Change] = []
    criteria = _criteria_changes(before, after)
    flags = _rule_changes("red flag", before.get("red_flags", []), after.get("red_flags", []))
    cautions = _rule_changes("caution", before.get("cautions", []), after.get("cautions", []))
    because = "; ".join(f"{c.what} {c.before} → {c.after}" for c in criteria + flags)

    for key, label in (("phase", "phase"), ("criteria_phase", "criteria phase")):
        if _phase(before, key) != _phase(after, key):
            changes.append(Change(label, _phase(before, key), _phase(after, key), because))
    for key, label in (("cleared_to_sprint", "cleared to sprint"),
                       ("cleared_to_play", "cleared to play")):
        if bool(before.get(key)) != bool(after.get(key)):
            changes.append(Change(label, _yes(before.get(key)), _yes(after.get(key))))
    changes += criteria
    changes += _set_change("blocking", before.get("blocking", []), after.get("blocking", []))
    changes += flags + cautions
    changes += _set_change("red flags not checked",
                           [n.get("id") for n in before.get("safety_not_checked", [])],
                           [n.get("id") for n in after.get("safety_not_checked", [])])
    changes += _set_change("allowed activities", before.get("allowed_activities", []),
                           after.get("allowed_activities", []))
    return changes


def _criteria_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    old, new = _by_id(before.get("criteria", [])), _by_id(after.get("criteria", []))
    changes = []
    for cid in list(dict.fromkeys([*old, *new])):
        was, now = old.get(cid), new.get(cid)
        if was is None and now is not None:
            changes.append(Change(cid, "absent", str(now.get("status")),
                                  f"new criterion: {_criterion_summary(now)}"))
        elif now is None and was is not None:
            changes.append(Change(cid, str(was.get("status")), "absent",
                                  "the criterion is no longer in the protocol"))
        elif was is not None and now is not None and was.get("status") != now.get("status"):
            why = _criterion_summary(now)
            if _criterion_summary(was) != why:
                why += f"; was: {_criterion_summary(was)}"
            changes.append(Change(cid, str(was.get("status")), str(now.get("status")), why))
    return changes


def _criterion_summary(criterion: dict[str, Any]) -> str:
    """``isometric 90/90 LSI 92.4 % (needs ≥ 95.0 %)`` for each part; a format-1 decision
    kept the sentence as ``summary``."""
    if "summary" in criterion:
        return str(criterion["summary"])
    return "; ".join(f"{p.get('label')} {p.get('value_text')} (needs {p.get('threshold_text')})"
                     for p in criterion.get("parts", [])) or str(criterion.get("status"))


def _rule_changes(kind: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
                  ) -> list[Change]:
    old, new = _by_id(before), _by_id(after)
    changes = []
    for rule_id, rule in new.items():
        if rule_id not in old:
            changes.append(Change(f"{kind} {rule_id}", "not raised", "raised",
                                  f"{rule.get('message')} Found: {rule.get('because')}"))
    for rule_id, rule in old.items():
        if rule_id not in new:
            changes.append(Change(f"{kind} {rule_id}", "raised", "not raised",
                                  f"was raised because: {rule.get('because')}"))
    return changes


def _set_change(what: str, before: list[Any], after: list[Any]) -> list[Change]:
    old, new = [str(x) for x in before], [str(x) for x in after]
    added = [x for x in new if x not in old]
    removed = [x for x in old if x not in new]
    if not added and not removed:
        return []
    return [Change(what, ", ".join(old) or "none", ", ".join(new) or "none",
                   " ".join([*(f"+{x}" for x in added), *(f"−{x}" for x in removed)]))]
