"""The decision: phases, blocking criteria, statuses, activities, trace and version (section 8)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import pytest
from support import REMOVE, calf_play, criterion, hamstring_play, varied

from engine import Evaluator, decide, rulebase_version
from rules import default_protocol, parse_protocol
from rules.loading import default_protocol_text

SECTION_8_KEYS = {"phase", "criteria_phase", "cleared_to_sprint", "cleared_to_play", "criteria",
                  "blocking", "red_flags", "cautions", "allowed_activities",
                  "restricted_activities", "explanation", "rulebase"}


def test_decision_json_has_every_key_of_section_8() -> None:
    """The JSON decision carries at least the keys of the output contract."""
    document = json.loads(decide(hamstring_play()).to_json())
    assert set(document) >= SECTION_8_KEYS
    assert set(document["phase"]) >= {"number", "id", "name"}
    assert set(document["criteria_phase"]) >= {"number", "id"}
    assert set(document["rulebase"]) >= {"version", "protocol"}
    for item in document["criteria"]:
        assert {"id", "name", "gate", "status", "value", "threshold", "sources"} <= set(item)
        assert item["sources"], item["id"]


def test_every_criterion_is_in_the_decision_in_protocol_order() -> None:
    """Every criterion of the protocol appears once, in the protocol's order."""
    decision = decide(hamstring_play())
    assert [c.id for c in decision.criteria] == [c.id for c in default_protocol().criteria]


@pytest.mark.parametrize(
    ("changes", "phase", "blocking"),
    [
        ({"pain.walking": 2, "pain.rest": 1}, "protect", ["C101", "C102"]),
        ({"running.max_pain_free_speed_pct": 60}, "load", ["C201"]),
        ({"strength.isometric_90_90": (254.7, 300)}, "run", ["C302"]),
        ({"sprint.repeated_sprint_passed": False, "technique.stable_under_fatigue": REMOVE},
         "sprint", ["C402", "C405"]),
        ({"readiness.confidence": 70}, "train", ["C502"]),
        ({}, "play", []),
    ],
)
def test_criteria_phase_and_blocking(changes: dict[str, Any], phase: str,
                                     blocking: list[str]) -> None:
    """The criteria phase is the highest with every earlier gate passed; blocking is its gate's."""
    decision = decide(varied(hamstring_play(), changes))
    assert decision.criteria_phase.id == phase == decision.phase.id
    assert decision.blocking == blocking
    assert [b.id for b in decision.blocking_details] == blocking
    assert all(b.needs.startswith(b.id + " needs ") for b in decision.blocking_details)


def test_gates_are_cumulative() -> None:
    """A failed early gate holds the phase even when every later gate would pass."""
    decision = decide(varied(hamstring_play(), {"function.single_leg_squat_pain_free": False}))
    assert decision.criteria_phase.id == "protect"
    assert [g.passed for g in decision.gates] == [False, True, True, True, True]
    assert decision.blocking == ["C104"]


def test_needs_sentence_names_threshold_and_measurement() -> None:
    """A blocking criterion says what it needs and what was measured, in the protocol's terms."""
    decision = decide(varied(hamstring_play(), {"strength.isometric_90_90": (271, 320)}))
    assert decision.blocking_details[0].needs == (
        "C302 needs isometric 90/90 LSI ≥ 90.0 %, measured 84.7 %")


def test_not_assessed_is_not_unmet_but_still_blocks() -> None:
    """A missing test is not_assessed (not unmet), keeps its gate closed and is listed missing."""
    decision = decide(varied(hamstring_play(), {"strength.isometric_90_90": REMOVE}))
    item = criterion(decision, "C302")
    assert item.status == "not_assessed"
    assert criterion(decision, "C202").status == "not_assessed"
    assert decision.criteria_phase.id == "load"
    assert decision.blocking == ["C202"]
    assert decision.missing_tests == ["strength.isometric_90_90"]
    assert "not assessed" in decision.blocking_details[0].needs


def test_unmet_wins_over_not_assessed_within_a_criterion() -> None:
    """A criterion is unmet as soon as one assessed part fails, even if another is missing."""
    decision = decide(varied(hamstring_play(), {"flexibility.ake_deg": (130, 160),
                                                 "flexibility.ake_discomfort": REMOVE}))
    assert criterion(decision, "C305").status == "unmet"
    decision = decide(varied(hamstring_play(), {"flexibility.ake_discomfort": REMOVE}))
    assert criterion(decision, "C305").status == "not_assessed"


@pytest.mark.parametrize(
    ("hops", "status"),
    [
        ({}, "met"),
        ({"hop.crossover_cm": REMOVE}, "met"),  # two assessed, both pass
        ({"hop.crossover_cm": REMOVE, "hop.triple_cm": REMOVE}, "not_assessed"),
        ({"hop.crossover_cm": REMOVE, "hop.triple_cm": REMOVE, "hop.single_cm": (150, 200)},
         "unmet"),  # one failing is enough
        ({"hop.single_cm": REMOVE, "hop.triple_cm": REMOVE, "hop.crossover_cm": REMOVE},
         "not_assessed"),
    ],
)
def test_c404_needs_two_hop_tests(hops: dict[str, Any], status: str) -> None:
    """C404: every hop done ≥ 90 %, at least two done; one failing makes it unmet."""
    assert criterion(decide(varied(hamstring_play(), hops)), "C404").status == status


@pytest.mark.parametrize(
    ("region", "not_applicable"),
    [("hamstring", {"C204", "C309", "C310"}),
     ("calf", {"C202", "C203", "C302", "C303", "C304", "C305", "C306"})],
)
def test_not_applicable_by_region(region: str, not_applicable: set[str]) -> None:
    """Criteria of the other region are not_applicable and count as passed."""
    document = hamstring_play() if region == "hamstring" else calf_play()
    decision = decide(document)
    found = {c.id for c in decision.criteria if c.status == "not_applicable"}
    assert found == not_applicable
    assert decision.phase.id == "play"


def test_not_applicable_even_when_the_test_was_done_and_failed() -> None:
    """A calf athlete's poor Nordic result does not block: C304 is a hamstring criterion."""
    decision = decide(varied(calf_play(), {"strength.nordic_n": (100, 300)}))
    assert criterion(decision, "C304").status == "not_applicable"
    assert decision.phase.id == "play"


@pytest.mark.parametrize(("changes", "standard", "conservative"), [
    ({"pain.isometric": 2}, "met", "unmet"),
    ({"pain.exercise": 3}, "met", "unmet"),
])
def test_profiles_differ_in_the_exercise_pain_limit(changes: dict[str, Any], standard: str,
                                                    conservative: str) -> None:
    """The standard profile allows exercise pain up to 4, the conservative one none."""
    criterion_id = "C103" if "pain.isometric" in changes else "C205"
    for profile, expected in (("standard", standard), ("conservative", conservative)):
        decision = decide(varied(hamstring_play(), {**changes, "assessment.profile": profile}))
        assert criterion(decision, criterion_id).status == expected
        assert decision.rulebase.profile == profile


def test_conservative_profile_turns_exercise_pain_into_a_flare() -> None:
    """Exercise pain 2: fine under the standard profile; under the conservative one C205 fails
    and R4 steps the athlete back."""
    standard = decide(varied(hamstring_play(), {"pain.exercise": 2}))
    conservative = decide(varied(hamstring_play(), {"pain.exercise": 2,
                                                    "assessment.profile": "conservative"}))
    assert standard.phase.id == "play"
    assert conservative.criteria_phase.id == "load"
    assert conservative.phase.id == "protect"
    assert [f.id for f in conservative.red_flags] == ["R4"]


@pytest.mark.parametrize(("phase", "sprint", "play"), [
    ("protect", False, False), ("load", False, False), ("run", False, False),
    ("sprint", True, False), ("train", True, False), ("play", True, True)])
def test_cleared_flags_follow_the_phase(phase: str, sprint: bool, play: bool) -> None:
    """Cleared to sprint means phase ≥ 4, cleared to play means phase 6."""
    closing = {"protect": {"pain.walking": 1}, "load": {"running.max_pain_free_speed_pct": 60},
               "run": {"running.max_pain_free_speed_pct": 85},
               "sprint": {"sprint.deceleration_passed": False},
               "train": {"training.full_team_sessions": 1}, "play": {}}[phase]
    decision = decide(varied(hamstring_play(), closing))
    assert decision.phase.id == phase
    assert (decision.cleared_to_sprint, decision.cleared_to_play) == (sprint, play)


def test_activities_partition_the_catalogue_by_phase() -> None:
    """Allowed: every activity of a phase up to the decided one; restricted: all the rest."""
    protocol = default_protocol()
    decision = decide(varied(hamstring_play(), {"running.max_pain_free_speed_pct": 85}))
    assert decision.phase.id == "run"
    expected_allowed = [a.id for a in protocol.activities
                        if protocol.phase_by_id[a.from_phase].number <= 3]
    assert decision.allowed_activities == expected_allowed
    assert set(decision.allowed_activities).isdisjoint(decision.restricted_activities)
    assert (set(decision.allowed_activities) | set(decision.restricted_activities)
            == {a.id for a in protocol.activities})
    assert "running_70_90pct" in decision.allowed_activities
    assert "sprint_90_100pct" in decision.restricted_activities


def test_activities_follow_the_decided_phase_not_the_criteria_phase() -> None:
    """After a red flag only protect-phase activities are allowed."""
    decision = decide(varied(hamstring_play(), {"signs.swelling_increasing": True}))
    assert decision.allowed_activities == [
        "walking", "bike_easy", "isometrics_submax", "glute_activation",
        "mobility_hip_ankle_thoracic", "upper_body_core"]


def test_explanation_is_the_ordered_trace_of_fired_rules() -> None:
    """Every rule fires once, criteria first, then safety on inputs, gates, phases, activities."""
    decision = decide(varied(hamstring_play(), {"pain.next_morning": 4}))
    rules = [step.rule for step in decision.explanation]
    protocol = default_protocol()
    criteria = [c.id for c in protocol.criteria]
    assert rules[:len(criteria)] == criteria
    assert rules[len(criteria):] == [
        "R1", "R2", "R3", "R4", "R7", "R8", "G1", "G2", "G3", "G4", "G5",
        "criteria_phase", "decide_phase", "R5", "R6", "R9", "activities"]
    assert [s.step for s in decision.explanation] == list(range(1, len(rules) + 1))
    c302 = next(s for s in decision.explanation if s.rule == "C302")
    assert c302.matched[0].slots == {"strength.isometric_90_90": {"injured": 300.0,
                                                                  "uninjured": 300.0}}
    assert c302.declared.slots["status"] == "met"
    decide_phase = next(s for s in decision.explanation if s.rule == "decide_phase")
    assert {"fact": "SafetyCheck", "slots": {"rule": "R3", "outcome": "triggered",
                                            "effect": "flare"}} in [
        m.model_dump() for m in decide_phase.matched]


def test_trace_agrees_with_the_findings() -> None:
    """The statuses the criterion rules declared are the statuses the decision reports."""
    decision = decide(varied(hamstring_play(), {"hop.single_cm": (100, 200)}))
    declared = {s.rule: s.declared.slots["status"] for s in decision.explanation
                if s.kind == "criterion"}
    assert declared == {c.id: c.status for c in decision.criteria}


def test_same_input_same_bytes() -> None:
    """Deciding the same input twice gives byte-identical JSON."""
    assert decide(hamstring_play()).to_json() == decide(hamstring_play()).to_json()


def test_same_input_same_bytes_across_processes(tmp_path: Any) -> None:
    """Separate processes with different hash seeds produce the same decision bytes."""
    path = tmp_path / "a.json"
    path.write_text(json.dumps(hamstring_play()))
    outputs = set()
    for seed in ("1", "2"):
        result = subprocess.run([sys.executable, "-m", "sprintclear", "evaluate", "--json",
                                 str(path)], capture_output=True, check=True,
                                env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"})
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert outputs.pop().decode().strip() == decide(hamstring_play()).to_json()


def test_no_clock_inside_unless_passed_in() -> None:
    """The decision has no time unless one is passed; a passed time is recorded in UTC."""
    assert decide(hamstring_play()).evaluated_at is None
    when = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    stamped = decide(hamstring_play(), evaluated_at=when)
    assert stamped.evaluated_at == "2026-03-02T13:30:00Z"
    assert stamped.decision_id != decide(hamstring_play()).decision_id
    with pytest.raises(ValueError, match="timezone"):
        decide(hamstring_play(), evaluated_at=dt.datetime(2026, 3, 2))


def test_rulebase_version_changes_with_any_threshold() -> None:
    """A clinic protocol with one changed threshold has another rule base version."""
    document = json.loads(default_protocol_text())
    c302 = next(c for c in document["criteria"] if c["id"] == "C302")
    c302["parts"][0]["threshold"] = 85
    clinic = parse_protocol(json.dumps(document))
    assert rulebase_version(clinic) != rulebase_version(default_protocol())
    assert rulebase_version(parse_protocol(default_protocol_text())) == rulebase_version(
        default_protocol())
    decision = Evaluator(clinic).decide(varied(hamstring_play(),
                                               {"strength.isometric_90_90": (260, 300)}))
    assert criterion(decision, "C302").status == "met"
    assert decision.rulebase.version == rulebase_version(clinic)
    assert decision.rulebase.protocol == "sprintclear-rts"


def test_decision_records_the_case() -> None:
    """The decision repeats who, what injury, which day and which profile it is about."""
    decision = decide(varied(hamstring_play(), {"injury.date": "2026-02-20"}))
    assert decision.athlete.id == "T-1"
    assert decision.injury.days_since_injury == 10
    assert decision.assessment.exercise_pain_limit == 4
    assert decision.rulebase.protocol_version == default_protocol().version
    assert len(decision.rulebase.version) == 64
