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
    """A decision as a block of text for a terminal."""
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
                                 f"(day {injury.days_since_injury})"))
    assessment = decision.assessment
    by = f" by {assessment.assessor}" if assessment.assessor else ""
    lines.append(_line("Assessment", f"{assessment.date}{by} · profile {assessment.profile} "
                                     f"(exercise pain limit {assessment.exercise_pain_limit}/10)"))
    phase, criteria_phase = decision.phase, decision.criteria_phase
    lowered = "" if phase.number == criteria_phase.number else \
        f"   (lowered by safety rules from {criteria_phase.number} {criteria_phase.id})"
    lines.append(_line("Phase", f"{phase.number} {phase.id} — {phase.name}{lowered}"))
    lines.append(_line("Cleared", f"to sprint: {_yes(decision.cleared_to_sprint)} · "
                                  f"to play: {_yes(decision.cleared_to_play)}"))

    gate = decision.next_gate
    if gate is None:
        lines.append(_line("Next gate", "none: every gate is passed"))
    else:
        lines.append(_line("Next gate", f"{gate.id} {gate.from_phase} → {gate.to_phase}: "
                                        f"{len(gate.not_passed)} of {len(gate.criteria)} "
                                        "criteria not passed"))
        for blocking in decision.blocking_details:
            lines.append(_item(_STATUS_MARK[blocking.status], blocking.needs))
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
    if decision.cautions:
        lines.append(_line("Cautions", f"{len(decision.cautions)}"))
        for caution in decision.cautions:
            lines.append(_item("•", f"{caution.id} {caution.message} Found: {caution.because}."))
    else:
        lines.append(_line("Cautions", "none"))
    lines.append(_line("Allowed", ", ".join(decision.allowed_activities)))
    lines.append(_line("Not yet", ", ".join(decision.restricted_activities) or "—"))
    if decision.maintenance:
        lines.append(_line("Maintenance", " ".join(decision.maintenance)))
    rulebase = decision.rulebase
    lines.append(_line("Rule base", f"{rulebase.version[:12]} (protocol {rulebase.protocol} "
                                    f"{rulebase.protocol_version}) · decision "
                                    f"{decision.decision_id}"))
    return "\n".join(lines)
