"""Shared test material: complete assessments and small helpers to vary them.

``hamstring_play()`` and ``calf_play()`` are assessments where every test is
done and every criterion of the region is met, with no caution but R9: the
decided phase is ``play``. Tests change one value at a time with
:func:`varied` and look at what the decision says.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SPEC = REPO.parent / "shared" / "spec" / "protocol.md"

_REMOVE = object()
REMOVE: Any = _REMOVE
"""Pass as a value to :func:`varied` to delete the field (make it "not assessed")."""


def _both(value: float) -> dict[str, float]:
    return {"injured": value, "uninjured": value}


def hamstring_play() -> dict[str, Any]:
    """A hamstring assessment at day 60 that passes every gate, signed at train on 01-20."""
    return {
        "athlete": {"id": "T-1", "name": "Test Athlete", "sport": "football", "position": "wing"},
        "injury": {"region": "hamstring", "muscle": "biceps_femoris_long_head", "side": "left",
                   "date": "2026-01-01", "mechanism": "sprinting", "bamic_grade": "1a",
                   "tendon_involved": False, "previous_same_site": 0},
        "assessment": {"date": "2026-03-02", "assessor": "Test Clinician", "profile": "standard"},
        "previous": {"phase": "train", "date": "2026-01-20"},
        "pain": {"rest": 0, "walking": 0, "palpation": 0, "isometric": 0, "stretch": 0,
                 "exercise": 0, "running": 0, "sprint": 0, "next_morning": 0},
        "signs": {"swelling_increasing": False, "avulsion_suspected": False},
        "function": {"gait_normal": True, "single_leg_squat_pain_free": True},
        "running": {"max_pain_free_speed_pct": 100},
        "strength": {"isometric_90_90": _both(300), "isometric_90_20": _both(220),
                     "nordic_n": _both(350)},
        "flexibility": {"passive_slr_deg": _both(90), "ake_deg": _both(80),
                        "ake_discomfort": False, "h_test_insecurity": 0},
        "hop": {"single_cm": _both(200), "triple_cm": _both(600), "crossover_cm": _both(550)},
        "technique": {"posture": 2, "pelvic_control": 2, "foot_strike": 2, "shin_angle": 2,
                      "arm_action": 2, "stable_under_fatigue": True},
        "sprint": {"max_velocity_mps": 9.5, "pre_injury_max_velocity_mps": 9.5,
                   "gct_asymmetry_pct": 3, "repeated_sprint_passed": True,
                   "deceleration_passed": True},
        "training": {"full_team_sessions": 3},
        "readiness": {"confidence": 90},
        "exposure": {"hsr_m_7d": 2000, "sprint_m_7d": 300, "hsr_m_prior_7d": 1800,
                     "sprint_m_prior_7d": 280, "pre_injury_hsr_m_7d": 2000,
                     "pre_injury_sprint_m_7d": 300},
    }


def calf_play() -> dict[str, Any]:
    """A calf (medial gastrocnemius) assessment that passes every gate, signed at train."""
    document = hamstring_play()
    document["injury"].update(region="calf", muscle="gastrocnemius_medial", mechanism="other")
    document["signs"] = {"swelling_increasing": False, "dvt_suspected": False}
    document["function"] = {"gait_normal": True, "single_leg_heel_raise_pain_free": True}
    document["strength"] = {"heel_raise_reps": _both(30), "heel_raise_bent_knee_reps": _both(25)}
    document["flexibility"] = {"knee_to_wall_cm": _both(10)}
    return document


def play_document(region: str) -> dict[str, Any]:
    return hamstring_play() if region in ("hamstring", "both") else calf_play()


def varied(document: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with dotted paths set (``REMOVE`` deletes the field).

    A bilateral field may be given as a pair ``(injured, uninjured)``.
    """
    result = copy.deepcopy(document)
    for path, value in changes.items():
        *parents, name = path.split(".")
        node = result
        for parent in parents:
            node = node.setdefault(parent, {})
        if value is _REMOVE:
            node.pop(name, None)
        elif isinstance(value, tuple):
            node[name] = {"injured": value[0], "uninjured": value[1]}
        else:
            node[name] = value
    return result


def criterion(decision: Any, criterion_id: str) -> Any:
    return next(c for c in decision.criteria if c.id == criterion_id)


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def load_example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))


# Invalid inputs of every kind protocol section 7 names: (id, changes, field, rule).
INVALID_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("nrs-above-range", {"pain.rest": 11}, "pain.rest", "range"),
    ("nrs-below-range", {"pain.sprint": -1}, "pain.sprint", "range"),
    ("nrs-not-whole", {"pain.walking": 2.5}, "pain.walking", "integer"),
    ("nrs-as-text", {"pain.exercise": "3"}, "pain.exercise", "integer"),
    ("nrs-as-boolean", {"pain.running": True}, "pain.running", "integer"),
    ("percentage-above-range", {"running.max_pain_free_speed_pct": 100.5},
     "running.max_pain_free_speed_pct", "range"),
    ("number-as-text", {"readiness.confidence": "high"}, "readiness.confidence", "number"),
    ("not-finite", {"sprint.gct_asymmetry_pct": float("nan")}, "sprint.gct_asymmetry_pct",
     "number"),
    ("velocity-above-range", {"sprint.max_velocity_mps": 13.5}, "sprint.max_velocity_mps",
     "range"),
    ("newtons-above-range", {"strength.nordic_n": (2100, 300)}, "strength.nordic_n.injured",
     "range"),
    ("reps-not-whole", {"strength.heel_raise_reps": (20.5, 30)},
     "strength.heel_raise_reps.injured", "integer"),
    ("degrees-negative", {"flexibility.ake_deg": (150, -5)}, "flexibility.ake_deg.uninjured",
     "range"),
    ("centimetres-above-range", {"hop.triple_cm": (1600, 600)}, "hop.triple_cm.injured",
     "range"),
    ("bilateral-one-side", {"hop.single_cm": {"injured": 180}}, "hop.single_cm.uninjured",
     "required"),
    ("bilateral-not-object", {"strength.isometric_90_20": 250}, "strength.isometric_90_20",
     "object"),
    ("bilateral-unknown-side", {"strength.isometric_90_90": {"injured": 1, "uninjured": 2,
                                                             "left": 3}},
     "strength.isometric_90_90.left", "unknown_field"),
    ("uninjured-zero", {"strength.isometric_90_90": (250, 0)},
     "strength.isometric_90_90.uninjured", "zero_reference"),
    ("pre-injury-velocity-zero", {"sprint.pre_injury_max_velocity_mps": 0},
     "sprint.pre_injury_max_velocity_mps", "zero_reference"),
    ("rating-above-range", {"technique.posture": 3}, "technique.posture", "range"),
    ("boolean-as-text", {"function.gait_normal": "yes"}, "function.gait_normal", "boolean"),
    ("boolean-as-number", {"signs.swelling_increasing": 1}, "signs.swelling_increasing",
     "boolean"),
    ("sessions-above-range", {"training.full_team_sessions": 101}, "training.full_team_sessions",
     "range"),
    ("previous-injuries-above-range", {"injury.previous_same_site": 21},
     "injury.previous_same_site", "range"),
    ("h-test-above-range", {"flexibility.h_test_insecurity": 101},
     "flexibility.h_test_insecurity", "range"),
    ("unknown-group", {"pian.rest": 0}, "pian", "unknown_field"),
    ("unknown-field", {"pain.restt": 0}, "pain.restt", "unknown_field"),
    ("missing-athlete-id", {"athlete.id": REMOVE}, "athlete.id", "required"),
    ("empty-athlete-id", {"athlete.id": ""}, "athlete.id", "length"),
    ("long-athlete-id", {"athlete.id": "x" * 65}, "athlete.id", "length"),
    ("missing-region", {"injury.region": REMOVE}, "injury.region", "required"),
    ("unknown-region", {"injury.region": "quadriceps"}, "injury.region", "choice"),
    ("missing-side", {"injury.side": REMOVE}, "injury.side", "required"),
    ("unknown-side", {"injury.side": "both"}, "injury.side", "choice"),
    ("missing-injury-date", {"injury.date": REMOVE}, "injury.date", "required"),
    ("bad-injury-date", {"injury.date": "2026-02-30"}, "injury.date", "date"),
    ("missing-assessment-date", {"assessment.date": REMOVE}, "assessment.date", "required"),
    ("date-not-iso", {"assessment.date": "02/03/2026"}, "assessment.date", "date"),
    ("injury-after-assessment", {"injury.date": "2026-03-03"}, "injury.date", "date_order"),
    ("muscle-of-other-region", {"injury.muscle": "soleus"}, "injury.muscle", "muscle_region"),
    ("unknown-muscle", {"injury.muscle": "quadriceps"}, "injury.muscle", "choice"),
    ("unknown-grade", {"injury.bamic_grade": "5a"}, "injury.bamic_grade", "choice"),
    ("unknown-mechanism", {"injury.mechanism": "tackle"}, "injury.mechanism", "choice"),
    ("unknown-profile", {"assessment.profile": "aggressive"}, "assessment.profile", "choice"),
    ("unknown-previous-phase", {"previous.phase": "jog"}, "previous.phase", "choice"),
    ("group-not-object", {"pain": [0, 0]}, "pain", "object"),
    ("missing-required-group", {"assessment": REMOVE}, "assessment", "required"),
    # 2027.1 (section 7)
    ("date-with-a-time", {"injury.date": "2026-01-01T00:00:00"}, "injury.date", "date"),
    ("date-with-a-zone", {"assessment.date": "2026-03-02T10:00:00+01:00"}, "assessment.date",
     "date"),
    ("date-as-number", {"assessment.date": 20260302}, "assessment.date", "date"),
    ("date-as-timestamp", {"injury.date": 1767225600}, "injury.date", "date"),
    ("date-short-form", {"injury.date": "2026-1-1"}, "injury.date", "date"),
    ("athlete-id-with-space", {"athlete.id": "FC 23"}, "athlete.id", "pattern"),
    ("athlete-id-trailing-space", {"athlete.id": "FC-23 "}, "athlete.id", "pattern"),
    ("athlete-id-with-slash", {"athlete.id": "FC/23"}, "athlete.id", "pattern"),
    ("athlete-id-not-ascii", {"athlete.id": "Ärzte-1"}, "athlete.id", "pattern"),
    ("uninjured-tiny", {"strength.nordic_n": (300, 1e-33)}, "strength.nordic_n.uninjured",
     "reference_minimum"),
    ("uninjured-below-one", {"hop.single_cm": (150, 0.5)}, "hop.single_cm.uninjured",
     "reference_minimum"),
    ("ake-included-angle", {"flexibility.ake_deg": (154, 158)}, "flexibility.ake_deg.injured",
     "range"),
    ("knee-to-wall-above-range", {"flexibility.knee_to_wall_cm": (12, 31)},
     "flexibility.knee_to_wall_cm.uninjured", "range"),
    ("previous-phase-without-date", {"previous.date": REMOVE}, "previous.date", "required"),
    ("previous-date-without-phase", {"previous.phase": REMOVE}, "previous.phase", "required"),
    ("previous-date-before-injury", {"previous.date": "2025-12-31"}, "previous.date",
     "date_order"),
    ("previous-date-after-assessment", {"previous.date": "2026-03-03"}, "previous.date",
     "date_order"),
    ("review-before-injury", {"injury.physician_review": {"date": "2025-12-01",
                                                          "management": "conservative"}},
     "injury.physician_review.date", "date_order"),
    ("review-after-assessment", {"injury.physician_review": {"date": "2026-03-03",
                                                             "management": "surgical"}},
     "injury.physician_review.date", "date_order"),
    ("review-without-management", {"injury.physician_review": {"date": "2026-02-01"}},
     "injury.physician_review.management", "required"),
    ("review-unknown-management", {"injury.physician_review": {"date": "2026-02-01",
                                                               "management": "rest"}},
     "injury.physician_review.management", "choice"),
    ("review-date-with-a-time", {"injury.physician_review": {
        "date": "2026-02-01T08:00", "management": "conservative"}},
     "injury.physician_review.date", "date"),
    ("integer-as-decimal", {"pain.rest": 2.0}, "pain.rest", "integer"),
    ("pre-injury-velocity-below-one", {"sprint.pre_injury_max_velocity_mps": 0.5},
     "sprint.pre_injury_max_velocity_mps", "reference_minimum"),
    ("nordic-pre-injury-zero", {"strength.nordic_pre_injury_n": 0},
     "strength.nordic_pre_injury_n", "zero_reference"),
    ("exposure-reference-tiny", {"exposure.pre_injury_sprint_m_7d": 1e-300},
     "exposure.pre_injury_sprint_m_7d", "reference_minimum"),
    ("huge-number", {"strength.nordic_n": (1e308, 300)}, "strength.nordic_n.injured", "range"),
    ("measured-velocity-above-range", {"running.max_pain_free_velocity_mps": 14},
     "running.max_pain_free_velocity_mps", "range"),
    ("sign-as-text", {"signs.dvt_suspected": "no"}, "signs.dvt_suspected", "boolean"),
    ("exposure-above-range", {"exposure.hsr_m_7d": 100001}, "exposure.hsr_m_7d", "range"),
]


def problem(response: Any) -> dict[str, Any]:
    """The RFC 9457 problem details of an error answer (``api.errors``), checked as such.

    The media type is ``application/problem+json``; ``type``, ``title``, ``status``
    (the response's) and ``detail`` are there, and the extension member ``fields``
    is a list of ``{"field", "rule", "message"}``.
    """
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code, body
    assert body["type"] == "about:blank" and body["title"] and body["detail"], body
    assert all(set(f) == {"field", "rule", "message"} for f in body["fields"]), body
    return body
