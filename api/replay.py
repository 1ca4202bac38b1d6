"""Replay: decide every stored assessment again with the rule base in use, change nothing.

What a clinic runs before it upgrades sprintclear or its protocol: each stored
assessment (its canonical input, exactly as kept) is decided by the current
evaluator and compared with the decision that was stored. A decision "would
change" when its outcome would: the phase, the criteria phase, clearance to
sprint or play, a criterion's status, what blocks the next gate, a red flag,
a caution, a red flag left unchecked, or the allowed activities. Each change
says why, in the decision's own words: a criterion shows what it measured and
what it needs now and needed then, a red flag what triggered it.

**The signed phase.** Protocol 2027.1 (section 2.1) needs ``previous.phase``
*and* ``previous.date``, which the service fills from its sign-offs. A stored
input without ``previous.date`` (a 2026.1 input with ``previous.phase`` alone, or
none at all) is replayed with ``previous`` supplied from the store's sign-offs
exactly as the service did when it stored the assessment
(:func:`api.signed_phase.latest_signed_step` as of its ``created_at``:
the latest sign-off, recorded before the assessment was stored, of an earlier
assessment of the same injury not superseded by a correction, and that
assessment's date; no ``previous`` when there is none), and the case says so.
An input that carries both is replayed as stored.

**Streamed and parallel.** The archive is read chunk by chunk
(:mod:`api.store.replay_reads`); each chunk gives a :class:`ChunkResult`: how many
were replayed, the count of each kind of change, and the changed cases. Results
are merged in chunk order, so ``jobs`` processes give the same report, byte for
byte, as one. Memory holds one chunk per process plus the merged counts; the
command line spools the cases to a temporary file (see ``sprintclear audit
replay``).

Replay reads in snapshots and writes nothing: no decision, no audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from api.signed_phase import SignedStep, latest_signed_step
from api.store import Store
from api.store.replay_reads import (
    ArchivedDecision,
    ChunkBounds,
    archive_chunks,
    archive_size,
    archived_decisions,
    chunk_injuries,
    signed_visits,
)
from engine.decide import Evaluator, evaluator_for
from engine.runtime import settle
from rules.errors import InvalidAssessment, Problem
from rules.loading import load_protocol

__all__ = ["DEFAULT_CHUNK_SIZE", "Change", "ChunkResult", "ReplayReport", "Replayed",
           "change_kind", "compare_decisions", "end_replay_process", "plan_chunks", "replay",
           "replay_chunk", "replay_chunks", "replay_one", "replay_planned_chunk",
           "start_replay_process"]

DEFAULT_CHUNK_SIZE = 250
"""Assessments per chunk: the unit of work of a process, of an RQ job's step and of progress."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference in outcome: what, before, after, and why."""

    what: str
    before: str
    after: str
    why: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "before": self.before, "after": self.after, "why": self.why}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Change:
        return cls(data["what"], data["before"], data["after"], data.get("why", ""))


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
    previous_supplied: str | None = None
    """Set when ``previous`` was supplied from the store's sign-offs: what was supplied."""

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.problems)

    def kinds(self) -> list[str]:
        """The kinds of change of this case (see :func:`change_kind`), each once."""
        kinds = [change_kind(c) for c in self.changes]
        kinds += [f"no longer valid: {p.field}" for p in self.problems]
        return list(dict.fromkeys(kinds))

    def as_dict(self) -> dict[str, Any]:
        return {"assessment_id": self.assessment_id, "athlete_id": self.athlete_id,
                "assessment_date": self.assessment_date, "decision_id": self.decision_id,
                "stored_rulebase": self.stored_rulebase, "superseded_by": self.superseded_by,
                "previous_supplied": self.previous_supplied,
                "changes": [c.as_dict() for c in self.changes],
                "no_longer_valid": [p.as_dict() for p in self.problems]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Replayed:
        return cls(assessment_id=data["assessment_id"], athlete_id=data["athlete_id"],
                   assessment_date=data["assessment_date"], decision_id=data["decision_id"],
                   stored_rulebase=data["stored_rulebase"],
                   superseded_by=data.get("superseded_by"),
                   previous_supplied=data.get("previous_supplied"),
                   changes=tuple(Change.from_dict(c) for c in data.get("changes", [])),
                   problems=tuple(Problem(p["field"], p["kind"], p["message"])
                                  for p in data.get("no_longer_valid", [])))


@dataclass(slots=True)
class ChunkResult:
    """What one chunk (or, merged, the whole archive) gave: counts and the changed cases."""

    replayed: int = 0
    previous_supplied: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    changed: list[Replayed] = field(default_factory=list)
    changed_count: int = 0

    def add(self, item: Replayed) -> None:
        self.replayed += 1
        if item.previous_supplied is not None:
            self.previous_supplied += 1
        if item.changed:
            self.changed_count += 1
            self.changed.append(item)
            for kind in item.kinds():
                self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def merge_counts(self, other: ChunkResult) -> None:
        """Add ``other``'s counts (not its cases) to these."""
        self.replayed += other.replayed
        self.previous_supplied += other.previous_supplied
        self.changed_count += other.changed_count
        for kind, count in other.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + count

    def summary(self) -> list[dict[str, Any]]:
        """The kinds of change, most frequent first (then by name): ``[{kind, cases}]``."""
        return [{"kind": kind, "cases": count} for kind, count in
                sorted(self.by_kind.items(), key=lambda item: (-item[1], item[0]))]

    def as_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "previous_supplied": self.previous_supplied,
                "by_kind": dict(self.by_kind), "changed_count": self.changed_count,
                "changed": [item.as_dict() for item in self.changed]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkResult:
        return cls(replayed=data["replayed"], previous_supplied=data["previous_supplied"],
                   by_kind=dict(data["by_kind"]), changed_count=data["changed_count"],
                   changed=[Replayed.from_dict(item) for item in data.get("changed", [])])


@dataclass(frozen=True, slots=True)
class ReplayReport:
    rulebase_version: str
    protocol: str
    protocol_version: str
    replayed: int
    changed: tuple[Replayed, ...] = field(default=())
    by_kind: tuple[tuple[str, int], ...] = ()
    """Each kind of change with how many cases show it, most frequent first."""
    previous_supplied: int = 0
    """How many stored inputs were replayed with ``previous`` from the store's sign-offs."""

    def as_dict(self) -> dict[str, Any]:
        return {"rulebase_version": self.rulebase_version, "protocol": self.protocol,
                "protocol_version": self.protocol_version, "replayed": self.replayed,
                "would_change": len(self.changed), "unchanged": self.replayed - len(self.changed),
                "previous_supplied": self.previous_supplied,
                "summary": [{"kind": kind, "cases": count} for kind, count in self.by_kind],
                "changed": [item.as_dict() for item in self.changed]}


# ---- the signed phase (protocol section 2.1) --------------------------------------------


def _needs_previous(document: dict[str, Any]) -> bool:
    previous = document.get("previous")
    return not (isinstance(previous, dict) and previous.get("date") is not None)


def _with_previous(document: dict[str, Any], previous: dict[str, str] | None
                   ) -> tuple[dict[str, Any], str | None]:
    """The document with ``previous`` as the service fills it, and a note saying so (none
    when the input had no ``previous`` and there is no sign-off: nothing was supplied)."""
    stored = document.get("previous")
    if stored is None and previous is None:
        return document, None
    was = (f"previous.phase {stored.get('phase')} without a date"
           if isinstance(stored, dict) and stored.get("phase") is not None else "no previous")
    document = dict(document)
    if previous is None:
        document.pop("previous", None)
        return document, f"stored input had {was}; no sign-off on record: no previous"
    document["previous"] = previous
    return document, (f"stored input had {was}; from the store's sign-offs: "
                      f"{previous['phase']} (assessment of {previous['date']})")


# ---- replaying -------------------------------------------------------------------------


def replay_items(items: Iterable[ArchivedDecision], evaluator: Evaluator,
                 by_injury: Mapping[str, Sequence[SignedStep]] | None = None,
                 progress: Callable[[Replayed], None] | None = None) -> ChunkResult:
    """Replay ``items`` (one chunk); ``by_injury`` the sign-offs of their injuries
    (:func:`api.store.replay_reads.signed_visits`)."""
    by_injury = by_injury or {}
    result = ChunkResult()
    for item in items:
        replayed = replay_one(item, evaluator, by_injury.get(item.injury_id, ()))
        result.add(replayed)
        if progress is not None:
            progress(replayed)
    return result


def replay_one(item: ArchivedDecision, evaluator: Evaluator,
               steps: Iterable[SignedStep] = ()) -> Replayed:
    """Decide one stored assessment again and compare it with the stored decision."""
    replayed = Replayed(assessment_id=item.assessment_id, athlete_id=item.athlete_id,
                        assessment_date=item.assessment_date, decision_id=item.decision_id,
                        stored_rulebase=item.rulebase_version,
                        superseded_by=item.superseded_by)
    document = orjson.loads(item.document)
    if isinstance(document, dict) and _needs_previous(document):
        # what the service filled when it stored this assessment (protocol section 2.1)
        document, note = _with_previous(document, latest_signed_step(
            steps, item.assessment_date, as_of=item.created_at, excluding=item.supersedes))
        replayed = replace(replayed, previous_supplied=note)
    stored = orjson.loads(item.decision_json)
    evaluated_at = stored.get("evaluated_at")
    when = (dt.datetime.fromisoformat(evaluated_at.replace("Z", "+00:00"))
            if isinstance(evaluated_at, str) else None)
    try:
        new = evaluator.decide_data(document, evaluated_at=when)
    except InvalidAssessment as exc:
        return replace(replayed, problems=exc.problems)
    return replace(replayed, changes=tuple(compare_decisions(stored, new)))


def replay_chunk(store: Store, evaluator: Evaluator, bounds: ChunkBounds,
                 progress: Callable[[Replayed], None] | None = None) -> ChunkResult:
    """Replay one chunk of the archive (read streamed, in storage order)."""
    database = store.database
    visits = signed_visits(database, chunk_injuries(database, bounds.after, bounds.last))
    return replay_items(archived_decisions(database, bounds.after, bounds.last), evaluator,
                        visits, progress)


def replay(store: Store, evaluator: Evaluator,
           progress: Callable[[Replayed], None] | None = None, *,
           chunk_size: int = DEFAULT_CHUNK_SIZE) -> ReplayReport:
    """Decide every stored assessment again in this process; report those that would change.

    Keeps every changed case in memory: for a large archive use :func:`replay_chunks`.
    """
    total = ChunkResult()
    changed: list[Replayed] = []
    for bounds in archive_chunks(store.database, chunk_size):
        result = replay_chunk(store, evaluator, bounds, progress)
        total.merge_counts(result)
        changed += result.changed
    return _report(evaluator, total, tuple(changed))


def _report(evaluator: Evaluator, total: ChunkResult, changed: tuple[Replayed, ...]
            ) -> ReplayReport:
    protocol = evaluator.protocol
    return ReplayReport(rulebase_version=evaluator.version, protocol=protocol.id,
                        protocol_version=protocol.version, replayed=total.replayed,
                        changed=changed,
                        by_kind=tuple((s["kind"], s["cases"]) for s in total.summary()),
                        previous_supplied=total.previous_supplied)


# ---- in a pool of processes ------------------------------------------------------------
# The command line hands these to ``sprintclear.batch.ordered_map`` (one ordered process
# pool with the progress bar for every batch command): plan the chunks here, then each
# process opens its own connection (:func:`start_replay_process`) and replays chunks
# (:func:`replay_planned_chunk`); the results come back in chunk order.

_process: dict[str, Any] = {}


def plan_chunks(database_url: str, chunk_size: int = DEFAULT_CHUNK_SIZE
                ) -> tuple[int, list[ChunkBounds]]:
    """The archive's size and its chunks' bounds (two keys each); the connection used to
    plan is closed before any process is started."""
    store = Store.open(database_url)
    try:
        return archive_size(store.database), list(archive_chunks(store.database, chunk_size))
    finally:
        store.close()


def start_replay_process(database_url: str, protocol_path: str | None) -> None:
    """A process of the pool (or this one): its own connection and evaluator."""
    previous = _process.get("store")
    if previous is not None:
        previous.close()
    _process["store"] = Store.open(database_url)
    _process["evaluator"] = evaluator_for(load_protocol(protocol_path) if protocol_path
                                          else None)


def end_replay_process() -> None:
    """Close the connection :func:`start_replay_process` opened in this process, if any."""
    store = _process.pop("store", None)
    if store is not None:
        store.close()


def replay_planned_chunk(bounds: ChunkBounds) -> ChunkResult:
    """Replay one planned chunk with the process's connection and evaluator."""
    return replay_chunk(_process["store"], _process["evaluator"], bounds)


def replay_chunks(database_url: str, protocol_path: Path | None, *,
                  chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[int, Iterator[ChunkResult]]:
    """The archive's size, and its chunks' results in storage order, in this process."""
    size, chunks = plan_chunks(database_url, chunk_size)
    start_replay_process(database_url, str(protocol_path) if protocol_path else None)
    settle()

    def results() -> Iterator[ChunkResult]:
        try:
            for bounds in chunks:
                yield replay_planned_chunk(bounds)
        finally:
            end_replay_process()

    return size, results()


# ---- comparing two decisions ----------------------------------------------------------


def _phase(decision: dict[str, Any], key: str) -> str:
    phase = decision.get(key) or {}
    return f"{phase.get('id')} ({phase.get('number')})"


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _by_id(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("id")): item for item in items}


def change_kind(change: Change) -> str:
    """The kind a change is counted under in the summary: what changed and which way
    (``phase: sprint (4) → run (3)``, ``C202: met → unmet``, ``red flag R10: raised``);
    lists (allowed activities, blocking criteria, red flags not checked) count as changed."""
    if change.what in {"allowed activities", "blocking", "red flags not checked"}:
        return f"{change.what} changed"
    if change.what.startswith(("red flag ", "caution ")):
        return f"{change.what}: {change.after}"
    return f"{change.what}: {change.before} → {change.after}"


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
