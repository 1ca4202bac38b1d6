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
from support import REMOVE, criterion, play_document, varied

from engine import decide
from rules import default_protocol

Case = tuple[dict[str, Any], str]

STANDARD = {"assessment.profile": "standard"}
CONSERVATIVE = {"assessment.profile": "conservative"}
TECH = ["posture", "pelvic_control", "foot_strike", "shin_angle", "arm_action"]


def _tech(*ratings: int) -> dict[str, int]:
    return {f"technique.{name}": value for name, value in zip(TECH, ratings, strict=True)}


MEASURED = {"running.max_pain_free_speed_pct": REMOVE}
"""Measured speed decides when velocity and pre-injury velocity are both given."""


def _speed(mps: float, reference: float = 10.0) -> dict[str, Any]:
    return {"running.max_pain_free_velocity_mps": mps,
            "sprint.pre_injury_max_velocity_mps": reference, **MEASURED}


def _load(hsr: tuple[float | None, float | None], sprint: tuple[float | None, float | None],
          attested: bool | None = None) -> dict[str, Any]:
    """exposure figures: (last 7 days, pre-injury) for high-speed running and sprinting."""
    changes: dict[str, Any] = {}
    for (current, reference), name in ((hsr, "hsr"), (sprint, "sprint")):
        changes[f"exposure.{name}_m_7d"] = REMOVE if current is None else current
        changes[f"exposure.pre_injury_{name}_m_7d"] = REMOVE if reference is None else reference
    changes["exposure.running_load_restored"] = REMOVE if attested is None else attested
    return changes


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
    ("C105", 0): {"pass": ({"function.single_leg_heel_raise_pain_free": True}, "met"),
                  "fail": ({"function.single_leg_heel_raise_pain_free": False}, "unmet")},
    # G2: C201 self-rated (entered percentages rounded half up) and measured
    ("C201", 0): {"at": ({"running.max_pain_free_speed_pct": 70}, "met"),
                  "above": ({"running.max_pain_free_speed_pct": 70.1}, "met"),
                  "below": ({"running.max_pain_free_speed_pct": 69.9}, "unmet"),
                  "entered 69.95 rounds to 70.0": ({"running.max_pain_free_speed_pct": 69.95},
                                                   "met"),
                  "entered 69.94 rounds to 69.9": ({"running.max_pain_free_speed_pct": 69.94},
                                                   "unmet"),
                  "measured at": (_speed(7.0), "met"),
                  "measured above": (_speed(7.01), "met"),
                  "measured below": (_speed(6.99), "unmet"),
                  "measured wins over self-rated": (
                      {"running.max_pain_free_velocity_mps": 6.9,
                       "sprint.pre_injury_max_velocity_mps": 10.0,
                       "running.max_pain_free_speed_pct": 95}, "unmet")},
    # LSI > 80 (a deficit < 20 %): 80.0 fails, the tie 240.15/300 = 80.05 → 80.1 passes,
    # 1599/2000 = 79.95 → 80.0 fails
    ("C202", 0): {"at": ({"strength.isometric_90_90": (240, 300)}, "unmet"),
                  "above": ({"strength.isometric_90_90": (240.3, 300)}, "met"),
                  "below": ({"strength.isometric_90_90": (239.7, 300)}, "unmet"),
                  "240.15/300 is 80.05, rounds to 80.1": (
                      {"strength.isometric_90_90": (240.15, 300)}, "met"),
                  "1599/2000 is 79.95, rounds to 80.0": (
                      {"strength.isometric_90_90": (1599, 2000)}, "unmet")},
    ("C203", 0): {"at": ({"flexibility.passive_slr_deg": (75, 100)}, "met"),
                  "above": ({"flexibility.passive_slr_deg": (75.1, 100)}, "met"),
                  "below": ({"flexibility.passive_slr_deg": (74.9, 100)}, "unmet")},
    ("C204", 0): {"at": ({"strength.heel_raise_reps": (80, 100)}, "met"),
                  "above": ({"strength.heel_raise_reps": (81, 100)}, "met"),
                  "below": ({"strength.heel_raise_reps": (79, 100)}, "unmet")},
    # G3
    ("C301", 0): {"at": ({"running.max_pain_free_speed_pct": 90}, "met"),
                  "above": ({"running.max_pain_free_speed_pct": 90.1}, "met"),
                  "below": ({"running.max_pain_free_speed_pct": 89.9}, "unmet"),
                  "entered 89.96 rounds to 90.0": ({"running.max_pain_free_speed_pct": 89.96},
                                                   "met"),
                  "entered 89.94 rounds to 89.9": ({"running.max_pain_free_speed_pct": 89.94},
                                                   "unmet"),
                  "measured at": (_speed(9.0), "met"),
                  "measured below": (_speed(8.99), "unmet")},
    ("C301", 1): {"at": ({"pain.running": 0}, "met"), "above": ({"pain.running": 1}, "unmet")},
    ("C302", 0): {"at": ({"strength.isometric_90_90": (270, 300)}, "met"),
                  "above": ({"strength.isometric_90_90": (270.3, 300)}, "met"),
                  "below": ({"strength.isometric_90_90": (269.7, 300)}, "unmet"),
                  "269.96/300 rounds to 90.0": ({"strength.isometric_90_90": (269.96, 300)},
                                                "met"),
                  "269.99/300 rounds to 90.0": ({"strength.isometric_90_90": (269.99, 300)},
                                                "met")},
    ("C303", 0): {"at": ({"strength.isometric_90_20": (180, 200)}, "met"),
                  "above": ({"strength.isometric_90_20": (180.2, 200)}, "met"),
                  "below": ({"strength.isometric_90_20": (179.8, 200)}, "unmet")},
    # LSI > 85 (a deficit < 15 %): 85.0 fails; a stronger injured side passes
    ("C304", 0): {"at": ({"strength.nordic_n": (255, 300)}, "unmet"),
                  "above": ({"strength.nordic_n": (255.3, 300)}, "met"),
                  "below": ({"strength.nordic_n": (254.7, 300)}, "unmet"),
                  "stronger injured side": ({"strength.nordic_n": (300, 255)}, "met")},
    # deficit ≤ 10 %: LSI 90.0 → deficit 10.0 passes; LSI 89.9 → 10.1 fails (AKE 0–90)
    ("C305", 0): {"at": ({"flexibility.ake_deg": (72, 80)}, "met"),
                  "above": ({"flexibility.ake_deg": (71.9, 80)}, "unmet"),
                  "below": ({"flexibility.ake_deg": (72.1, 80)}, "met"),
                  "a 15° deficit fails": ({"flexibility.ake_deg": (65, 80)}, "unmet")},
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
    ("C309", 0): {"at": ({"strength.heel_raise_reps": (30, 32)}, "met"),
                  "above": ({"strength.heel_raise_reps": (31, 33)}, "met"),
                  "below": ({"strength.heel_raise_reps": (29, 31)}, "unmet")},
    ("C309", 1): {"at": ({"strength.heel_raise_reps": (36, 40)}, "met"),
                  "above": ({"strength.heel_raise_reps": (37, 40)}, "met"),
                  "below": ({"strength.heel_raise_reps": (35, 40)}, "unmet")},
    ("C310", 0): {"at": ({"hop.single_cm": (180, 200)}, "met"),
                  "above": ({"hop.single_cm": (180.2, 200)}, "met"),
                  "below": ({"hop.single_cm": (179.8, 200)}, "unmet")},
    ("C311", 0): {"at": ({"pain.isometric": 0}, "met"), "above": ({"pain.isometric": 1}, "unmet")},
    ("C311", 1): {"at": ({"pain.stretch": 0}, "met"), "above": ({"pain.stretch": 1}, "unmet")},
    ("C312", 0): {"at": ({"strength.heel_raise_bent_knee_reps": (18, 20)}, "met"),
                  "above": ({"strength.heel_raise_bent_knee_reps": (19, 20)}, "met"),
                  "below": ({"strength.heel_raise_bent_knee_reps": (17, 20)}, "unmet")},
    ("C313", 0): {"at": ({"flexibility.knee_to_wall_cm": (9, 10)}, "met"),
                  "above": ({"flexibility.knee_to_wall_cm": (9.01, 10)}, "met"),
                  "below": ({"flexibility.knee_to_wall_cm": (8.99, 10)}, "unmet")},
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
                  "below": ({"sprint.gct_asymmetry_pct": 9.9}, "met"),
                  "entered 10.04 rounds to 10.0": ({"sprint.gct_asymmetry_pct": 10.04}, "met"),
                  "entered 10.05 rounds to 10.1": ({"sprint.gct_asymmetry_pct": 10.05},
                                                   "unmet")},
    # ≥ 90 % of the pre-injury figure when given; otherwise ≥ 256 N (the fallback)
    ("C407", 0): {"at": ({"strength.nordic_n": (270, 280),
                          "strength.nordic_pre_injury_n": 300}, "met"),
                  "above": ({"strength.nordic_n": (270.3, 280),
                             "strength.nordic_pre_injury_n": 300}, "met"),
                  "below": ({"strength.nordic_n": (269.7, 280),
                             "strength.nordic_pre_injury_n": 300}, "unmet"),
                  "pre-injury decides over 256 N": ({"strength.nordic_n": (260, 260),
                                                     "strength.nordic_pre_injury_n": 400},
                                                    "unmet"),
                  "fallback at 256 N": ({"strength.nordic_n": (256, 270)}, "met"),
                  "fallback below 256 N": ({"strength.nordic_n": (255.9, 260)}, "unmet"),
                  "symmetric but weak: 200 vs 215 N": ({"strength.nordic_n": (200, 215)},
                                                        "unmet")},
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
                                       "pain.exercise", "pain.running", "pain.sprint",
                                       "pain.next_morning"])
    },
    ("C504", 0): {"at": (_load((1600, 2000), (300, 300)), "met"),
                  "above": (_load((1601, 2000), (300, 300)), "met"),
                  "below": (_load((1597, 2000), (300, 300)), "unmet"),
                  "1599/2000 is 79.95 %, rounds to 80.0 and passes ≥ 80": (
                      _load((1599, 2000), (300, 300)), "met"),
                  "a pre-injury 0 passes": (_load((0, 0), (300, 300)), "met"),
                  "a measured failure is not overruled by an attestation": (
                      _load((1000, 2000), (300, 300), attested=True), "unmet"),
                  "one pair incomplete: the attestation decides": (
                      _load((1800, 2000), (None, 300), attested=True), "met"),
                  "attested not restored": (_load((None, None), (None, None), attested=False),
                                            "unmet"),
                  "nothing recorded": (_load((None, None), (None, None)), "not_assessed")},
    ("C504", 1): {"at": (_load((2000, 2000), (240, 300)), "met"),
                  "above": (_load((2000, 2000), (241, 300)), "met"),
                  "below": (_load((2000, 2000), (239, 300)), "unmet")},
}


def test_basis_of_speed_and_load_criteria() -> None:
    """C201/C301 record which speed decided; C504 whether the load was measured or attested."""
    document = play_document("hamstring")
    assert criterion(decide(document), "C301").basis == "self_rated"
    measured = decide(varied(document, _speed(9.5)))
    assert criterion(measured, "C201").basis == "measured"
    assert criterion(measured, "C301").basis == "measured"
    assert criterion(decide(document), "C504").basis == "measured"
    attested = decide(varied(document, _load((None, None), (None, None), attested=True)))
    assert criterion(attested, "C504").status == "met"
    assert criterion(attested, "C504").basis == "attested"
    missing = decide(varied(document, {"running.max_pain_free_speed_pct": REMOVE,
                                       "previous": REMOVE}))
    assert criterion(missing, "C201").status == "not_assessed"
    assert criterion(missing, "C201").basis is None


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
