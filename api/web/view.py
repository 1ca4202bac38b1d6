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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol as TypingProtocol

from api.store.records import AssessmentEntry, Injury, Signoff
from api.store.squad import BoardInjury
from engine.confirmation import phase_label, short_phase
from engine.decision import Decision, TraceStep, read_decision
from rules.dictionary import FIELDS_BY_PATH
from rules.protocol import Protocol

__all__ = [
    "Badge",
    "EntryStatus",
    "HeldStep",
    "InForce",
    "ScreenMissing",
    "clearance_of",
    "entry_status",
    "explanation_steps",
    "held_steps",
    "in_force",
    "missing_screens",
    "pending_badge",
    "phase_label",
    "short_phase",
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


# ---- one decision's status: the recommendation and its sign-off --------------------


@dataclass(frozen=True, slots=True)
class EntryStatus:
    """What a timeline line or a log row says about one stored decision.

    ``state`` is ``signed`` (a clinician accepted or overrode it: ``phase`` and the
    clearance badges are the signed phase's), ``pending`` (a recommendation awaiting
    sign-off: no phase in force, no clearance badge, only :attr:`pending`) or
    ``superseded`` (a correction replaced the assessment: it can never be signed)."""

    state: str
    phase: str | None
    """The signed phase, ``3 · run``; ``None`` unless signed."""
    qualifier: str
    """Whose phase it is: ``signed off (accepted)``, ``overridden …``, ``recommended …``."""
    sprint: Badge | None
    play: Badge | None
    signoff: Badge
    recommended: str
    lowered: str | None
    """``criteria allowed 4 · sprint`` when safety rules lowered the phase."""
    pending: Badge | None = None
    """The recommendation awaiting sign-off (never a clearance)."""
    superseded_by: str | None = None
    """The decision id of the correction that replaced this one (for a link)."""


def pending_badge(protocol: Protocol, phase_id: str) -> Badge:
    """A recommendation awaiting sign-off: a hollow diamond, the word PENDING and a dashed
    outline (the ``pending`` class), never the filled ✓ of a clearance."""
    return Badge("◇", f"PENDING: recommends {short_phase(protocol, phase_id)}, awaiting "
                      f"sign-off", "pending")


def superseded_badge(superseded_by: str | None) -> Badge:
    return Badge("⟲", "superseded by a correction: never to be signed", "superseded")


def signoff_badge(signoff: Signoff | None, protocol: Protocol,
                  superseded: bool = False) -> Badge:
    if signoff is None:
        if superseded:
            return superseded_badge(None)
        return Badge("◇", "awaiting sign-off", "pending")
    if signoff.action == "accept":
        return Badge("✓", f"accepted by {signoff.clinician}", "ok")
    return Badge("⚠", f"overridden to {short_phase(protocol, signoff.signed_phase)} by "
                      f"{signoff.clinician}", "warn")


def entry_status(entry: AssessmentEntry, protocol: Protocol,
                 decision_of: Mapping[str, str] | None = None) -> EntryStatus:
    """The decision's status as the timeline and the log show it.

    ``decision_of`` maps assessment ids to their decision ids, to link a superseded
    decision to the correction's."""
    decision, signoff = entry.decision, entry.signoff
    recommended = short_phase(protocol, decision.phase.id)
    lowered = None
    if decision.criteria_phase.number != decision.phase.number:
        lowered = f"criteria allowed {short_phase(protocol, decision.criteria_phase.id)}"
    later = None
    if entry.superseded_by is not None:
        later = (decision_of or {}).get(entry.superseded_by)
    if signoff is None:
        if entry.superseded_by is not None:
            return EntryStatus(
                state="superseded", phase=None,
                qualifier=f"recommended {recommended}; superseded by a correction before "
                          f"sign-off", sprint=None, play=None,
                signoff=signoff_badge(None, protocol, superseded=True),
                recommended=recommended, lowered=lowered, superseded_by=later)
        return EntryStatus(
            state="pending", phase=None,
            qualifier=f"recommended {recommended}; not in force until signed off",
            sprint=None, play=None, signoff=signoff_badge(None, protocol),
            recommended=recommended, lowered=lowered,
            pending=pending_badge(protocol, decision.phase.id))
    sprint, play = clearance_of(protocol, signoff.signed_phase)
    if signoff.action == "accept":
        qualifier = "signed off: recommendation accepted"
    else:
        qualifier = f"signed off: overridden (recommended {recommended})"
    if entry.superseded_by is not None:
        return EntryStatus(state="superseded", phase=short_phase(protocol, signoff.signed_phase),
                           qualifier=f"{qualifier}; superseded by a correction: no longer in "
                                     f"force", sprint=None, play=None,
                           signoff=signoff_badge(signoff, protocol), recommended=recommended,
                           lowered=lowered, superseded_by=later)
    return EntryStatus(state="signed",
                       phase=short_phase(protocol, signoff.signed_phase), qualifier=qualifier,
                       sprint=cleared_badge(sprint, "sprint"), play=cleared_badge(play, "play"),
                       signoff=signoff_badge(signoff, protocol), recommended=recommended,
                       lowered=lowered, superseded_by=later)


# ---- the phase in force: the last signed phase of an injury episode ---------------


class SignedOff(TypingProtocol):
    """What the status in force reads of a sign-off (a ``Signoff``, or the squad board's)."""

    @property
    def action(self) -> str: ...
    @property
    def clinician(self) -> str: ...
    @property
    def signed_phase(self) -> str: ...


class _Phase(TypingProtocol):
    @property
    def id(self) -> str: ...


class _Decided(TypingProtocol):
    @property
    def id(self) -> str: ...
    @property
    def phase(self) -> _Phase: ...


class EpisodeEntry(TypingProtocol):
    """What the status in force reads of an entry (an ``AssessmentEntry``, or the squad
    board's lighter ``api.store.squad.BoardEntry``)."""

    @property
    def assessment_date(self) -> str: ...
    @property
    def superseded_by(self) -> str | None: ...
    @property
    def decision(self) -> _Decided: ...
    @property
    def signoff(self) -> SignedOff | None: ...


@dataclass(frozen=True, slots=True)
class InForce:
    """The status in force for an injury episode: its last signed phase, and the
    recommendation awaiting sign-off after it, if any (style rule 13)."""

    phase: str | None
    """``3 · run``: the phase of the latest sign-off of a current (not corrected)
    assessment; ``None`` when nothing is signed (then nothing is cleared)."""
    label: str
    """``Signed phase 3 · run`` or ``No phase signed yet``."""
    phase_number: int | None
    sprint: Badge
    play: Badge
    signed: SignedOff | None
    signed_decision: str | None
    signed_date: str | None
    """The assessment date of the signed decision."""
    pending: Badge | None
    pending_decision: str | None
    pending_date: str | None


def in_force(entries: Sequence[EpisodeEntry], protocol: Protocol) -> InForce:
    """The phase in force from an episode's entries (in assessment-date order).

    A sign-off of an assessment that a correction superseded no longer stands: its
    correction needs its own. A recommendation is pending when it is the latest
    current entry and unsigned."""
    current = [e for e in entries if e.superseded_by is None]
    signed = [e for e in current if e.signoff is not None]
    last = signed[-1] if signed else None
    pending_entry = current[-1] if current and current[-1].signoff is None else None
    if last is not None and last.signoff is not None:
        phase_id = last.signoff.signed_phase
        sprint, play = clearance_of(protocol, phase_id)
        phase: str | None = short_phase(protocol, phase_id)
        label = f"Signed phase {phase}"
        number: int | None = protocol.phase_by_id[phase_id].number
    else:
        sprint = play = False
        phase, label, number = None, "No phase signed yet", None
    return InForce(
        phase=phase, label=label, phase_number=number,
        sprint=cleared_badge(sprint, "sprint"), play=cleared_badge(play, "play"),
        signed=last.signoff if last else None,
        signed_decision=last.decision.id if last else None,
        signed_date=last.assessment_date if last else None,
        pending=pending_badge(protocol, pending_entry.decision.phase.id) if pending_entry
        else None,
        pending_decision=pending_entry.decision.id if pending_entry else None,
        pending_date=pending_entry.assessment_date if pending_entry else None)


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


def injury_text(injury: Injury | BoardInjury) -> str:
    muscle = (injury.muscle or "").replace("_", " ")
    grade = f"BAMIC {injury.bamic_grade}" if injury.bamic_grade else "grade not given"
    return " · ".join(x for x in (f"{injury.side} {injury.region}", muscle, grade) if x)


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
