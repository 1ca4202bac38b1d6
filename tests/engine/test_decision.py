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
                  "blocking", "held_by", "red_flags", "holds", "cautions", "carried_forward",
                  "allowed_activities", "restricted_activities", "plan", "explanation",
                  "rulebase"}
UNSIGNED = {"previous": REMOVE}
"""Nothing signed: nothing is carried forward (R6 then caps at run)."""


def signed_at(phase: str) -> dict[str, Any]:
    """Signed at ``phase`` a week earlier: R6 allows one phase more."""
    return {"previous.phase": phase, "previous.date": "2026-02-23"}


def test_decision_json_has_every_key_of_section_8() -> None:
    """The JSON decision carries at least the keys of the output contract."""
    document = json.loads(decide(hamstring_play()).to_json())
    assert set(document) >= SECTION_8_KEYS
    assert set(document["phase"]) >= {"number", "id", "name"}
    assert set(document["criteria_phase"]) >= {"number", "id"}
    assert set(document["rulebase"]) >= {"version", "protocol", "protocol_version"}
    assert set(document["plan"]) >= {"max_velocity_pct", "basis", "max_velocity_mps", "volume",
                                     "reassess_by", "retests"}
    for item in document["criteria"]:
        assert {"id", "name", "gate", "status", "value", "threshold", "basis",
                "sources"} <= set(item)
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
    decision = decide(varied(hamstring_play(), {**signed_at(phase), **changes}))
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
    decision = decide(varied(hamstring_play(), {"strength.isometric_90_90": REMOVE,
                                                **UNSIGNED}))
    item = criterion(decision, "C302")
    assert item.status == "not_assessed"
    assert criterion(decision, "C202").status == "not_assessed"
    assert decision.criteria_phase.id == "load"
    assert decision.blocking == ["C202"]
    assert decision.missing_tests == ["strength.isometric_90_90"]
    assert "not assessed" in decision.blocking_details[0].needs


def test_unmet_wins_over_not_assessed_within_a_criterion() -> None:
    """A criterion is unmet as soon as one assessed part fails, even if another is missing."""
    decision = decide(varied(hamstring_play(), {"flexibility.ake_deg": (60, 80),
                                                 "flexibility.ake_discomfort": REMOVE,
                                                 **UNSIGNED}))
    assert criterion(decision, "C305").status == "unmet"
    decision = decide(varied(hamstring_play(), {"flexibility.ake_discomfort": REMOVE,
                                                **UNSIGNED}))
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
    assert criterion(decide(varied(hamstring_play(), {**hops, **UNSIGNED})),
                     "C404").status == status


@pytest.mark.parametrize(
    ("region", "not_applicable"),
    [("hamstring", {"C105", "C204", "C309", "C310", "C312", "C313"}),
     ("calf", {"C104", "C202", "C203", "C302", "C303", "C304", "C305", "C306", "C407"})],
)
def test_not_applicable_by_region(region: str, not_applicable: set[str]) -> None:
    """Criteria of the other region are not_applicable and count as passed."""
    document = hamstring_play() if region == "hamstring" else calf_play()
    decision = decide(document)
    found = {c.id for c in decision.criteria if c.status == "not_applicable"}
    assert found == not_applicable
    assert decision.phase.id == "play"


def test_not_applicable_even_when_the_test_was_done_and_failed() -> None:
    """A calf athlete's poor Nordic result does not block: C304 and C407 are hamstring
    criteria."""
    decision = decide(varied(calf_play(), {"strength.nordic_n": (100, 300)}))
    assert criterion(decision, "C304").status == "not_applicable"
    assert criterion(decision, "C407").status == "not_applicable"
    assert decision.phase.id == "play"


@pytest.mark.parametrize(("isometric", "standard", "conservative"), [
    (0, "met", "met"), (2, "met", "unmet"), (5, "unmet", "unmet")])
def test_profiles_differ_in_the_exercise_pain_limit(isometric: int, standard: str,
                                                    conservative: str) -> None:
    """L applies to C103: up to 4 in the standard profile, none in the conservative one."""
    for profile, expected in (("standard", standard), ("conservative", conservative)):
        decision = decide(varied(hamstring_play(), {"pain.isometric": isometric,
                                                    "assessment.profile": profile}))
        assert criterion(decision, "C103").status == expected
        assert decision.rulebase.profile == profile


def test_clearance_tests_are_pain_free_in_both_profiles() -> None:
    """Exercise pain 2: C503 keeps play closed in both profiles; only the conservative
    profile (L = 0) also calls it a flare (R4) and steps back from the signed phase."""
    standard = decide(varied(hamstring_play(), {"pain.exercise": 2}))
    conservative = decide(varied(hamstring_play(), {"pain.exercise": 2,
                                                    "assessment.profile": "conservative"}))
    assert standard.criteria_phase.id == standard.phase.id == "train"
    assert standard.red_flags == []
    assert conservative.criteria_phase.id == "train"
    assert conservative.phase.id == "sprint"
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
    decision = decide(varied(hamstring_play(), {**closing, **signed_at(phase)}))
    assert decision.phase.id == phase
    assert (decision.cleared_to_sprint, decision.cleared_to_play) == (sprint, play)


@pytest.mark.parametrize("region", ["hamstring", "calf"])
def test_activities_partition_the_region_catalogue_by_phase(region: str) -> None:
    """Allowed: every activity of the injury's region (or both) of a phase up to the decided
    one; restricted: the rest of that region's catalogue; none of the other region."""
    protocol = default_protocol()
    base = hamstring_play() if region == "hamstring" else calf_play()
    decision = decide(varied(base, {"running.max_pain_free_speed_pct": 85}))
    assert decision.phase.id == "run"
    catalogue = [a for a in protocol.activities if a.region in ("both", region)]
    assert decision.allowed_activities == [
        a.id for a in catalogue if protocol.phase_by_id[a.from_phase].number <= 3]
    assert decision.restricted_activities == [
        a.id for a in catalogue if protocol.phase_by_id[a.from_phase].number > 3]
    other = "calf" if region == "hamstring" else "hamstring"
    assert not {a.id for a in protocol.activities if a.region == other} & set(
        decision.allowed_activities + decision.restricted_activities)


def test_calf_injury_gets_the_calf_programme() -> None:
    """A calf athlete is never given Nordics or the L-protocol; bent-knee raises instead."""
    decision = decide(calf_play())
    activities = decision.allowed_activities + decision.restricted_activities
    assert "nordic_curls" not in activities and "lengthening_exercises" not in activities
    assert {"bent_knee_calf_raises", "pogo_hops", "maintenance_calf_raises"} <= set(activities)
    assert decision.maintenance == ["Straight- and bent-knee calf raises at least twice a week.",
                                    "Regular exposure to high-speed running and sprinting."]


def test_activities_follow_the_decided_phase_not_the_criteria_phase() -> None:
    """After a red flag only protect-phase activities of the region are allowed."""
    decision = decide(varied(hamstring_play(), {"signs.swelling_increasing": True}))
    assert decision.allowed_activities == [
        "walking", "bike_easy", "isometrics_submax", "glute_activation",
        "mobility_hip_ankle_thoracic", "upper_body_core"]


def test_explanation_is_the_ordered_trace_of_fired_rules() -> None:
    """Only the rules whose patterns hold fire: criteria, the criteria phase, the screen,
    the red flags and holds that apply, the phase, the cautions raised, the plan."""
    decision = decide(varied(hamstring_play(), {"pain.next_morning": 4}))
    rules = [step.rule for step in decision.explanation]
    assert rules == ["criteria", "criteria_phase", "screen", "R3", "R6", "decide_phase",
                     "plan"]
    assert [s.step for s in decision.explanation] == list(range(1, len(rules) + 1))
    r3 = next(s for s in decision.explanation if s.rule == "R3")
    assert r3.matched[0].slots == {"flag_R3": True, "pain.next_morning": 4}
    assert r3.declared.slots == {"rule": "R3", "cap": 4, "phase": "sprint"}
    decide_phase = next(s for s in decision.explanation if s.rule == "decide_phase")
    assert {"fact": "Cap", "slots": {"rule": "R3", "cap": 4}} in [
        m.model_dump() for m in decide_phase.matched]
    assert decide_phase.declared.slots == {"number": 4, "id": "sprint"}


def test_trace_agrees_with_the_findings() -> None:
    """The gates and carried-forward criteria the rules declared are the decision's."""
    decision = decide(varied(hamstring_play(), {"hop.single_cm": (100, 200),
                                                "pain.walking": REMOVE}))
    declared = decision.explanation[0].declared.slots
    assert {g.id: g.passed for g in decision.gates} == {
        key: value for key, value in declared.items() if key.startswith("G")}
    assert declared["carried_forward"] == decision.carried_forward == ["C101"]


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
    decision = decide(varied(hamstring_play(), {"injury.date": "2026-02-20",
                                                "previous.date": "2026-02-25"}))
    assert decision.athlete.id == "T-1"
    assert decision.injury.days_since_injury == 10
    assert decision.assessment.exercise_pain_limit == 4
    assert decision.rulebase.protocol_version == default_protocol().version
    assert len(decision.rulebase.version) == 64


def test_a_decision_read_back_from_its_json_equals_the_one_decided() -> None:
    """Regression (issue 11 merge): the engine's decision keeps the plain data it was written
    from; that cache must not make it unequal to the same decision read back from its JSON
    (verify compares the embedded record with the decision made again)."""
    from engine.decision import read_decision

    made = decide(hamstring_play())
    again = read_decision(made.to_json())
    assert again == made and made == again
    assert again.to_json() == made.to_json()
    assert made != made.model_copy(update={"cleared_to_sprint": not made.cleared_to_sprint})
