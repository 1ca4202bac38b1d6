"""What the report shows, computed from the decision: the template only lays it out.

Every sentence about the clinical logic (what a criterion needs, a red flag's
message and effect, a caution, a threshold) is taken from the decision as it
is; this module only picks, groups and labels. It adds no clinical judgement:
a status word and symbol are a lookup of the decision's status, the key
measures are the decision's own percentages, and the earlier decisions are
only checked to be of the same athlete and injury.

The three claims of the decision banner (:func:`banner_claims`) are also what
verification looks for in the text of a signed report's first page, so what a
reader sees on the page is checked against the embedded decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.decision import CriterionFinding, Decision, PartFinding
from rules.dictionary import PHASE_IDS
from rules.loading import default_protocol
from rules.protocol import OPERATOR_SYMBOLS, PERCENT_MEASURES, Protocol, allowed_at

__all__ = [
    "PHASE_COUNT",
    "KeyMeasure",
    "ReportView",
    "StatusInForce",
    "activity_groups",
    "banner_claims",
    "build_view",
    "history_problems",
    "key_measures",
    "ordered_history",
    "page_one_claims",
    "page_one_contradictions",
    "signoff_problems",
    "status_in_force",
    "status_subject",
    "status_title",
]

PHASE_COUNT = 6
"""The protocol's six phases (protect … play); a clinic's protocol keeps them."""

# status → (symbol, word, css class); the symbol and the word are always shown together.
STATUS_DISPLAY: Mapping[str, tuple[str, str, str]] = {
    "met": ("✓", "met", "met"),
    "unmet": ("✗", "not met", "unmet"),
    "not_assessed": ("?", "not assessed", "missing"),
    "not_applicable": ("–", "not applicable", "na"),
    "carried_forward": ("✓", "carried forward", "met"),
}
CAUTION_EFFECT = "does not lower the phase; the clinician must look at it"
"""What every caution does, as the protocol and the README say it."""
PART_DISPLAY: Mapping[str, tuple[str, str]] = {
    "passed": ("✓", "met"),
    "failed": ("✗", "not met"),
    "not_assessed": ("?", "not assessed"),
}


# ---- the claims of the banner ----------------------------------------------------


def phase_claim(decision: Decision) -> str:
    return f"Phase {decision.phase.number} of {PHASE_COUNT} · {decision.phase.name}"


def clearance_claim(cleared: bool, what: str) -> str:
    return f"✓ CLEARED to {what}" if cleared else f"✗ NOT CLEARED to {what}"


def banner_claims(decision: Decision) -> tuple[str, str, str]:
    """The banner's phase line and its two clearance lines, exactly as printed."""
    return (phase_claim(decision), clearance_claim(decision.cleared_to_sprint, "sprint"),
            clearance_claim(decision.cleared_to_play, "play"))


def contradicting_claims(decision: Decision) -> tuple[str, str]:
    """The clearance lines a report of this decision must never show."""
    return (clearance_claim(not decision.cleared_to_sprint, "sprint"),
            clearance_claim(not decision.cleared_to_play, "play"))


# ---- the clinician's sign-off ------------------------------------------------------


def signoff_problems(decision: Decision, signoff: Any) -> list[str]:
    """What makes a sign-off unprintable with this decision (empty when it is fine)."""
    problems = []
    if signoff.action not in ("accept", "override"):
        problems.append(f"action: must be accept or override (got {signoff.action!r})")
    if signoff.signed_phase not in PHASE_IDS:
        problems.append(f"signed_phase: must be one of {', '.join(PHASE_IDS)} "
                        f"(got {signoff.signed_phase!r})")
    if signoff.action == "accept" and signoff.signed_phase != decision.phase.id:
        problems.append(f"signed_phase: accepting signs the recommended phase "
                        f"({decision.phase.id}), not {signoff.signed_phase}")
    reason = (signoff.reason or "").strip()
    if signoff.action == "override" and not reason:
        problems.append("reason: an override needs a reason")
    if not " ".join(str(signoff.clinician).split()):
        problems.append("clinician: the clinician's name is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in f"{signoff.clinician}{signoff.reason or ''}"
           if c != "\n"):
        problems.append("clinician, reason: control characters cannot be printed")
    if signoff.signed_at.tzinfo is None or signoff.signed_at.utcoffset() is None:
        problems.append("signed_at: must be timezone-aware (UTC)")
    return problems


def _signed_clearance(signed_phase: str) -> tuple[bool, bool]:
    return default_protocol().clearance(PHASE_IDS.index(signed_phase) + 1)


def _phase_name(phase_id: str) -> str:
    phase = default_protocol().phase_by_id.get(phase_id)
    return phase.name if phase is not None else phase_id


def signoff_heading(signoff: Mapping[str, Any]) -> str:
    """``✓ ACCEPTED by Dr. X`` / ``⚠ OVERRIDDEN by Dr. X``: who signed off, and how."""
    mark, word = ("✓", "ACCEPTED") if signoff["action"] == "accept" else ("⚠", "OVERRIDDEN")
    return f"{mark} {word} by {signoff['clinician']}"


def _signoff_when(signoff: Mapping[str, Any]) -> str:
    return str(signoff["signed_at"]).replace("T", " ").replace("Z", " UTC")


# ---- the status in force: what leads wherever a decision is shown ----------------

NOT_SIGNED_OFF = "Recommendation — not signed off"
"""The first words of an unsigned report's banner, its metadata and every summary of it."""
IN_FORCE_LABEL = "In force: the clinician's sign-off"
SIGNED_PREFIX = "Signed: "


def _clearance_words(sprint: bool, play: bool) -> str:
    """``NOT cleared to sprint, NOT cleared to play``: the in-force clearances in words."""
    return (f"{'cleared' if sprint else 'NOT cleared'} to sprint, "
            f"{'cleared' if play else 'NOT cleared'} to play")


def _recommended_words(sprint: bool, play: bool) -> str:
    """``cleared to sprint NO, to play NO``: a recommendation's clearances, never ✓/✗ boxes."""
    return f"cleared to sprint {'YES' if sprint else 'NO'}, to play {'YES' if play else 'NO'}"


@dataclass(frozen=True)
class StatusInForce:
    """What is in force for a decision: the clinician's signed phase, or a pending recommendation.

    Shapes: ``phase_line`` is the banner's first, biggest line (``Signed: Phase 2
    of 6 · Loading`` or, unsigned, the recommendation's ``Phase 3 of 6 ·
    Progressive running``); ``sprint_claim``/``play_claim`` the two clearance
    boxes (``✗ NOT CLEARED to sprint``); ``summary`` one line for the PDF's
    Subject, ``verify`` and the commands (guide: "what is in force comes first").
    """

    signed: bool
    label: str
    phase_line: str
    phase_id: str
    cleared_to_sprint: bool
    cleared_to_play: bool
    sprint_claim: str
    play_claim: str
    signoff_heading: str | None
    signoff_when: str | None
    reason: str | None
    overridden: bool
    summary: str
    """``Signed: phase 2 load — NOT cleared to sprint, NOT cleared to play (override by
    Dr. X on 2026-03-10 14:20:00 UTC)`` or ``Recommendation — not signed off: phase 3
    run — NOT cleared to sprint, NOT cleared to play``."""
    recommendation: str
    """The rule base's recommendation, labelled as such: ``recommendation of the rule
    base: phase 3 run — cleared to sprint NO, to play NO`` (``(overridden)`` after an
    override)."""
    recommendation_heading: str | None
    """Under a sign-off: ``Recommendation of the rule base: Phase 3 of 6 · Progressive
    running`` (the smaller block under the banner)."""
    recommendation_clearance: str | None
    """Under a sign-off: ``recommended: cleared to sprint NO, to play NO``."""


def status_in_force(decision: Decision, signoff: Mapping[str, Any] | None) -> StatusInForce:
    """The status in force of a decision with (or without) its recorded sign-off."""
    phase = decision.phase
    recommended = _recommended_words(decision.cleared_to_sprint, decision.cleared_to_play)
    if signoff is None:
        sprint, play = decision.cleared_to_sprint, decision.cleared_to_play
        return StatusInForce(
            signed=False, label=NOT_SIGNED_OFF, phase_line=phase_claim(decision),
            phase_id=phase.id, cleared_to_sprint=sprint, cleared_to_play=play,
            sprint_claim=clearance_claim(sprint, "sprint"),
            play_claim=clearance_claim(play, "play"),
            signoff_heading=None, signoff_when=None, reason=None, overridden=False,
            summary=(f"{NOT_SIGNED_OFF}: phase {phase.number} {phase.id} — "
                     f"{_clearance_words(sprint, play)}"),
            recommendation=(f"recommendation of the rule base: phase {phase.number} "
                            f"{phase.id} — {recommended} (not signed off)"),
            recommendation_heading=None, recommendation_clearance=None)
    signed = str(signoff["signed_phase"])
    number = PHASE_IDS.index(signed) + 1
    sprint, play = _signed_clearance(signed)
    overridden = signoff["action"] == "override"
    how = "override" if overridden else "accepted"
    when = _signoff_when(signoff)
    return StatusInForce(
        signed=True, label=IN_FORCE_LABEL,
        phase_line=f"{SIGNED_PREFIX}Phase {number} of {PHASE_COUNT} · {_phase_name(signed)}",
        phase_id=signed, cleared_to_sprint=sprint, cleared_to_play=play,
        sprint_claim=clearance_claim(sprint, "sprint"),
        play_claim=clearance_claim(play, "play"),
        signoff_heading=signoff_heading(signoff), signoff_when=when,
        reason=signoff.get("reason"), overridden=overridden,
        summary=(f"{SIGNED_PREFIX}phase {number} {signed} — {_clearance_words(sprint, play)} "
                 f"({how} by {signoff['clinician']} on {when})"),
        recommendation=(f"recommendation of the rule base: phase {phase.number} {phase.id} — "
                        f"{recommended}{' (overridden)' if overridden else ''}"),
        recommendation_heading=f"Recommendation of the rule base: {phase_claim(decision)}",
        recommendation_clearance=f"recommended: {recommended}")


def status_title(decision: Decision, signoff: Mapping[str, Any] | None) -> str:
    """The PDF's Title: the status in force, then what the document is and whose."""
    status = status_in_force(decision, signoff)
    lead = status.summary.split(" (", 1)[0]
    return f"{lead} · clearance report {decision.athlete.id}"


def status_subject(decision: Decision, signoff: Mapping[str, Any] | None) -> str:
    """The PDF's Subject: the status in force in full, then the recommendation, labelled."""
    status = status_in_force(decision, signoff)
    if not status.signed:
        return status.summary
    return f"{status.summary}; {status.recommendation}"


def page_one_claims(decision: Decision, signoff: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What the first page of a report must print (checked by verification)."""
    status = status_in_force(decision, signoff)
    claims = [status.label, status.phase_line, status.sprint_claim, status.play_claim]
    if status.signed:
        assert status.signoff_heading and status.recommendation_heading
        assert status.recommendation_clearance
        claims += [status.signoff_heading, status.recommendation_heading,
                   status.recommendation_clearance]
    return tuple(claims)


def page_one_contradictions(decision: Decision,
                            signoff: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What the first page of a report must never print: the opposite of each claim."""
    status = status_in_force(decision, signoff)
    opposite = [clearance_claim(not status.cleared_to_sprint, "sprint"),
                clearance_claim(not status.cleared_to_play, "play")]
    if status.signed:
        opposite += [NOT_SIGNED_OFF, "recommended: " + _recommended_words(
            not decision.cleared_to_sprint, decision.cleared_to_play), "recommended: " +
            _recommended_words(decision.cleared_to_sprint, not decision.cleared_to_play)]
    else:
        opposite += [IN_FORCE_LABEL, SIGNED_PREFIX + "Phase"]
    return tuple(opposite)


# ---- key measures: the decision's percentages, by test --------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    criteria: tuple[str, ...]
    value: float
    text: str
    outcomes: tuple[str, ...]
    """One outcome per criterion (``passed``, ``failed``, ``not_assessed``)."""


@dataclass(frozen=True, slots=True)
class KeyMeasure:
    """One percentage the decision computed (an LSI, an asymmetry, a speed) and its thresholds."""

    key: str
    label: str
    group: str
    """``symmetry`` (LSI, higher is better), ``difference`` (side-to-side, lower is
    better) or ``speed`` (running and sprint speed, higher is better)."""
    value: float | None
    value_text: str
    higher_is_better: bool
    thresholds: tuple[Threshold, ...]


_GROUP_ORDER = {"symmetry": 0, "difference": 1, "speed": 2}


def _is_percentage(part: PartFinding) -> bool:
    if part.measure in PERCENT_MEASURES or part.measure == "first_of":
        return True
    return part.measure == "value" and part.threshold_text.endswith(" %")


def _group(part: PartFinding) -> str:
    if part.measure == "lsi":
        return "symmetry"
    if part.op in ("<", "<="):
        return "difference"
    return "speed"


def key_measures(decision: Decision) -> list[KeyMeasure]:
    """Every percentage of the applicable criteria, one entry per test, thresholds merged."""
    found: dict[str, dict[str, Any]] = {}
    for criterion in decision.criteria:
        if criterion.status == "not_applicable":
            continue
        for part in criterion.parts:
            if not _is_percentage(part) or not isinstance(part.threshold, int | float):
                continue
            key = f"{part.measure}:{part.label}"
            entry = found.setdefault(key, {
                "label": part.label, "group": _group(part),
                "value": None if part.outcome == "not_assessed" else part.value,
                "value_text": part.value_text, "higher": part.op in (">", ">="),
                "thresholds": {},
            })
            symbol = OPERATOR_SYMBOLS.get(part.op, part.op)
            threshold_key = (float(part.threshold), symbol)
            criteria, outcomes, text = entry["thresholds"].get(
                threshold_key, ((), (), part.threshold_text))
            entry["thresholds"][threshold_key] = (
                (*criteria, criterion.id), (*outcomes, part.outcome), text)
    measures = []
    for key, entry in found.items():
        value = entry["value"]
        thresholds = tuple(
            Threshold(criteria=criteria, value=number, text=text, outcomes=outcomes)
            for (number, _), (criteria, outcomes, text) in sorted(entry["thresholds"].items()))
        measures.append(KeyMeasure(
            key=key, label=entry["label"], group=entry["group"],
            value=float(value) if isinstance(value, int | float) else None,
            value_text=entry["value_text"], higher_is_better=entry["higher"],
            thresholds=thresholds))
    order = {key: index for index, key in enumerate(found)}
    measures.sort(key=lambda m: (_GROUP_ORDER[m.group], order[m.key]))
    return measures


# ---- earlier decisions of the same injury ---------------------------------------


def history_problems(decision: Decision, history: Sequence[Decision]) -> list[str]:
    """Why earlier decisions cannot be shown with this one (empty when they can)."""
    problems = []
    seen: set[str] = set()
    athlete, injury = decision.athlete, decision.injury
    for earlier in history:
        where = f"earlier decision {earlier.decision_id} (assessment {earlier.assessment.date})"
        if earlier.athlete.id != athlete.id:
            problems.append(f"{where} is of athlete {earlier.athlete.id}, "
                            f"not {athlete.id}")
        mismatched = [
            f"{name} {theirs} (this report: {ours})"
            for name, theirs, ours in (
                ("region", earlier.injury.region, injury.region),
                ("side", earlier.injury.side, injury.side),
                ("injury date", earlier.injury.date, injury.date),
                ("muscle", earlier.injury.muscle, injury.muscle))
            if theirs != ours and not (name == "muscle" and (theirs is None or ours is None))
        ]
        if mismatched:
            problems.append(f"{where} is of another injury: " + ", ".join(mismatched))
        if earlier.input_sha256 == decision.input_sha256:
            problems.append(f"{where} is the assessment of this report itself")
        elif earlier.assessment.date > decision.assessment.date:
            problems.append(f"{where} is later than this report's assessment "
                            f"({decision.assessment.date})")
        if earlier.input_sha256 in seen:
            problems.append(f"{where} is given more than once")
        seen.add(earlier.input_sha256)
    return problems


def ordered_history(history: Sequence[Decision]) -> list[Decision]:
    return sorted(history, key=lambda d: (d.assessment.date, d.decision_id))


def history_record(history: Sequence[Decision]) -> list[dict[str, Any]]:
    """What the embedded record keeps of each earlier decision: what the trend charts plot."""
    return [
        {
            "decision_id": earlier.decision_id,
            "input_sha256": earlier.input_sha256,
            "assessment_date": earlier.assessment.date,
            "days_since_injury": earlier.injury.days_since_injury,
            "phase": {"number": earlier.phase.number, "id": earlier.phase.id},
            "criteria_phase": {"number": earlier.criteria_phase.number,
                               "id": earlier.criteria_phase.id},
            "cleared_to_sprint": earlier.cleared_to_sprint,
            "cleared_to_play": earlier.cleared_to_play,
            "rulebase_version": earlier.rulebase.version,
            "measures": {m.key: m.value for m in key_measures(earlier)},
        }
        for earlier in ordered_history(history)
    ]


# ---- the view ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    label: str
    value: str
    digest: bool = False
    """A hash or id, printed in a monospaced font."""


@dataclass(frozen=True, slots=True)
class PartRow:
    label: str
    measured: str
    needs: str
    symbol: str
    word: str


@dataclass(frozen=True, slots=True)
class CriterionRow:
    id: str
    name: str
    symbol: str
    word: str
    css: str
    applicable: bool
    region: str
    parts: tuple[PartRow, ...]
    sources: str


@dataclass(frozen=True, slots=True)
class GateSection:
    id: str
    title: str
    passed: bool
    status: str
    rows: tuple[CriterionRow, ...]
    """The criteria that apply to this injury's region."""
    not_applicable: str | None
    """The criteria of the other region, in one line (they count as passed)."""


@dataclass(frozen=True, slots=True)
class Blocking:
    symbol: str
    word: str
    css: str
    needs: str


@dataclass(frozen=True, slots=True)
class SafetyItem:
    id: str
    name: str
    message: str
    found: str
    effect: str
    sources: str


@dataclass(frozen=True, slots=True)
class ActivityGroup:
    """The activities that start at one phase, and whether the decided phase allows them."""

    phase: str
    symbol: str
    word: str
    css: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Citation:
    short: str
    citation: str


@dataclass(frozen=True)
class ReportView:
    title: str
    generated_at: str
    header: tuple[Item, ...]
    phase_claim: str
    phase_id: str
    sprint_claim: str
    play_claim: str
    cleared_to_sprint: bool
    cleared_to_play: bool
    lowered: str | None
    red_flag_line: str
    refer: bool
    next_gate: str
    blocking: tuple[Blocking, ...]
    held_by: tuple[str, ...]
    """Each red flag and hold that keeps the phase below the criteria phase, with what
    ends it: shown before the next gate's criteria."""
    missing_tests: str | None
    carried_forward: str | None
    missing_screening: str | None
    plan: tuple[Item, ...]
    plan_heading: str
    holds: tuple[SafetyItem, ...]
    red_flags: tuple[SafetyItem, ...]
    cautions: tuple[SafetyItem, ...]
    not_checked: tuple[str, ...]
    gates: tuple[GateSection, ...]
    activities: tuple[ActivityGroup, ...]
    maintenance: tuple[str, ...]
    rulebase: tuple[Item, ...]
    references: tuple[Citation, ...]
    record_sha256: str
    footer_left: str
    history_count: int
    measures: tuple[KeyMeasure, ...] = field(default=())
    status: StatusInForce | None = None
    subject: str = ""
    activities_heading: str = "Activities by the phase they start at"
    started_from: str = ""


def _sources(ids: Sequence[str], protocol: Protocol) -> str:
    sources = protocol.source_by_id
    return "; ".join(sources[i].short if i in sources else i for i in ids)


def _pretty(identifier: str | None) -> str:
    return (identifier or "").replace("_", " ")


def _criterion_row(criterion: CriterionFinding, protocol: Protocol) -> CriterionRow:
    symbol, word, css = STATUS_DISPLAY[criterion.status]
    applicable = criterion.status != "not_applicable"
    parts = tuple(
        PartRow(label=part.label, measured=part.value_text, needs=part.threshold_text,
                symbol=PART_DISPLAY[part.outcome][0], word=PART_DISPLAY[part.outcome][1])
        for part in criterion.parts
    ) if applicable else ()
    return CriterionRow(id=criterion.id, name=criterion.name, symbol=symbol, word=word, css=css,
                        applicable=applicable, region=criterion.region, parts=parts,
                        sources=_sources(criterion.sources, protocol))


def activity_groups(decision: Decision, protocol: Protocol, *,
                    at_phase: int | None = None) -> tuple[ActivityGroup, ...]:
    """The injury region's catalogue grouped by the phase each activity starts at, allowed
    or not yet.

    Allowed as the decision says, or, with ``at_phase``, as that phase allows
    (a signed phase that overrides the recommendation). Names come from the
    protocol that decided; an id the protocol does not know is shown as it is.
    """
    allowed_ids = set(decision.allowed_activities)
    catalogue = protocol.activity_by_id
    ids = [*decision.allowed_activities, *decision.restricted_activities]

    def from_phase(activity_id: str) -> str:
        activity = catalogue.get(activity_id)
        return activity.from_phase if activity is not None else "protect"

    def allowed(activity_id: str) -> bool:
        return activity_id in allowed_ids if at_phase is None else allowed_at(
            from_phase(activity_id), at_phase)

    def name(activity_id: str) -> str:
        activity = catalogue.get(activity_id)
        return activity.name if activity is not None else activity_id

    order = {activity.id: index for index, activity in enumerate(protocol.activities)}
    by_phase: dict[str, list[str]] = {}
    for activity_id in sorted(ids, key=lambda a: (PHASE_IDS.index(from_phase(a)),
                                                  order.get(a, len(order)))):
        by_phase.setdefault(from_phase(activity_id), []).append(activity_id)
    groups = []
    for phase_id, starting in by_phase.items():
        if all(allowed(a) for a in starting):
            symbol, word, css, names = "✓", "allowed", "met", [name(a) for a in starting]
        elif not any(allowed(a) for a in starting):
            symbol, word, css, names = "✗", "not yet", "unmet", [name(a) for a in starting]
        else:  # a clinic protocol may mix; then each activity says which it is
            symbol, word, css = "±", "partly", "missing"
            names = [f"{'✓' if allowed(a) else '✗'} {name(a)}" for a in starting]
        groups.append(ActivityGroup(phase=_phase_label(phase_id), symbol=symbol, word=word,
                                    css=css, names=tuple(names)))
    return tuple(groups)


def _phase_label(phase_id: str) -> str:
    """``4 sprint``: the phase number the protocol gives the id, then the id."""
    if phase_id in PHASE_IDS:
        return f"{PHASE_IDS.index(phase_id) + 1} {phase_id}"
    return phase_id


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware (UTC)")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_BASIS_WORDS = {"phase": "the phase's ceiling", "measured": "measured pain-free velocity",
                "self_rated": "self-rated pain-free speed"}


def _plan_items(decision: Decision) -> tuple[Item, ...]:
    plan = decision.plan
    if plan is None:
        return (Item("Plan", "none: decided under protocol 2026.1, which had no plan"),)
    if plan.max_velocity_pct == 0:
        running = "no running"
    else:
        running = (f"up to {plan.max_velocity_pct:.1f} % of max velocity "
                   f"({_BASIS_WORDS.get(plan.basis, plan.basis)})")
        if plan.max_velocity_mps is not None:
            running += f" = {plan.max_velocity_mps:.1f} m/s"
    items = [Item("Running", running), Item("Volume", plan.volume.note),
             Item("Re-assess by", plan.reassess_by)]
    if plan.retests:
        items.append(Item("Re-tests", ", ".join(plan.retests)
                          + (f" · {plan.surveillance}" if plan.surveillance else "")))
    return tuple(items)


def build_view(decision: Decision, *, record_sha256: str, generated_at: dt.datetime,
               history_count: int = 0, signoff: Mapping[str, Any] | None = None,
               protocol: Protocol | None = None) -> ReportView:
    """Everything the template prints, from the decision and the protocol that decided it
    (for names and citations; the default protocol when it is not known)."""
    protocol = protocol or default_protocol()
    athlete, injury, assessment = decision.athlete, decision.injury, decision.assessment
    who = " · ".join(x for x in (athlete.name, athlete.id) if x)
    sport = ", ".join(x for x in (athlete.sport, athlete.position) if x) or "not given"
    what = ", ".join(x for x in (injury.region, _pretty(injury.muscle), f"{injury.side} side")
                     if x)
    grade = f"BAMIC {injury.bamic_grade}" if injury.bamic_grade else "BAMIC grade not given"
    previous = decision.previous
    started_from = (f"{_phase_label(previous.phase)}, signed for the assessment of "
                    f"{previous.date}" if previous.phase and previous.date else
                    _phase_label(previous.phase) if previous.phase else
                    "no signed phase on record")
    floors = ("" if injury.play_day_floor is None else
              f" · floors: sprint day {injury.sprint_day_floor}, play day "
              f"{injury.play_day_floor}")
    header = (
        Item("Athlete", who),
        Item("Sport / position", sport),
        Item("Injury", f"{what} · {grade}"),
        Item("Injury date", f"{injury.date} · day {injury.days_since_injury} since injury"
                            f"{floors}"),
        Item("Assessment", assessment.date),
        Item("Assessor", assessment.assessor or "not given"),
        Item("Profile", f"{assessment.profile} (exercise pain limit "
                        f"{assessment.exercise_pain_limit}/10)"),
        Item("Started from", started_from),
    )
    phase, criteria_phase = decision.phase, decision.criteria_phase
    lowered = None
    if phase.number != criteria_phase.number:
        # a 2026.1 decision recorded no held_by: its red flags below the criteria phase
        held = [h.id for h in decision.held_by] or [
            f.id for f in decision.red_flags if f.cap.number < criteria_phase.number]
        lowered = (f"The criteria allow phase {criteria_phase.number} · {criteria_phase.name}; "
                   f"held at {phase.number} by " + (", ".join(held) or "the safety rules")
                   + ".")
    flags = decision.red_flags
    red_flag_line = ("No red flags" if not flags else
                     f"! {len(flags)} RED FLAG{'S' if len(flags) > 1 else ''}: "
                     + "; ".join(f"{f.id} {f.name}" for f in flags))

    gate = decision.next_gate
    if gate is None:
        next_gate = "Every gate is passed: there is no next phase."
    else:
        next_gate = (f"{gate.id} {gate.name} · {len(gate.not_passed)} of "
                     f"{len(gate.criteria)} criteria not passed")
    blocking = tuple(
        Blocking(symbol=STATUS_DISPLAY[b.status][0], word=STATUS_DISPLAY[b.status][1],
                 css=STATUS_DISPLAY[b.status][2], needs=b.needs)
        for b in decision.blocking_details)
    held_by = tuple(("! " if step.kind == "red_flag" else "■ ") + step.text
                    for step in decision.next_steps if step.kind != "criterion")
    missing_tests = ", ".join(decision.missing_tests) or None
    carried_forward = None
    if decision.carried_forward:
        carried_forward = (", ".join(decision.carried_forward)
                           + f": not assessed today, passed below the signed phase "
                             f"{previous.phase} (carried forward)")
    missing_screening = ", ".join(f"{m.field} (needed from {m.from_phase})"
                                  for m in decision.missing_screening) or None

    red_flags = tuple(SafetyItem(id=f.id, name=f.name, message=f.message, found=f.because,
                                 effect=f.effect, sources=_sources(f.sources, protocol))
                      for f in flags)
    holds = tuple(SafetyItem(id=h.id, name=h.name, message=h.message,
                             found=", ".join(h.missing) or "", effect=f"{h.effect}; ends: "
                             f"{h.ends}", sources=_sources(h.sources, protocol))
                  for h in decision.holds)
    cautions = tuple(SafetyItem(id=c.id, name=c.name, message=c.message, found=c.because,
                                effect=CAUTION_EFFECT, sources=_sources(c.sources, protocol))
                     for c in decision.cautions)
    not_checked = tuple(f"{n.id} {n.name}: not checked, {', '.join(n.missing)} not assessed"
                        for n in decision.safety_not_checked)

    rows = {c.id: _criterion_row(c, protocol) for c in decision.criteria}
    gates = []
    for g in decision.gates:
        members = [rows[cid] for cid in g.criteria if cid in rows]
        others = [row for row in members if not row.applicable]
        gates.append(GateSection(
            id=g.id, title=f"{g.id} · {g.name}", passed=g.passed,
            status="✓ passed" if g.passed else "✗ not passed",
            rows=tuple(row for row in members if row.applicable),
            not_applicable=(f"– not applicable ({others[0].region} criteria): "
                            + ", ".join(row.id for row in others) if others else None)))

    activities = activity_groups(decision, protocol)
    activities_heading = "Activities by the phase they start at"
    if signoff is not None and signoff["action"] == "override":
        signed = signoff["signed_phase"]
        activities = activity_groups(decision, protocol, at_phase=PHASE_IDS.index(signed) + 1)
        activities_heading = (f"Activities at the signed phase {_phase_label(signed)} (the "
                              "clinician's override; the recommendation was "
                              f"{_phase_label(decision.phase.id)})")

    rulebase = decision.rulebase
    rulebase_items = (
        Item("Rule base version", rulebase.version, digest=True),
        Item("Protocol", f"{rulebase.protocol} {rulebase.protocol_version} · "
                         f"{protocol.title}"),
        Item("Protocol SHA-256", rulebase.protocol_sha256, digest=True),
        Item("Decision", f"{decision.decision_id} · decided "
                         f"{decision.evaluated_at or 'without a recorded time'} · "
                         f"sprintclear {rulebase.engine}"),
        Item("Input SHA-256", decision.input_sha256, digest=True),
        Item("Record SHA-256", record_sha256, digest=True),
    )
    cited: dict[str, None] = {}
    for criterion in decision.criteria:
        if criterion.status != "not_applicable":
            cited.update((s, None) for s in criterion.sources)
    for sources in (*(f.sources for f in decision.red_flags),
                    *(h.sources for h in decision.holds),
                    *(c.sources for c in decision.cautions)):
        cited.update((s, None) for s in sources)
    references = tuple(Citation(short=r.short, citation=r.citation)
                       for r in protocol.sources if r.id in cited)
    title = status_title(decision, signoff)
    footer_left = (f"Decision {decision.decision_id} · rule base {rulebase.version[:12]} · "
                   f"protocol {rulebase.protocol} {rulebase.protocol_version}")
    return ReportView(
        title=title,
        generated_at=_utc(generated_at),
        header=header,
        phase_claim=phase_claim(decision),
        phase_id=phase.id,
        sprint_claim=clearance_claim(decision.cleared_to_sprint, "sprint"),
        play_claim=clearance_claim(decision.cleared_to_play, "play"),
        cleared_to_sprint=decision.cleared_to_sprint,
        cleared_to_play=decision.cleared_to_play,
        lowered=lowered,
        red_flag_line=red_flag_line,
        refer=any(f.refer for f in flags),
        next_gate=next_gate,
        blocking=blocking,
        held_by=held_by,
        missing_tests=missing_tests,
        carried_forward=carried_forward,
        missing_screening=missing_screening,
        plan=_plan_items(decision),
        plan_heading=("The plan of the recommendation (phase "
                      f"{_phase_label(decision.phase.id)}; the clinician signed "
                      f"{_phase_label(signoff['signed_phase'])})"
                      if signoff is not None and signoff["action"] == "override"
                      else "The plan"),
        red_flags=red_flags,
        holds=holds,
        cautions=cautions,
        not_checked=not_checked,
        gates=tuple(gates),
        activities=activities,
        activities_heading=activities_heading,
        maintenance=tuple(decision.maintenance),
        rulebase=rulebase_items,
        references=references,
        record_sha256=record_sha256,
        footer_left=footer_left,
        history_count=history_count,
        measures=tuple(key_measures(decision)),
        status=status_in_force(decision, signoff),
        subject=status_subject(decision, signoff),
        started_from=started_from,
    )
