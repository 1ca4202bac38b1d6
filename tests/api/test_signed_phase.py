"""The signed phase an assessment starts from (protocol 2.1), as a pure function of records."""

from __future__ import annotations

from api.signed_phase import SignedStep, latest_signed_step, previous_conflict


def _step(assessment_id: str, date: str, phase: str, *, stored: str = "T10", signed: str = "T20",
          superseded: str | None = None) -> SignedStep:
    return SignedStep(assessment_id=assessment_id, assessment_date=date, stored_at=stored,
                      signed_phase=phase, signed_at=signed, superseded_at=superseded)


def test_nothing_signed_gives_none() -> None:
    """Without a sign-off of the episode there is no previous (R6 then caps at run)."""
    assert latest_signed_step([], "2026-03-17") is None


def test_the_latest_assessment_signed_wins_not_the_latest_signature() -> None:
    """Latest by assessment date: a late signature of an older visit does not win."""
    steps = [_step("a", "2026-03-03", "load", signed="T90"),
             _step("b", "2026-03-10", "run", signed="T30")]
    assert latest_signed_step(steps, "2026-03-17") == {"phase": "run", "date": "2026-03-10"}


def test_a_visit_dated_after_the_assessment_never_counts() -> None:
    """A visit entered late for an earlier date starts from what was signed before that date."""
    steps = [_step("a", "2026-03-03", "load"), _step("b", "2026-03-20", "sprint")]
    assert latest_signed_step(steps, "2026-03-17") == {"phase": "load", "date": "2026-03-03"}


def test_a_same_day_signoff_counts_with_its_own_date() -> None:
    """A visit stored earlier the same day is earlier, with its own date (R6 same day)."""
    steps = [_step("a", "2026-03-10", "load", stored="T1"),
             _step("b", "2026-03-17", "run", stored="T5"),
             _step("c", "2026-03-17", "sprint", stored="T6")]
    assert latest_signed_step(steps, "2026-03-17") == {"phase": "sprint", "date": "2026-03-17"}


def test_superseded_and_excluded_assessments_do_not_count() -> None:
    """A corrected visit's sign-off signed an input found wrong; the one being corrected too."""
    steps = [_step("a", "2026-03-03", "load"),
             _step("b", "2026-03-10", "run", superseded="T40"),
             _step("c", "2026-03-12", "sprint")]
    assert latest_signed_step(steps, "2026-03-17", excluding="c") == {
        "phase": "load", "date": "2026-03-03"}


def test_as_of_sees_only_what_existed_then() -> None:
    """Replay with as_of = the stored time gets what the service filled when it stored it."""
    steps = [_step("a", "2026-03-03", "load", stored="T10", signed="T11"),
             _step("b", "2026-03-10", "run", stored="T20", signed="T50"),
             _step("c", "2026-03-05", "run", stored="T12", signed="T13", superseded="T60")]
    assert latest_signed_step(steps, "2026-03-17", as_of="T30") == {
        "phase": "run", "date": "2026-03-05"}  # b not signed yet, c not yet corrected
    assert latest_signed_step(steps, "2026-03-17", as_of="T70") == {
        "phase": "run", "date": "2026-03-10"}
    assert latest_signed_step(steps, "2026-03-17", as_of="T10") is None  # a stored at T10


def test_mappings_are_records_too() -> None:
    """Plain dicts with the same keys (as replay may hold them) give the same answer."""
    step = _step("a", "2026-03-03", "load")
    assert latest_signed_step([{f: getattr(step, f) for f in step.__slots__}], "2026-03-03") \
        == {"phase": "load", "date": "2026-03-03"}


def test_only_a_previous_equal_to_the_records_may_stand() -> None:
    """Omitted or equal: accepted; different or with nothing on record: refused, naming it."""
    stored = {"phase": "run", "date": "2026-03-10"}
    assert previous_conflict(None, stored) is None
    assert previous_conflict({}, None) is None
    assert previous_conflict(dict(stored), stored) is None
    other = previous_conflict({"phase": "sprint", "date": "2026-03-10"}, stored)
    assert other is not None and "run, signed for the assessment of 2026-03-10" in other
    date = previous_conflict({"phase": "run", "date": "2026-03-09"}, stored)
    assert date is not None and "2026-03-10" in date
    nothing = previous_conflict(dict(stored), None)
    assert nothing is not None and "no phase has been signed" in nothing


def test_stored_before_keeps_same_day_visits_stored_later_out() -> None:
    """A sign-off's re-check of an already stored assessment (stored at T5): a same-day
    visit stored after it (T6) is not earlier, and it does not count itself; an earlier
    date counts whenever it was stored, and a superseded one never does."""
    steps = [_step("a", "2026-03-10", "load", stored="T9"),
             _step("x", "2026-03-17", "run", stored="T5"),
             _step("c", "2026-03-17", "sprint", stored="T6")]
    assert latest_signed_step(steps, "2026-03-17", stored_before="T5") == {
        "phase": "load", "date": "2026-03-10"}
    assert latest_signed_step(steps, "2026-03-17", stored_before="T7") == {
        "phase": "sprint", "date": "2026-03-17"}
    superseded = [_step("a", "2026-03-10", "load", superseded="T8")]
    assert latest_signed_step(superseded, "2026-03-17", stored_before="T5") is None
