"""What the pages show, computed from stored records and decisions: templates only lay it out.

Like ``reports.view`` for the PDF (whose decision view the decision page
reuses, so the page and the report say the same sentences), this module picks,
groups and labels; it adds no clinical judgement. Every sentence about the
clinical logic (a criterion's ``needs``, a red flag's ``message``, ``effect``
and ``because``) is the decision's own.

One thing is shown here that a decision does not carry: whether the phase a
clinician *signed* clears the athlete. When a sign-off overrides the
recommendation, the badges must follow the signed phase, or a squad list
could show "cleared" for an athlete a clinician held back.
:func:`clearance_of` asks the protocol (``Protocol.clearance``, section 2:
cleared to sprint is phase ≥ sprint, cleared to play is phase play, the very
function ``engine.decide`` uses) about the signed phase.

Every status is a symbol and a word (``✓ CLEARED``, ``✗ NOT CLEARED``,
``! 1 red flag``), never a colour alone; the CSS classes only add colour.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.store.records import AssessmentEntry, Athlete, Injury, Signoff, Timeline
from engine.decision import Decision, TraceStep, read_decision
from rules.dictionary import FIELDS_BY_PATH
from rules.protocol import Protocol

__all__ = [
    "Badge",
    "EntryStatus",
    "HeldStep",
    "ScreenMissing",
    "SquadRow",
    "clearance_of",
    "entry_status",
    "explanation_steps",
    "held_steps",
    "missing_screens",
    "phase_label",
    "squad_row",
    "standing_red_flags",
]


@dataclass(frozen=True, slots=True)
class Badge:
    """A status as symbol, word and (for colour only) a CSS class."""

    symbol: str
    text: str
    css: str


def cleared_badge(cleared: bool, what: str) -> Badge:
    if cleared:
        return Badge("✓", f"CLEARED to {what}", "ok")
    return Badge("✗", f"NOT CLEARED to {what}", "no")


def clearance_of(protocol: Protocol, phase_id: str) -> tuple[bool, bool]:
    """(cleared to sprint, cleared to play) of a phase: ``Protocol.clearance``, as the engine."""
    return protocol.clearance(protocol.phase_by_id[phase_id].number)


def phase_label(protocol: Protocol, phase_id: str) -> str:
    """``4 · sprint — Return to sprint``."""
    phase = protocol.phase_by_id.get(phase_id)
    if phase is None:
        return phase_id
    return f"{phase.number} · {phase.id} — {phase.name}"


def short_phase(protocol: Protocol, phase_id: str) -> str:
    """``4 · sprint``."""
    phase = protocol.phase_by_id.get(phase_id)
    return phase_id if phase is None else f"{phase.number} · {phase.id}"


# ---- one decision's status: the recommendation and its sign-off --------------------


@dataclass(frozen=True, slots=True)
class EntryStatus:
    """What a squad row or timeline line says about one stored decision."""

    phase: str
    """The phase in force: the signed one, or the recommendation while unsigned."""
    qualifier: str
    """Whose phase it is: ``signed off (accepted)``, ``overridden …``, ``recommended …``."""
    sprint: Badge
    play: Badge
    signoff: Badge
    recommended: str
    lowered: str | None
    """``criteria allowed 4 · sprint`` when safety rules lowered the phase."""


def signoff_badge(signoff: Signoff | None, protocol: Protocol) -> Badge:
    if signoff is None:
        return Badge("…", "awaiting sign-off", "wait")
    if signoff.action == "accept":
        return Badge("✓", f"accepted by {signoff.clinician}", "ok")
    return Badge("⚠", f"overridden to {short_phase(protocol, signoff.signed_phase)} by "
                      f"{signoff.clinician}", "warn")


def entry_status(entry: AssessmentEntry, protocol: Protocol) -> EntryStatus:
    """The decision's status as the squad and the timeline show it."""
    decision, signoff = entry.decision, entry.signoff
    recommended = short_phase(protocol, decision.phase.id)
    lowered = None
    if decision.criteria_phase.number != decision.phase.number:
        lowered = f"criteria allowed {short_phase(protocol, decision.criteria_phase.id)}"
    if signoff is None:
        phase, qualifier = decision.phase.id, "recommended; not signed off yet"
        sprint, play = decision.cleared_to_sprint, decision.cleared_to_play
    elif signoff.action == "accept":
        phase, qualifier = signoff.signed_phase, "signed off: recommendation accepted"
        sprint, play = decision.cleared_to_sprint, decision.cleared_to_play
    else:
        phase = signoff.signed_phase
        qualifier = f"signed off: overridden (recommended {recommended})"
        sprint, play = clearance_of(protocol, signoff.signed_phase)
    return EntryStatus(phase=short_phase(protocol, phase), qualifier=qualifier,
                       sprint=cleared_badge(sprint, "sprint"), play=cleared_badge(play, "play"),
                       signoff=signoff_badge(signoff, protocol), recommended=recommended,
                       lowered=lowered)


def flag_names(ids: Sequence[str], protocol: Protocol) -> list[str]:
    """``R3 Symptom flare: next morning`` for each safety rule id."""
    names = {rule.id: rule.name for rule in protocol.safety_rules}
    return [f"{rule_id} {names.get(rule_id, '')}".strip() for rule_id in ids]


# ---- what holds the athlete (protocol 2027.1, sections 4 and 8) -----------------------


@dataclass(frozen=True, slots=True)
class HeldStep:
    """A red flag or hold that keeps the phase below the criteria phase, with what ends it."""

    symbol: str
    """``!`` a red flag, ``■`` a hold: always shown with ``kind``."""
    kind: str
    """``Red flag`` or ``Hold``."""
    css: str
    text: str
    """The decision's own ``next_steps`` text: the rule, its name and what ends it."""
    cap: str
    """``caps the phase at 2 · load``: the decision's ``held_by`` cap, in words."""


_HELD_KINDS = {"red_flag": ("!", "Red flag", "red"), "hold": ("■", "Hold", "hold")}


def held_steps(decision: Decision, protocol: Protocol) -> list[HeldStep]:
    """What stands between the athlete and the next phase before any criterion: the red
    flags and holds of ``next_steps``, in the decision's order, each with its cap.

    Empty when nothing holds the phase below the criteria phase (and for a 2026.1
    decision, which recorded no ``held_by``)."""
    caps = {held.id: held.cap for held in decision.held_by}
    steps = []
    for step in decision.next_steps:
        if step.kind not in _HELD_KINDS:
            continue
        symbol, kind, css = _HELD_KINDS[step.kind]
        cap = caps.get(step.id)
        steps.append(HeldStep(symbol=symbol, kind=kind, css=css, text=step.text,
                              cap=f"caps the phase at {short_phase(protocol, cap)}" if cap
                              else ""))
    return steps


def standing_red_flags(decision: Decision, protocol: Protocol) -> list[HeldStep]:
    """Red flags that cap the phase at or below the decided phase without being in
    ``held_by`` (the criteria phase is no higher than their cap): passing the next gate
    would not move the athlete on while they stand, so the page names them before the
    gate's criteria (a surgical review at ``protect`` is not a matter of walking pain)."""
    held = {h.id for h in decision.held_by}
    symbol, kind, css = _HELD_KINDS["red_flag"]
    return [HeldStep(symbol=symbol, kind=kind, css=css, text=f"{flag.id} {flag.name}",
                     cap=f"caps the phase at {short_phase(protocol, flag.cap.id)} while it "
                         f"stands")
            for flag in decision.red_flags
            if flag.id not in held and flag.cap.number <= decision.phase.number]


@dataclass(frozen=True, slots=True)
class ScreenMissing:
    """A screening field of section 4.3 that was not recorded."""

    field: str
    label: str
    from_phase: str
    """``3 · run``: the first phase that needs it."""


def missing_screens(decision: Decision, protocol: Protocol) -> list[ScreenMissing]:
    """The decision's ``missing_screening``, with the dictionary's label of each field."""
    return [ScreenMissing(field=m.field,
                          label=FIELDS_BY_PATH[m.field].label if m.field in FIELDS_BY_PATH
                          else m.field,
                          from_phase=short_phase(protocol, m.from_phase))
            for m in decision.missing_screening]


# ---- the squad ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SquadRow:
    athlete: Athlete
    injury: Injury | None
    injury_text: str
    days_since_injury: int | None
    last_assessed: str | None
    decision_id: str | None
    status: EntryStatus | None
    red_flags: tuple[str, ...]
    cautions: tuple[str, ...]


def current_entry(timeline: Timeline) -> tuple[Injury | None, AssessmentEntry | None]:
    """The latest injury episode and its latest assessment that no correction superseded."""
    if not timeline.injuries:
        return None, None
    latest = timeline.injuries[-1]
    current = [entry for entry in latest.assessments if entry.superseded_by is None]
    return latest.injury, (current[-1] if current else None)


def injury_text(injury: Injury) -> str:
    muscle = (injury.muscle or "").replace("_", " ")
    grade = f"BAMIC {injury.bamic_grade}" if injury.bamic_grade else "grade not given"
    return " · ".join(x for x in (f"{injury.side} {injury.region}", muscle, grade) if x)


def squad_row(timeline: Timeline, today: dt.date, protocol: Protocol) -> SquadRow:
    injury, entry = current_entry(timeline)
    days = None if injury is None else (today - dt.date.fromisoformat(injury.date)).days
    return SquadRow(
        athlete=timeline.athlete, injury=injury,
        injury_text=injury_text(injury) if injury else "",
        days_since_injury=days,
        last_assessed=entry.assessment_date if entry else None,
        decision_id=entry.decision.id if entry else None,
        status=entry_status(entry, protocol) if entry else None,
        red_flags=tuple(flag_names(entry.decision.red_flags, protocol)) if entry else (),
        cautions=tuple(flag_names(entry.decision.cautions, protocol)) if entry else ())


# ---- the explanation --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExplainedStep:
    step: int
    rule: str
    kind: str
    description: str
    matched: tuple[str, ...]
    declared: str


def _slots(slots: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {json.dumps(value, ensure_ascii=False)}"
                     for name, value in slots.items())


_RULE_WORDS = {
    "criteria": "every criterion evaluated; gates passed; carried forward below the signed "
                "phase",
    "criteria_phase": "the highest phase whose gates are all passed",
    "screen": "red-flag, hold and caution triggers; screening not recorded",
    "decide_phase": "the lowest of the criteria phase and every cap",
    "plan": "activities of the region and the running plan of the decided phase",
}


def _rule_words(rule: str, kind: str, protocol: Protocol | None) -> str:
    if rule in _RULE_WORDS:
        return _RULE_WORDS[rule]
    if protocol is not None:
        if rule in protocol.rule_names:
            return protocol.rule_names[rule]
        if rule in protocol.criterion_by_id:
            return protocol.criterion_by_id[rule].name
        if rule in protocol.gate_by_id:
            return protocol.gate_by_id[rule].name
    return kind.replace("_", " ")


def explanation_steps(steps: Sequence[TraceStep], protocol: Protocol | None = None
                      ) -> list[ExplainedStep]:
    """The fired rules in order, each with the facts it matched and the fact it declared.

    A rule of the protocol (``R3``) is described by its name in ``protocol`` — give
    only the protocol that made the decision (same content hash), or ``None`` to fall
    back on the rule's kind."""
    return [ExplainedStep(step=s.step, rule=s.rule, kind=s.kind,
                          description=_rule_words(s.rule, s.kind, protocol),
                          matched=tuple(f"{m.fact}: {_slots(m.slots)}" for m in s.matched),
                          declared=f"{s.declared.fact}: {_slots(s.declared.slots)}")
            for s in steps]


def phase_choices(protocol: Protocol) -> list[tuple[str, str]]:
    """(id, ``3 · run — Progressive running``) for every phase of the protocol."""
    return [(phase.id, phase_label(protocol, phase.id)) for phase in protocol.phases]


def decided(decision_json: str) -> Decision:
    return read_decision(decision_json)
