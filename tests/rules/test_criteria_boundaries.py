"""Every criterion at, just above and just below its threshold (protocol section 3).

The cases are written from ``protocol.md``'s numbers, not read from the
protocol file, so they check the data as well as the logic. Each part of each
criterion of the default protocol must have its cases here:
``test_every_criterion_part_has_cases`` fails when a criterion is added or
changed without them. Numeric parts have ``at`` / ``above`` / ``below``;
true/false parts have ``pass`` / ``fail``.

"Above" and "below" are the nearest values on either side at the precision
that is compared: one decimal for percentages (so 269.7 N of 300 N is
89.9 %), one step for whole numbers.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import criterion, play_document, varied

from engine import decide
from rules import default_protocol

Case = tuple[dict[str, Any], str]

STANDARD = {"assessment.profile": "standard"}
CONSERVATIVE = {"assessment.profile": "conservative"}
TECH = ["posture", "pelvic_control", "foot_strike", "shin_angle", "arm_action"]


def _tech(*ratings: int) -> dict[str, int]:
    return {f"technique.{name}": value for name, value in zip(TECH, ratings, strict=True)}


CASES: dict[tuple[str, int], dict[str, Case]] = {
    # G1
    ("C101", 0): {"at": ({"pain.walking": 0}, "met"), "above": ({"pain.walking": 1}, "unmet")},
    ("C101", 1): {"pass": ({"function.gait_normal": True}, "met"),
                  "fail": ({"function.gait_normal": False}, "unmet")},
    ("C102", 0): {"at": ({"pain.rest": 0}, "met"), "above": ({"pain.rest": 1}, "unmet")},
    ("C103", 0): {"at": ({"pain.isometric": 4, **STANDARD}, "met"),
                  "above": ({"pain.isometric": 5, **STANDARD}, "unmet"),
                  "below": ({"pain.isometric": 3, **STANDARD}, "met"),
                  "at, conservative": ({"pain.isometric": 0, **CONSERVATIVE}, "met"),
                  "above, conservative": ({"pain.isometric": 1, **CONSERVATIVE}, "unmet")},
    ("C104", 0): {"pass": ({"function.single_leg_squat_pain_free": True}, "met"),
                  "fail": ({"function.single_leg_squat_pain_free": False}, "unmet")},
    # G2
    ("C201", 0): {"at": ({"running.max_pain_free_speed_pct": 70}, "met"),
                  "above": ({"running.max_pain_free_speed_pct": 70.1}, "met"),
                  "below": ({"running.max_pain_free_speed_pct": 69.9}, "unmet")},
    ("C202", 0): {"at": ({"strength.isometric_90_90": (240, 300)}, "met"),
                  "above": ({"strength.isometric_90_90": (240.3, 300)}, "met"),
                  "below": ({"strength.isometric_90_90": (239.7, 300)}, "unmet")},
    ("C203", 0): {"at": ({"flexibility.passive_slr_deg": (75, 100)}, "met"),
                  "above": ({"flexibility.passive_slr_deg": (75.1, 100)}, "met"),
                  "below": ({"flexibility.passive_slr_deg": (74.9, 100)}, "unmet")},
    ("C204", 0): {"at": ({"strength.heel_raise_reps": (80, 100)}, "met"),
                  "above": ({"strength.heel_raise_reps": (81, 100)}, "met"),
                  "below": ({"strength.heel_raise_reps": (79, 100)}, "unmet")},
    ("C205", 0): {"at": ({"pain.exercise": 4, **STANDARD}, "met"),
                  "above": ({"pain.exercise": 5, **STANDARD}, "unmet"),
                  "below": ({"pain.exercise": 3, **STANDARD}, "met"),
                  "at, conservative": ({"pain.exercise": 0, **CONSERVATIVE}, "met"),
                  "above, conservative": ({"pain.exercise": 1, **CONSERVATIVE}, "unmet")},
    # G3
    ("C301", 0): {"at": ({"running.max_pain_free_speed_pct": 90}, "met"),
                  "above": ({"running.max_pain_free_speed_pct": 90.1}, "met"),
                  "below": ({"running.max_pain_free_speed_pct": 89.9}, "unmet")},
    ("C302", 0): {"at": ({"strength.isometric_90_90": (270, 300)}, "met"),
                  "above": ({"strength.isometric_90_90": (270.3, 300)}, "met"),
                  "below": ({"strength.isometric_90_90": (269.7, 300)}, "unmet"),
                  "rounds to at": ({"strength.isometric_90_90": (269.99, 300)}, "met")},
    ("C303", 0): {"at": ({"strength.isometric_90_20": (180, 200)}, "met"),
                  "above": ({"strength.isometric_90_20": (180.2, 200)}, "met"),
                  "below": ({"strength.isometric_90_20": (179.8, 200)}, "unmet")},
    # asymmetry < 15 %: 15.0 fails (strict), 14.9 passes
    ("C304", 0): {"at": ({"strength.nordic_n": (255, 300)}, "unmet"),
                  "above": ({"strength.nordic_n": (254.7, 300)}, "unmet"),
                  "below": ({"strength.nordic_n": (255.3, 300)}, "met"),
                  "stronger injured side": ({"strength.nordic_n": (300, 255)}, "unmet")},
    # deficit ≤ 10 %: LSI 90.0 → deficit 10.0 passes; LSI 89.9 → 10.1 fails
    ("C305", 0): {"at": ({"flexibility.ake_deg": (144, 160)}, "met"),
                  "above": ({"flexibility.ake_deg": (143.9, 160)}, "unmet"),
                  "below": ({"flexibility.ake_deg": (144.1, 160)}, "met")},
    ("C305", 1): {"pass": ({"flexibility.ake_discomfort": False}, "met"),
                  "fail": ({"flexibility.ake_discomfort": True}, "unmet")},
    ("C306", 0): {"at": ({"flexibility.h_test_insecurity": 0}, "met"),
                  "above": ({"flexibility.h_test_insecurity": 0.1}, "unmet")},
    ("C307", 0): {"at": ({"pain.palpation": 0}, "met"), "above": ({"pain.palpation": 1}, "unmet")},
    **{
        ("C308", index): {"at": (_tech(*[2 if i != index else 1 for i in range(5)]), "met"),
                          "above": (_tech(*[2] * 5), "met"),
                          "below": (_tech(*[2 if i != index else 0 for i in range(5)]), "unmet")}
        for index in range(5)
    },
    ("C308", 5): {"at": (_tech(2, 2, 2, 1, 1), "met"), "above": (_tech(2, 2, 2, 2, 1), "met"),
                  "below": (_tech(2, 2, 1, 1, 1), "unmet")},
    ("C309", 0): {"at": ({"strength.heel_raise_reps": (25, 27)}, "met"),
                  "above": ({"strength.heel_raise_reps": (26, 28)}, "met"),
                  "below": ({"strength.heel_raise_reps": (24, 26)}, "unmet")},
    ("C309", 1): {"at": ({"strength.heel_raise_reps": (27, 30)}, "met"),
                  "above": ({"strength.heel_raise_reps": (28, 31)}, "met"),
                  "below": ({"strength.heel_raise_reps": (27, 31)}, "unmet")},
    ("C310", 0): {"at": ({"hop.single_cm": (180, 200)}, "met"),
                  "above": ({"hop.single_cm": (180.2, 200)}, "met"),
                  "below": ({"hop.single_cm": (179.8, 200)}, "unmet")},
    # G4
    ("C401", 0): {"at": ({"sprint.max_velocity_mps": 9.5,
                          "sprint.pre_injury_max_velocity_mps": 10}, "met"),
                  "above": ({"sprint.max_velocity_mps": 9.51,
                             "sprint.pre_injury_max_velocity_mps": 10}, "met"),
                  "below": ({"sprint.max_velocity_mps": 9.49,
                             "sprint.pre_injury_max_velocity_mps": 10}, "unmet")},
    ("C401", 1): {"at": ({"pain.sprint": 0}, "met"), "above": ({"pain.sprint": 1}, "unmet")},
    ("C402", 0): {"pass": ({"sprint.repeated_sprint_passed": True}, "met"),
                  "fail": ({"sprint.repeated_sprint_passed": False}, "unmet")},
    ("C403", 0): {"pass": ({"sprint.deceleration_passed": True}, "met"),
                  "fail": ({"sprint.deceleration_passed": False}, "unmet")},
    **{
        ("C404", index): {"at": ({field: (180, 200)}, "met"),
                          "above": ({field: (180.2, 200)}, "met"),
                          "below": ({field: (179.8, 200)}, "unmet")}
        for index, field in enumerate(["hop.single_cm", "hop.triple_cm", "hop.crossover_cm"])
    },
    ("C405", 0): {"pass": ({"technique.stable_under_fatigue": True}, "met"),
                  "fail": ({"technique.stable_under_fatigue": False}, "unmet")},
    ("C406", 0): {"at": ({"sprint.gct_asymmetry_pct": 10}, "met"),
                  "above": ({"sprint.gct_asymmetry_pct": 10.1}, "unmet"),
                  "below": ({"sprint.gct_asymmetry_pct": 9.9}, "met")},
    # G5
    ("C501", 0): {"at": ({"training.full_team_sessions": 2}, "met"),
                  "above": ({"training.full_team_sessions": 3}, "met"),
                  "below": ({"training.full_team_sessions": 1}, "unmet")},
    ("C502", 0): {"at": ({"readiness.confidence": 80}, "met"),
                  "above": ({"readiness.confidence": 80.1}, "met"),
                  "below": ({"readiness.confidence": 79.9}, "unmet")},
    **{
        ("C503", index): {"at": ({field: 0}, "met"), "above": ({field: 1}, "unmet")}
        for index, field in enumerate(["pain.palpation", "pain.isometric", "pain.stretch",
                                       "pain.sprint"])
    },
}


def _flatten() -> list[Any]:
    params = []
    for (criterion_id, part), cases in CASES.items():
        for label, (changes, expected) in cases.items():
            params.append(pytest.param(criterion_id, changes, expected,
                                       id=f"{criterion_id}.{part}-{label}"))
    return params


@pytest.mark.parametrize(("criterion_id", "changes", "expected"), _flatten())
def test_criterion_boundary(criterion_id: str, changes: dict[str, Any], expected: str) -> None:
    """A criterion has the status protocol.md gives it at, above and below its threshold."""
    region = default_protocol().criterion_by_id[criterion_id].region
    decision = decide(varied(play_document(region), changes))
    assert criterion(decision, criterion_id).status == expected


def test_every_criterion_part_has_cases() -> None:
    """No criterion part of the default protocol is left without boundary cases."""
    missing = []
    for item in default_protocol().criteria:
        for index, part in enumerate(item.parts):
            labels = set(CASES.get((item.id, index), {}))
            is_boolean = isinstance(part.threshold, bool)
            if is_boolean:
                needed = {"pass", "fail"}
            elif part.op == "==" or (part.op in ("<=", "<") and part.threshold == 0):
                needed = {"at", "above"}  # nothing is below 0 on these scales
            else:
                needed = {"at", "above", "below"}
            if not needed <= labels:
                missing.append(f"{item.id}.{index}: {sorted(needed - labels)}")
    assert not missing, "criteria parts without boundary cases: " + "; ".join(missing)
