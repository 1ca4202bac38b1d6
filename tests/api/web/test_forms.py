"""The assessment form: its layout covers the dictionary; form → document is strict, lossless."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import example_files, load_example

from api.web.forms import (
    FROM_EPISODE,
    SECTIONS,
    assess_form,
    entered_from_document,
    form_view,
    input_names,
    label_of,
    place_problems,
    read_assessment_form,
    section_fields,
)
from engine import parse_assessment
from rules import default_protocol
from rules.dictionary import FIELDS_BY_PATH, INPUT_FIELDS, FieldKind
from rules.errors import Problem
from rules.protocol import field_regions

EPISODE = {"athlete": {"id": "FC-23", "name": "Jonas Berg"},
           "injury": {"region": "hamstring", "side": "right", "date": "2026-02-10"}}
SESSION = [("assessment.date", "2026-03-17")]


def _read(*pairs: tuple[str, str]) -> Any:
    return read_assessment_form([*SESSION, *pairs], EPISODE)


def test_every_dictionary_field_is_in_exactly_one_place() -> None:
    """Each field is an input of one section, or the stored episode's; none twice, none lost."""
    placed = [spec.path for section in SECTIONS for spec in section_fields(section)]
    assert len(placed) == len(set(placed))
    assert sorted(placed + list(FROM_EPISODE)) == sorted(spec.path for spec in INPUT_FIELDS)


def test_the_sections_follow_a_testing_session() -> None:
    """Session and injury first, then the tests in the order they are done on the day."""
    assert [s.id for s in SECTIONS] == [
        "session", "injury", "pain", "function", "running", "strength", "flexibility",
        "h-test", "hop", "technique", "sprint", "training", "exposure", "readiness"]


def test_labels_units_and_ranges_come_from_the_dictionary() -> None:
    """Every field of the page shows the dictionary's label, and its range where it has one."""
    by_path = {spec.path: spec for spec in INPUT_FIELDS}
    for section in form_view({}, place_problems([]), injured_side="left", choice_labels={}):
        for field in section.fields:
            spec = by_path[field.path]
            assert field.label == spec.label
            if spec.kind in (FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.BILATERAL):
                assert spec.range_text in field.hint, field.path
            if spec.kind is FieldKind.BILATERAL:
                assert [c.label for c in field.inputs] == ["Injured side (left)",
                                                           "Uninjured side (right)"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("12", 12), ("12.5", 12.5), (" 7 ", 7), ("0", 0), ("269.99", 269.99), ("90.0", 90.0),
    (".5", 0.5), ("+3", 3)])
def test_numbers_are_read_as_written(typed: str, expected: float) -> None:
    """A number field's text becomes that number exactly (an integer stays an integer)."""
    reading = _read(("running.max_pain_free_speed_pct", typed))
    assert reading.problems == []
    value = reading.document["running"]["max_pain_free_speed_pct"]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("name", "typed", "rule"), [
    ("running.max_pain_free_speed_pct", "abc", "number"),
    ("running.max_pain_free_speed_pct", "12,5", "number"),
    ("running.max_pain_free_speed_pct", "1e3", "number"),
    ("running.max_pain_free_speed_pct", "nan", "number"),
    ("running.max_pain_free_speed_pct", "9" * 40, "number"),
    ("running.max_pain_free_speed_pct", "0.12345678901234567", "number"),
    ("pain.rest", "2.5", "integer"),
    ("pain.rest", "two", "integer"),
    ("strength.nordic_n.injured", "3OO", "number"),
    ("strength.heel_raise_reps.uninjured", "30.0", "integer"),
    ("signs.swelling_increasing", "maybe", "boolean"),
])
def test_text_that_is_not_a_value_is_a_problem_of_that_field(name: str, typed: str,
                                                             rule: str) -> None:
    """Unreadable text is a problem naming the field, never dropped and never an exception."""
    reading = _read((name, typed))
    assert [(p.field, p.rule) for p in reading.problems] == [(name, rule)]
    assessment, problems = assess_form(reading)
    assert assessment is None
    assert any(p.field == name for p in problems)


def test_empty_means_not_assessed() -> None:
    """Empty inputs, or only spaces, leave the field out of the document."""
    reading = _read(("pain.rest", ""), ("pain.walking", "   "), ("strength.nordic_n.injured", ""),
                    ("strength.nordic_n.uninjured", ""), ("function.gait_normal", ""))
    assessment, problems = assess_form(reading)
    assert problems == [] and assessment is not None
    assert set(assessment.document) == {"athlete", "injury", "assessment"}


def test_yes_and_no_are_booleans() -> None:
    """yes / no become true / false."""
    reading = _read(("function.gait_normal", "yes"), ("signs.swelling_increasing", "no"))
    assert reading.document["function"] == {"gait_normal": True}
    assert reading.document["signs"] == {"swelling_increasing": False}


def test_one_side_of_a_pair_is_named_by_the_engine_at_the_other_side() -> None:
    """A bilateral test with one side typed: the missing side is the problem, at its input."""
    _, problems = assess_form(_read(("hop.single_cm.injured", "180")))
    assert [(p.field, p.rule) for p in problems] == [("hop.single_cm.uninjured", "required")]


def test_problems_of_both_steps_come_together_in_page_order() -> None:
    """The form's unreadable values and the engine's range errors are listed in one pass."""
    reading = _read(("readiness.confidence", "high"), ("pain.rest", "11"),
                    ("strength.isometric_90_90.injured", "250"),
                    ("strength.isometric_90_90.uninjured", "0"))
    _, problems = assess_form(reading)
    assert [p.field for p in problems] == ["pain.rest", "strength.isometric_90_90.uninjured",
                                           "readiness.confidence"]


def test_a_form_problem_is_never_stored_even_if_the_rest_validates() -> None:
    """With one unreadable value the assessment is refused, though the engine alone would pass."""
    assessment, problems = assess_form(_read(("pain.sprint", "zero")))
    assert assessment is None and [p.field for p in problems] == ["pain.sprint"]


def test_unknown_and_repeated_inputs_are_problems() -> None:
    """An input the form does not have, or one given twice, is refused and named."""
    reading = _read(("pain.rset", "0"), ("pain.rest", "0"), ("pain.rest", "1"),
                    ("athlete.id", "SOMEONE-ELSE"))
    assert [(p.field, p.rule) for p in reading.problems] == [
        ("pain.rset", "unknown_field"), ("pain.rest", "duplicate_key"),
        ("athlete.id", "unknown_field")]
    assert reading.document["athlete"]["id"] == "FC-23"  # the episode's, never the form's


@pytest.mark.parametrize("path", [p.name for p in example_files()])
def test_every_example_survives_the_form_unchanged(path: str) -> None:
    """An example shown in the form and posted back gives the very same canonical document."""
    original = parse_assessment(load_example(path.removesuffix(".json")))
    document = original.document
    episode = {"athlete": dict(document["athlete"]),
               "injury": {k: document["injury"][k] for k in ("region", "side", "date")}}
    entered = entered_from_document(document)
    assert set(entered) <= set(input_names())
    assessment, problems = assess_form(read_assessment_form(list(entered.items()), episode))
    assert problems == [] and assessment is not None
    assert assessment.input_sha256 == original.input_sha256


@given(st.decimals(min_value=0, max_value=2000, places=2, allow_nan=False))
def test_any_number_typed_is_kept_exactly(number: Decimal) -> None:
    """A number with up to two decimals reads back as the same decimal (no binary drift)."""
    typed = format(number, "f")
    reading = _read(("strength.nordic_n.injured", typed), ("strength.nordic_n.uninjured", "1"))
    assert reading.problems == []
    value = reading.document["strength"]["nordic_n"]["injured"]
    assert Decimal(repr(value)) == Decimal(typed)


@given(st.text(max_size=12))
def test_any_text_is_a_value_or_a_named_problem(typed: str) -> None:
    """Whatever is typed in a number field, the answer is a value or a problem of that field."""
    reading = _read(("sprint.max_velocity_mps", typed))
    _, problems = assess_form(reading)
    value = reading.document.get("sprint", {}).get("max_velocity_mps")
    if typed.strip():
        assert value is not None or any(p.field == "sprint.max_velocity_mps" for p in problems)
    else:
        assert value is None and problems == []


def test_problems_are_placed_next_to_their_inputs() -> None:
    """A side's problem sits at that side; a pair's at the pair; the episode's at the episode."""
    problems = [Problem("strength.nordic_n.uninjured", "range", "r"),
                Problem("strength.nordic_n", "object", "o"),
                Problem("strength.nordic_n.left", "unknown_field", "u"),
                Problem("injury.date", "date_order", "d"),
                Problem("<form>", "form", "f")]
    placed = place_problems(problems)
    assert placed.by_input == {"strength.nordic_n.uninjured": ("r",),
                               "strength.nordic_n": ("o", "u"), "injury.date": ("d",)}
    assert problems[-1] not in placed.anchors


def test_the_json_of_a_form_is_plain() -> None:
    """The document a form gives is plain JSON data (what the store hashes)."""
    reading = _read(("pain.rest", "0"), ("hop.single_cm.injured", "180.5"),
                    ("hop.single_cm.uninjured", "190"))
    assert json.loads(json.dumps(reading.document)) == reading.document


def test_the_physician_review_is_read_from_its_three_parts() -> None:
    """Date, management and by become one injury.physician_review object; all empty: none."""
    reading = _read(("injury.physician_review.date", "2026-03-01"),
                    ("injury.physician_review.management", "conservative"),
                    ("injury.physician_review.by", "Dr. H. Okoye"))
    assessment, problems = assess_form(reading)
    assert problems == [] and assessment is not None
    assert assessment.document["injury"]["physician_review"] == {
        "date": "2026-03-01", "management": "conservative", "by": "Dr. H. Okoye"}
    empty = _read(("injury.physician_review.date", ""),
                  ("injury.physician_review.management", ""),
                  ("injury.physician_review.by", " "))
    assert "physician_review" not in empty.document["injury"]


def test_a_review_without_its_management_is_named_at_that_part() -> None:
    """A review with a date but no management is refused at the management input."""
    reading = _read(("injury.physician_review.date", "2026-03-01"),
                    ("injury.physician_review.management", ""))
    assessment, problems = assess_form(reading)
    assert assessment is None
    assert [(p.field, p.rule) for p in problems] == [
        ("injury.physician_review.management", "required")]
    assert place_problems(problems).by_input == {
        "injury.physician_review.management": ("is required",)}
    assert label_of("injury.physician_review.management") == "Physician review: management decided"


def test_the_review_is_a_fieldset_of_three_inputs() -> None:
    """The review is laid out as its parts: a date, a choice of management, a text for by."""
    sections = form_view({"injury.physician_review.management": "surgical"}, place_problems([]),
                         injured_side="left", choice_labels={})
    review = next(f for s in sections for f in s.fields if f.path == "injury.physician_review")
    assert review.control == "review"
    assert [(c.name, c.control, c.required) for c in review.inputs] == [
        ("injury.physician_review.date", "date", True),
        ("injury.physician_review.management", "select", True),
        ("injury.physician_review.by", "text", False)]
    assert [v for v, _ in review.inputs[1].options] == ["", "conservative", "surgical"]
    assert review.inputs[1].value == "surgical"


def _laid_out(region: str, entered: dict[str, str] | None = None) -> dict[str, Any]:
    sections = form_view(entered or {}, place_problems([]), injured_side="right",
                         choice_labels={}, region=region,
                         regions=field_regions(default_protocol()))
    return {f.path: f for s in sections for f in s.fields}


def test_the_form_asks_each_region_for_its_own_tests() -> None:
    """Hamstring: Nordics, H-test, avulsion; calf: knee-bent heel raises, knee-to-wall, DVT."""
    hamstring, calf = _laid_out("hamstring"), _laid_out("calf")
    regions = field_regions(default_protocol())
    for path, belongs in regions.items():
        if path in FIELDS_BY_PATH and path not in FROM_EPISODE:
            assert (path in hamstring) == ("hamstring" in belongs), path
            assert (path in calf) == ("calf" in belongs), path
    assert "strength.nordic_n" in hamstring and "strength.nordic_n" not in calf
    assert "flexibility.knee_to_wall_cm" in calf and "flexibility.knee_to_wall_cm" not in hamstring
    assert "signs.dvt_suspected" in calf and "signs.avulsion_suspected" in hamstring
    assert "hop.single_cm" in hamstring and "hop.single_cm" in calf
    assert "injury.physician_review" in hamstring and "injury.physician_review" in calf


def test_a_section_without_fields_of_the_region_is_left_out() -> None:
    """The Askling H-test is a hamstring test: a calf injury's form has no H-test section."""
    sections = form_view({}, place_problems([]), injured_side="right", choice_labels={},
                         region="calf", regions=field_regions(default_protocol()))
    assert "h-test" not in [s.id for s in sections]
    assert all(s.fields for s in sections)


def test_a_value_of_the_other_region_stays_on_the_form_marked() -> None:
    """A Nordic value in a calf document (a correction) is shown, saying whose test it is."""
    calf = _laid_out("calf", {"strength.nordic_n.injured": "300"})
    assert calf["strength.nordic_n"].other_region == "hamstring"
    assert [c.value for c in calf["strength.nordic_n"].inputs] == ["300", ""]
    assert _laid_out("calf")["strength.heel_raise_reps"].other_region == ""


@pytest.mark.parametrize("path", [p.name for p in example_files()])
def test_every_example_is_entered_in_its_regions_form(path: str) -> None:
    """Every value of an example has its input on the form of the example's region, unmarked."""
    document = parse_assessment(load_example(path.removesuffix(".json"))).document
    entered = entered_from_document(document)
    laid_out = _laid_out(document["injury"]["region"], entered)
    names = {c.name for f in laid_out.values() for c in f.inputs}
    assert set(entered) <= names
    assert not [f.path for f in laid_out.values() if f.other_region]
