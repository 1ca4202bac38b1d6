"""The readable summary of a decision, as ``sprintclear evaluate`` prints it.

Rendered from the decision's data only; every sentence in it (what a
criterion needs, a red flag's message and effect) comes from the decision, so
the terminal says what the web page and the PDF say.
"""

from __future__ import annotations

import re
import textwrap

from engine.decision import Decision

_STATUS_MARK = {"met": "✓", "unmet": "✗", "not_assessed": "?", "not_applicable": "–"}
_WIDTH = 100
_LABEL = 12


_GLUE = str.maketrans({" ": "\u00a0"})


def _fill(text: str, first: str, rest: str) -> str:
    """Wrap, never between a number and its unit or an operator and its number."""
    glued = re.sub(r"(?<=\d) (?=%|N\b|cm\b|m/s|days\b|reps\b)|(?<=[≥≤<>=]) ",
                   lambda match: match.group(0).translate(_GLUE), text)
    wrapped = textwrap.fill(glued, width=_WIDTH, initial_indent=first, subsequent_indent=rest,
                            break_on_hyphens=False)
    return wrapped.replace("\u00a0", " ")


def _line(label: str, text: str) -> str:
    indent = " " * (_LABEL + 1)
    return f"{label:<{_LABEL}} " + _fill(text, indent, indent)[len(indent):]


def _item(mark: str, text: str) -> str:
    indent = " " * (_LABEL + 1)
    return _fill(text, f"{indent}{mark} ", indent + "  ")


def _yes(flag: bool) -> str:
    return "YES" if flag else "NO"


def render_summary(decision: Decision, source: str | None = None) -> str:
    """A decision as a block of text for a terminal.

    What holds the athlete back comes before the next gate's criteria: the red flags
    and holds that keep the phase below what the criteria allow (``held_by``, each with
    what ends it), then the criteria of the next gate (protocol.md section 8).
    """
    lines: list[str] = []
    if source:
        lines.append(f"== {source}")
    athlete = decision.athlete
    who = " · ".join(x for x in (athlete.id, athlete.name) if x)
    sport = ", ".join(x for x in (athlete.sport, athlete.position) if x)
    lines.append(_line("Athlete", who + (f" · {sport}" if sport else "")))
    injury = decision.injury
    what = ", ".join(x for x in (injury.region, (injury.muscle or "").replace("_", " "),
                                 injury.side) if x)
    grade = f" · BAMIC {injury.bamic_grade}" if injury.bamic_grade else " · grade not given"
    lines.append(_line("Injury", f"{what}{grade} · {injury.date} "
                                 f"(day {injury.days_since_injury}) · sprint floor day "
                                 f"{injury.sprint_day_floor}, play floor day "
                                 f"{injury.play_day_floor}"))
    if injury.physician_review:
        review = injury.physician_review
        by = f" by {review['by']}" if review.get("by") else ""
        lines.append(_line("Review", f"{review['date']}{by}: {review['management']} "
                                     "management"))
    assessment = decision.assessment
    by = f" by {assessment.assessor}" if assessment.assessor else ""
    lines.append(_line("Assessment", f"{assessment.date}{by} · profile {assessment.profile} "
                                     f"(exercise pain limit {assessment.exercise_pain_limit}/10)"))
    previous = decision.previous
    lines.append(_line("Signed", f"{previous.phase} (assessment of {previous.date}): this "
                                 "decision starts from it" if previous.phase else
                                 "no signed phase on record for this injury"))
    phase, criteria_phase = decision.phase, decision.criteria_phase
    lowered = "" if phase.number == criteria_phase.number else (
        f"   (held below {criteria_phase.number} {criteria_phase.id} by "
        + ", ".join(h.id for h in decision.held_by) + ")")
    lines.append(_line("Phase", f"{phase.number} {phase.id} — {phase.name}{lowered}"))
    lines.append(_line("Cleared", f"to sprint: {_yes(decision.cleared_to_sprint)} · "
                                  f"to play: {_yes(decision.cleared_to_play)}"))
    if decision.held_by:
        lines.append(_line("Held by", f"{len(decision.held_by)} (what ends each)"))
        for step in decision.next_steps:
            if step.kind != "criterion":
                lines.append(_item("!" if step.kind == "red_flag" else "■", step.text))

    gate = decision.next_gate
    if gate is None:
        lines.append(_line("Next gate", "none: every gate is passed"))
    else:
        lines.append(_line("Next gate", f"{gate.id} {gate.from_phase} → {gate.to_phase}: "
                                        f"{len(gate.not_passed)} of {len(gate.criteria)} "
                                        "criteria not passed"))
        for blocking in decision.blocking_details:
            lines.append(_item(_STATUS_MARK[blocking.status], blocking.needs))
    if decision.carried_forward:
        lines.append(_line("Carried", ", ".join(decision.carried_forward)
                           + f" (not assessed today; passed below the signed phase "
                             f"{previous.phase})"))
    if decision.missing_screening:
        lines.append(_line("Screening", "not recorded: " + ", ".join(
            f"{m.field} (needed from {m.from_phase})" for m in decision.missing_screening)))
    if decision.red_flags:
        lines.append(_line("Red flags", f"{len(decision.red_flags)}"))
        for flag in decision.red_flags:
            lines.append(_item("!", f"{flag.id} {flag.message} Found: {flag.because}. "
                                   f"Effect: {flag.effect}."))
    else:
        lines.append(_line("Red flags", "none"))
    for unchecked in decision.safety_not_checked:
        lines.append(_line("Not checked", f"{unchecked.id} {unchecked.name}: "
                                          f"{', '.join(unchecked.missing)} not assessed"))
    if decision.holds:
        lines.append(_line("Holds", f"{len(decision.holds)}"))
        for hold in decision.holds:
            lines.append(_item("■", f"{hold.id} {hold.message} Effect: {hold.effect}. "
                                   f"Ends: {hold.ends}."))
    if decision.cautions:
        lines.append(_line("Cautions", f"{len(decision.cautions)}"))
        for caution in decision.cautions:
            lines.append(_item("•", f"{caution.id} {caution.message} Found: {caution.because}."))
    else:
        lines.append(_line("Cautions", "none"))
    lines.append(_line("Plan", _plan_text(decision)))
    lines.append(_line("Allowed", ", ".join(decision.allowed_activities)))
    lines.append(_line("Not yet", ", ".join(decision.restricted_activities) or "—"))
    if decision.maintenance:
        lines.append(_line("Maintenance", " ".join(decision.maintenance)))
    if decision.plan is not None and decision.plan.retests:
        lines.append(_line("Re-tests", ", ".join(decision.plan.retests)
                           + (f" · {decision.plan.surveillance}"
                              if decision.plan.surveillance else "")))
    rulebase = decision.rulebase
    lines.append(_line("Rule base", f"{rulebase.version[:12]} (protocol {rulebase.protocol} "
                                    f"{rulebase.protocol_version}) · decision "
                                    f"{decision.decision_id}"))
    return "\n".join(lines)


_BASIS_WORDS = {"phase": "the phase's ceiling", "measured": "measured pain-free velocity",
                "self_rated": "self-rated pain-free speed"}


def _plan_text(decision: Decision) -> str:
    """``running up to 90.0 % of max (the phase's ceiling), 8.6 m/s · …``."""
    plan = decision.plan
    if plan is None:
        return "none (decided under protocol 2026.1)"
    if plan.max_velocity_pct == 0:
        running = "no running"
    else:
        running = (f"running up to {plan.max_velocity_pct:.1f} % of max "
                   f"({_BASIS_WORDS[plan.basis]})")
        if plan.max_velocity_mps is not None:
            running += f", {plan.max_velocity_mps:.1f} m/s"
    return f"{running} · {plan.volume.note} · re-assess by {plan.reassess_by}"
