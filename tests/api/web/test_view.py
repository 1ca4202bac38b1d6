"""What the pages show: clearance of a signed phase, a decision's status line, the trace."""

from __future__ import annotations

from support import load_example

from api.store.records import AssessmentEntry, DecisionSummary, Signoff, SummaryPhase
from api.web import view
from engine import evaluator_for
from rules.dictionary import PHASE_IDS

WINGER = "hamstring-winger-cleared-to-sprint"
FOOTBALLER = "hamstring-footballer-progressive-running-strength-deficit"
FLARE = "hamstring-symptom-flare-next-morning-pain"


def test_clearance_of_a_phase_is_the_engines_definition() -> None:
    """For every phase, what the page says the phase clears is what the engine decides."""
    evaluator = evaluator_for()
    protocol = evaluator.protocol
    for number, phase_id in enumerate(PHASE_IDS, 1):
        assert view.clearance_of(protocol, phase_id) == (number >= 4, number == 6)
    for name in (WINGER, FOOTBALLER, "calf-gastrocnemius-scrum-half-team-training",
                 "hamstring-rugby-back-reinjury-cleared-to-play-conservative"):
        decision = evaluator.decide(load_example(name))
        assert view.clearance_of(protocol, decision.phase.id) == (
            decision.cleared_to_sprint, decision.cleared_to_play)


def _entry(signoff: Signoff | None) -> AssessmentEntry:
    summary = DecisionSummary(
        id="d1", phase=SummaryPhase(number=4, id="sprint"),
        criteria_phase=SummaryPhase(number=5, id="train"), cleared_to_sprint=True,
        cleared_to_play=False, red_flags=[], cautions=["R5"], blocking=["C501"],
        rulebase_version="v", protocol="p", protocol_version="1", evaluated_at="t")
    return AssessmentEntry(id="a1", athlete_id="X", injury_id="i1",
                           assessment_date="2026-03-01", assessor=None, supersedes=None,
                           superseded_by=None, input_sha256="h", created_at="t",
                           decision=summary, signoff=signoff)


def _signoff(action: str, phase: str) -> Signoff:
    return Signoff(id="s1", decision_id="d1", action=action,  # type: ignore[arg-type]
                   recommended_phase="sprint", signed_phase=phase, reason="r",
                   clinician="Dr. A", clinician_key_id="k", signed_at="t")


def test_a_status_says_whose_phase_it_is_and_what_it_clears() -> None:
    """Unsigned: a PENDING recommendation, no phase in force and no clearance; accepted: the
    signed phase and its clearance; overridden: the signed phase's."""
    protocol = evaluator_for().protocol
    unsigned = view.entry_status(_entry(None), protocol)
    assert (unsigned.state, unsigned.phase, unsigned.sprint, unsigned.signoff.text) == (
        "pending", None, None, "awaiting sign-off")
    assert unsigned.pending is not None and unsigned.pending.css == "pending"
    assert unsigned.pending.text == "PENDING: recommends 4 · sprint, awaiting sign-off"
    assert "not in force until signed off" in unsigned.qualifier
    assert unsigned.lowered == "criteria allowed 5 · train"
    accepted = view.entry_status(_entry(_signoff("accept", "sprint")), protocol)
    assert accepted.sprint is not None and accepted.sprint.symbol == "✓"
    assert accepted.signoff.text == "accepted by Dr. A" and accepted.pending is None
    held = view.entry_status(_entry(_signoff("override", "run")), protocol)
    assert held.sprint is not None
    assert (held.phase, held.sprint.symbol, held.sprint.text) == (
        "3 · run", "✗", "NOT CLEARED to sprint")
    assert held.signoff.text == "overridden to 3 · run by Dr. A"
    raised = view.entry_status(_entry(_signoff("override", "play")), protocol)
    assert raised.play is not None and raised.play.text == "CLEARED to play"


def test_the_phase_in_force_is_the_last_signed_one_and_a_later_recommendation_pends() -> None:
    """Signed run, then an unsigned sprint recommendation: in force run, PENDING sprint; a
    superseded assessment's sign-off no longer stands."""
    protocol = evaluator_for().protocol
    signed = _entry(_signoff("override", "run"))
    pending = _entry(None).model_copy(update={"id": "asm_2", "assessment_date": "2026-03-20"})
    status = view.in_force([signed, pending], protocol)
    assert status.phase == "3 · run" and status.sprint.text == "NOT CLEARED to sprint"
    assert status.pending is not None and "recommends 4 · sprint" in status.pending.text
    corrected = signed.model_copy(update={"superseded_by": "asm_3"})
    assert view.in_force([corrected], protocol).phase is None


def test_the_explanation_keeps_every_step_and_fact() -> None:
    """Each fired rule becomes one step with its matched facts and what it declared."""
    evaluator = evaluator_for()
    decision = evaluator.decide(load_example(FLARE))
    steps = view.explanation_steps(decision.explanation, evaluator.protocol)
    assert [(s.step, s.rule) for s in steps] == [(s.step, s.rule) for s in decision.explanation]
    for shown, step in zip(steps, decision.explanation, strict=True):
        assert len(shown.matched) == len(step.matched)
        assert [m.split(": ", 1)[0] for m in shown.matched] == [m.fact for m in step.matched]
        assert shown.declared.startswith(f"{step.declared.fact}: ")
    by_rule = {s.rule: s for s in steps}
    assert by_rule["R3"].description == "Symptom flare: next morning"  # the protocol's name
    assert by_rule["R3"].declared == 'Cap: rule = "R3", cap = 3, phase = "run"'
    assert by_rule["decide_phase"].description == "the lowest of the criteria phase and every cap"


def test_without_the_deciding_protocol_a_step_is_described_by_its_kind() -> None:
    """A decision of another protocol is not described with this protocol's rule names."""
    decision = evaluator_for().decide(load_example(FLARE))
    steps = {s.rule: s for s in view.explanation_steps(decision.explanation)}
    assert steps["R3"].description == "red flag"
