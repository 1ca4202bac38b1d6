"""The input model: the data dictionary of section 7, strictly (``engine/assessment.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import INVALID_CASES, REMOVE, hamstring_play, varied

from engine import evaluator_for, parse_assessment, parse_assessment_json
from engine.assessment import assessment_model
from rules.dictionary import FIELDS_BY_PATH, INPUT_FIELDS, FieldKind
from rules.errors import InvalidAssessment


@pytest.mark.parametrize(("changes", "field", "rule"),
                         [pytest.param(c, f, r, id=i) for i, c, f, r in INVALID_CASES])
def test_invalid_input_names_the_field_and_rule(changes: dict[str, Any], field: str,
                                               rule: str) -> None:
    """Every kind of bad input is refused with the field path and the rule it broke."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(varied(hamstring_play(), changes))
    found = {(p.field, p.rule) for p in caught.value.problems}
    assert (field, rule) in found
    assert all(p.message for p in caught.value.problems)


def test_range_message_reads_like_the_spec() -> None:
    """The message of a value out of range gives the range and what was given."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(varied(hamstring_play(), {"pain.rest": 11}))
    assert [str(p) for p in caught.value.problems] == [
        "pain.rest: must be between 0 and 10 (got 11)"]


def test_every_problem_is_reported_at_once() -> None:
    """A document with several problems gets all of them in one answer, in dictionary order."""
    document = varied(hamstring_play(), {
        "pain.rest": 11, "pian": {}, "injury.muscle": "soleus", "injury.date": "2026-04-01",
        "strength.nordic_n": (300, 0), "function.gait_normal": "yes"})
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(document)
    fields = [p.field for p in caught.value.problems]
    assert fields == ["injury.muscle", "injury.date", "previous.date", "pain.rest",
                      "function.gait_normal", "strength.nordic_n.uninjured", "pian"]


def test_misspelt_field_gets_a_suggestion() -> None:
    """A misspelt group is not silently "not assessed": it is refused with a suggestion."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(varied(hamstring_play(), {"pian": {"rest": 0}}))
    assert "did you mean 'pain'" in caught.value.problems[0].message


def test_duplicate_keys_are_refused() -> None:
    """A key given twice in the JSON text is ambiguous and refused, naming its path."""
    text = '{"athlete": {"id": "A"}, "pain": {"rest": 0, "rest": 5}}'
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment_json(text)
    assert [(p.field, p.rule) for p in caught.value.problems] == [("pain.rest", "duplicate_key")]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "42", ""])
def test_not_an_object(text: str) -> None:
    """Text that is not a JSON object is refused as a whole."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment_json(text)
    assert caught.value.problems[0].field == "<input>"


def test_absent_and_null_mean_not_assessed() -> None:
    """``null`` and a missing key are the same: the canonical input and its hash agree."""
    with_null = varied(hamstring_play(), {"pain.stretch": None, "hop": None})
    without = varied(hamstring_play(), {"pain.stretch": REMOVE, "hop": REMOVE})
    assert parse_assessment(with_null).input_sha256 == parse_assessment(without).input_sha256
    assert parse_assessment(with_null).values["pain.stretch"] is None


def test_canonical_input_is_independent_of_key_order_and_number_spelling() -> None:
    """Reordered keys and 90 vs 90.0 give the same canonical input and hash."""
    document = hamstring_play()
    reordered = json.loads(json.dumps(document, sort_keys=True))
    reordered["running"]["max_pain_free_speed_pct"] = 100.0
    assert parse_assessment(document).input_sha256 == parse_assessment(reordered).input_sha256


def test_profile_defaults_to_standard() -> None:
    """Without a profile the assessment is decided with the standard one, and says so."""
    assessment = parse_assessment(varied(hamstring_play(), {"assessment.profile": REMOVE}))
    assert assessment.profile == "standard"
    assert assessment.document["assessment"]["profile"] == "standard"


def test_values_are_never_clamped() -> None:
    """A value at the edge of its range is kept as given."""
    assessment = parse_assessment(varied(hamstring_play(), {"strength.nordic_n": (2000, 1)}))
    assert tuple(assessment.values["strength.nordic_n"]) == (2000, 1)


def test_the_model_covers_the_whole_dictionary() -> None:
    """The input model has exactly the groups and fields of the data dictionary."""
    model = assessment_model()
    schema = model.model_json_schema()
    paths = set()
    for group, ref in schema["properties"].items():
        target = ref.get("$ref") or next(a["$ref"] for a in ref["anyOf"] if "$ref" in a)
        definition = schema["$defs"][target.rsplit("/", 1)[1]]
        paths.update(f"{group}.{name}" for name in definition["properties"])
    assert paths == {spec.path for spec in INPUT_FIELDS}


@pytest.mark.parametrize(
    "text",
    ['{"athlete": {"id": "A"}, "pain": {"rest": ' + "9" * 5000 + "}}",
     "[" * 100_000 + "]" * 100_000],
    ids=["integer-beyond-conversion-limit", "nesting-beyond-recursion-limit"],
)
def test_pathological_json_is_an_input_error_not_a_crash(text: str) -> None:
    """A 5,000-digit number or 100,000 nested lists is refused as input, never a traceback."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment_json(text)
    assert caught.value.problems[0].field == "<input>"


@pytest.mark.parametrize("text", ["Dr.\x00Moreau", "line one\nline two", "tab\there", "\x1b[31m"])
def test_text_fields_refuse_control_characters(text: str) -> None:
    """Names and ids are single printable lines: NUL, newlines, tabs and escapes are refused."""
    with pytest.raises(InvalidAssessment) as caught:
        parse_assessment(varied(hamstring_play(), {"assessment.assessor": text}))
    assert [(p.field, p.rule) for p in caught.value.problems] == [("assessment.assessor", "text")]


def test_text_fields_keep_accents_and_symbols() -> None:
    """Printable text beyond ASCII (accents, apostrophes, dashes) is kept as typed."""
    name = "Liam O'Connell–Ñúñez"
    assessment = parse_assessment(varied(hamstring_play(), {"athlete.name": name}))
    assert assessment.document["athlete"]["name"] == name


_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([1e-33, 5e-324, -0.0, 1e308, 10**19, 0.1 + 0.2]))
_NUMERIC_FIELDS = [f.path for f in INPUT_FIELDS
                   if f.kind in (FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.BILATERAL)]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(_NUMERIC_FIELDS), value=_NUMBERS, other=_NUMBERS)
def test_no_number_of_any_size_crashes(path: str, value: Any, other: Any) -> None:
    """Section 7: any JSON number in any numeric field is refused (naming the field) or
    decided; never an exception of another kind."""
    spec = FIELDS_BY_PATH[path]
    given_value = (value, other) if spec.kind is FieldKind.BILATERAL else value
    document = varied(hamstring_play(), {path: given_value})
    text = json.dumps(document)  # inf and nan as JSON's extensions, as a careless client sends
    try:
        decision = evaluator_for().decision_text(text)
    except InvalidAssessment as exc:
        assert all(p.field.startswith(path) or p.field == "<input>" for p in exc.problems), \
            exc.problems
    else:
        assert json.loads(decision)["phase"]["number"] in range(1, 7)
