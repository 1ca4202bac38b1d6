"""The report's display data: banner claims, key measures, earlier decisions of the injury."""

from __future__ import annotations

from typing import Any

import pytest
from support import hamstring_play, varied

from reports.view import (
    PHASE_COUNT,
    banner_claims,
    build_view,
    contradicting_claims,
    history_problems,
    key_measures,
)


def test_banner_claims_say_the_phase_and_both_clearances_in_words(
        decide_document: Any) -> None:
    """The banner names the phase by number and name and says CLEARED / NOT CLEARED for both."""
    cleared, _ = decide_document(hamstring_play())
    not_cleared, _ = decide_document(varied(hamstring_play(), {"pain.rest": 5}))
    assert banner_claims(cleared) == (
        f"Phase {cleared.phase.number} of {PHASE_COUNT} · {cleared.phase.name}",
        "✓ CLEARED to sprint", "✓ CLEARED to play")
    assert banner_claims(not_cleared)[1:] == ("✗ NOT CLEARED to sprint", "✗ NOT CLEARED to play")
    assert set(contradicting_claims(cleared)) == set(banner_claims(not_cleared)[1:])


def test_key_measures_merge_the_thresholds_of_every_criterion_reading_a_test(
        decide_document: Any) -> None:
    """An LSI read by two criteria (C202 ≥ 80, C302 ≥ 90) is one measure with both thresholds."""
    decision, _ = decide_document(varied(hamstring_play(), {"strength.isometric_90_90": (250,
                                                                                           300)}))
    measure = next(m for m in key_measures(decision) if m.key == "lsi:isometric 90/90 LSI")
    parts = {c.id: c.parts[0] for c in decision.criteria if c.id in ("C202", "C302")}
    assert measure.value == parts["C302"].value
    assert [(t.criteria, t.value, t.outcomes) for t in measure.thresholds] == [
        (("C202",), parts["C202"].threshold, (parts["C202"].outcome,)),
        (("C302",), parts["C302"].threshold, (parts["C302"].outcome,))]
    assert measure.group == "symmetry" and measure.higher_is_better


def test_key_measures_leave_out_the_other_region(decide_document: Any) -> None:
    """A hamstring decision has no heel-raise measure (its criteria are not applicable)."""
    decision, _ = decide_document(hamstring_play())
    keys = {m.key for m in key_measures(decision)}
    assert "lsi:heel-raise LSI" not in keys
    assert {"lsi:Nordic LSI", "deficit:AKE deficit"} <= keys


def test_a_measure_not_assessed_has_no_value(decide_document: Any) -> None:
    """A test that was not done is shown as not assessed, never as a number (and the
    charts leave it out: the criteria table lists it)."""
    decision, _ = decide_document(varied(hamstring_play(), {"hop.crossover_cm": None}))
    measure = next(m for m in key_measures(decision) if m.key == "lsi:crossover hop LSI")
    assert measure.value is None and measure.value_text == "not assessed"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"athlete.id": "OTHER-9"}, "is of athlete OTHER-9"),
    ({"injury.side": "right"}, "is of another injury: side right"),
    ({"injury.date": "2025-12-01"}, "is of another injury: injury date 2025-12-01"),
    ({"injury.muscle": "semitendinosus"}, "is of another injury: muscle semitendinosus"),
    ({"assessment.date": "2026-03-20"}, "is later than this report's assessment"),
])
def test_earlier_decisions_of_another_athlete_or_injury_are_refused(
        decide_document: Any, changes: dict[str, Any], expected: str) -> None:
    """History must be the same athlete, region, side, muscle and injury date, and earlier."""
    current, _ = decide_document(hamstring_play())
    earlier, _ = decide_document(varied(hamstring_play(), {"assessment.date": "2026-02-15",
                                                           "previous": None,
                                                           "pain.rest": 2, **changes}))
    problems = history_problems(current, [earlier])
    assert len(problems) == 1 and expected in problems[0]
    assert earlier.decision_id in problems[0]


def test_the_report_itself_and_duplicates_are_refused_as_history(decide_document: Any) -> None:
    """The report's own assessment, or one given twice, is not an earlier decision."""
    current, _ = decide_document(hamstring_play())
    earlier, _ = decide_document(varied(hamstring_play(), {"assessment.date": "2026-02-15"}))
    assert any("this report itself" in p for p in history_problems(current, [current]))
    assert any("more than once" in p for p in history_problems(current, [earlier, earlier]))
    assert history_problems(current, [earlier]) == []


def test_the_view_takes_every_clinical_sentence_from_the_decision(
        decide_document: Any, example: Any) -> None:
    """Blocking needs, red-flag messages and effects are the decision's own words."""
    decision, _ = decide_document(example("hamstring-symptom-flare-next-morning-pain"))
    view = build_view(decision, record_sha256="0" * 64, generated_at=decision_time(decision))
    assert [b.needs for b in view.blocking] == [b.needs for b in decision.blocking_details]
    assert [(f.message, f.effect, f.found) for f in view.red_flags] == [
        (f.message, f.effect, f.because) for f in decision.red_flags]
    assert view.lowered is not None and str(decision.criteria_phase.number) in view.lowered


def decision_time(decision: Any) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(decision.evaluated_at)


def test_a_2026_1_decision_lowered_by_a_red_flag_names_it() -> None:
    """A stored 2026.1 decision has no held_by: the red flag that lowered it is named."""
    import datetime as dt
    from pathlib import Path

    from engine.decision import read_decision

    fixture = (Path(__file__).parents[1] / "engine" / "fixtures"
               / "decision-2026.1-red-flag-swelling-refer.json")
    decision = read_decision(fixture.read_text("utf-8"))
    assert decision.held_by == [] and decision.plan is None
    view = build_view(decision, record_sha256="0" * 64,
                      generated_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
    assert view.lowered == ("The criteria allow phase 3 · Progressive running; held at 1 by "
                            "R1.")
