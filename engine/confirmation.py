"""What a sign-off asks the clinician to confirm: one definition for the page and the API.

Protocol section 8 (sign-off): the clinician acknowledges the decision's red flags,
holds and cautions; an **override to a phase above the recommendation** also needs an
explicit second confirmation naming what it clears (issue 10, item 4). The decision
page's confirmation step (``api.web.decisions``) lists these and asks for a tick whose
value is the signed phase id; ``POST /v1/decisions/{id}/signoff`` asks for the same
thing as the field ``confirm_above`` (:func:`confirm_above_problems`).

It reads the protocol (clearances by phase, activities' first phases, the caps a
decision's holds and red flags set), so it lives in the engine; the service's page and
route only show and enforce it. Everything here is pure: a decision, the protocol and
the sign-off's fields in, plain values out::

    confirmation(decision, protocol, "override", "sprint", "Flare settled")
    # → Confirmation(above=True, clears=("clears the athlete to sprint",
    #                "sets aside red flag R3 (caps the phase at 3 · run)"),
    #                statement="I sign 4 · sprint — …, above the recommended 3 · run — …: …")
    confirm_above_problems(decision, protocol, "override", "sprint", None)
    # → [Problem("confirm_above", "required", "an override above the recommendation …")]
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.decision import Decision
from rules.errors import Problem
from rules.protocol import Protocol

__all__ = ["Acknowledgement", "Confirmation", "confirm_above_problems", "confirmation",
           "phase_label", "short_phase"]


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


@dataclass(frozen=True)
class Acknowledgement:
    """A red flag, hold or caution the clinician acknowledges before the sign-off counts."""

    id: str
    kind: str
    symbol: str
    name: str
    message: str


@dataclass(frozen=True)
class Confirmation:
    """The second step of a sign-off: what will be signed, and what must be acknowledged."""

    action: str
    phase_id: str
    phase: str
    recommended: str
    reason: str | None
    items: tuple[Acknowledgement, ...]
    above: bool
    """An override above the recommendation: it needs an explicit second confirmation."""
    clears: tuple[str, ...]
    """What an override above clears, in words (clearances, activities, caps set aside)."""
    statement: str
    """The sentence the clinician confirms for an override above."""


def confirmation(decision: Decision, protocol: Protocol, action: str, phase_id: str,
                 reason: str | None) -> Confirmation:
    """What the confirmation step lists for signing ``phase_id`` (section 8: the decision's
    red flags, holds and cautions, in that order; for an override above the recommendation,
    the clearances it grants, the activities it allows and the caps it sets aside).
    ``phase_id`` must be one of ``protocol``'s phases (``KeyError`` otherwise)."""
    items: list[Acknowledgement] = []
    seen: set[str] = set()
    for kind, symbol, group in (("Red flag", "!", decision.red_flags),
                                ("Hold", "■", decision.holds),
                                ("Caution", "⚠", decision.cautions)):
        for item in group:
            if item.id not in seen:
                seen.add(item.id)
                items.append(Acknowledgement(item.id, kind, symbol, item.name, item.message))
    signed = protocol.phase_by_id[phase_id].number
    recommended = decision.phase.number
    clears: list[str] = []
    above = action == "override" and signed > recommended
    if above:
        was = protocol.clearance(recommended)
        now = protocol.clearance(signed)
        for what, before, after in (("sprint", was[0], now[0]), ("play", was[1], now[1])):
            if after and not before:
                clears.append(f"clears the athlete to {what}")
        allowed = [protocol.activity_by_id[a].name if a in protocol.activity_by_id else a
                   for a in decision.restricted_activities
                   if a in protocol.activity_by_id and protocol.phase_by_id[
                       protocol.activity_by_id[a].from_phase].number <= signed]
        if allowed:
            clears.append("allows " + ", ".join(allowed))
        for held in decision.held_by:
            cap = protocol.phase_by_id.get(held.cap)
            if cap is not None and cap.number < signed:
                clears.append(f"sets aside {held.id} ({held.kind.replace('_', ' ')}, caps the "
                              f"phase at {short_phase(protocol, held.cap)})")
        for flag in decision.red_flags:
            if flag.cap.number < signed and flag.id not in {h.id for h in decision.held_by}:
                clears.append(f"sets aside red flag {flag.id} (caps the phase at "
                              f"{short_phase(protocol, flag.cap.id)})")
    label = phase_label(protocol, phase_id)
    statement = (f"I sign {label}, above the recommended "
                 f"{phase_label(protocol, decision.phase.id)}: this "
                 + ("; ".join(clears) if clears else "raises the phase") + ".")
    return Confirmation(action=action, phase_id=phase_id, phase=label,
                        recommended=phase_label(protocol, decision.phase.id),
                        reason=reason, items=tuple(items), above=above, clears=tuple(clears),
                        statement=statement)


def confirm_above_problems(decision: Decision, protocol: Protocol, action: str,
                           phase: str | None, confirm_above: str | None) -> list[Problem]:
    """The API's second confirmation (field ``confirm_above``): an override to a phase above
    the recommendation must name the signed phase's id there, and the problem says what the
    override clears when it does not; a ``confirm_above`` that names another phase than the
    one signed is refused whatever the direction. Nothing when ``phase`` is not a phase of
    ``protocol`` (the body's own check names that)."""
    signed = decision.phase.id if action == "accept" else phase
    if signed is None or signed not in protocol.phase_by_id:
        return []
    confirm = confirmation(decision, protocol, action, signed, None)
    if confirm_above is not None and confirm_above != signed:
        return [Problem("confirm_above", "confirmation",
                        f"must be the signed phase's id ({signed!r}) to confirm it (got "
                        f"{confirm_above[:20]!r})")]
    if confirm.above and confirm_above is None:
        return [Problem("confirm_above", "required",
                        f"an override above the recommendation needs its own confirmation: "
                        f"set confirm_above to {signed!r} to confirm \"{confirm.statement}\"")]
    return []
