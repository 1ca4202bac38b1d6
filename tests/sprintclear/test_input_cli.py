"""``sprintclear fields`` (the data dictionary) and ``sprintclear schema`` (its JSON Schema).

The schema must agree with the validator: every example validates under both,
and field by field the same values are accepted and refused by both. The rules
that span fields are the validator's alone (the schema's description lists
them).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from click.testing import CliRunner
from support import EXAMPLES, REMOVE, varied

from engine import parse_assessment
from engine.input_schema import CROSS_FIELD_RULES
from rules.dictionary import INPUT_FIELDS, REVIEW_SUBFIELDS
from rules.errors import InvalidAssessment
from sprintclear.cli import main


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_run("schema"))
    return document


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(schema)


def _validator_accepts(document: dict[str, Any]) -> bool:
    try:
        parse_assessment(document)
    except InvalidAssessment:
        return False
    return True


FIRST_VISIT: dict[str, Any] = {
    "athlete": {"id": "FC-23"},
    "injury": {"region": "hamstring", "side": "right", "date": "2026-02-10"},
    "assessment": {"date": "2026-02-12"},
}


def test_fields_prints_every_field_with_type_unit_range_and_meaning() -> None:
    lines = _run("fields").splitlines()
    assert lines[0].split() == ["field", "type", "unit", "range", "meaning"]
    first_column = [line.split()[0] for line in lines[2:] if not line.startswith(" ")]
    assert first_column == [f.path for f in INPUT_FIELDS for f in (
        [f, *REVIEW_SUBFIELDS.values()] if f.path == "injury.physician_review" else [f])]
    rest = next(line for line in lines if line.startswith("pain.rest "))
    assert rest.split() == ["pain.rest", "integer", "NRS", "0–10", "Pain", "at", "rest"]
    nordic = next(line for line in lines if line.startswith("strength.nordic_n "))
    assert "bilateral" in nordic and " N " in nordic and "0–2000 N" in nordic


def test_fields_as_json_carries_the_dictionarys_bounds() -> None:
    rows = {row["field"]: row for row in json.loads(_run("fields", "--json"))}
    assert len(rows) == len(INPUT_FIELDS) + len(REVIEW_SUBFIELDS)
    assert rows["pain.rest"] | {"meaning": ""} == {
        "field": "pain.rest", "type": "integer", "unit": "NRS", "range": "0–10",
        "meaning": "", "required": False, "minimum": 0, "maximum": 10, "choices": None}
    assert rows["injury.region"]["required"] and rows["injury.region"]["choices"] == [
        "hamstring", "calf"]


def test_every_example_is_valid_under_the_schema_and_the_validator(validator: Any) -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        document = json.loads(path.read_text("utf-8"))
        assert validator.is_valid(document), path.name
        assert _validator_accepts(document), path.name


@pytest.mark.parametrize(("changes", "accepted"), [
    ({}, True),
    ({"pain.rest": 10}, True),
    ({"pain.rest": 11}, False),
    ({"pain.rest": -1}, False),
    ({"pain.rest": "3"}, False),
    ({"pain.rest": True}, False),
    ({"pain.rest": None}, True),
    ({"pain.pian": 2}, False),
    ({"athlete.id": "FC/23"}, False),
    ({"athlete.id": REMOVE}, False),
    ({"injury.bamic_grade": "3b"}, True),
    ({"injury.bamic_grade": "5a"}, False),
    ({"injury.date": "2026-02-10T09:00"}, False),
    ({"injury.date": 20260210}, False),
    ({"flexibility.ake_deg": {"injured": 70, "uninjured": 90}}, True),
    ({"flexibility.ake_deg": {"injured": 70, "uninjured": 91}}, False),
    ({"flexibility.ake_deg": {"injured": 70}}, False),
    ({"strength.nordic_n": {"injured": 300, "uninjured": 1}}, True),
    ({"strength.nordic_n": {"injured": 300, "uninjured": 0.5}}, False),
    ({"strength.nordic_n": {"injured": 300, "uninjured": 0}}, False),
    ({"strength.heel_raise_reps": {"injured": 20, "uninjured": 25}}, True),
    ({"strength.heel_raise_reps": {"injured": 20.5, "uninjured": 25}}, False),
    ({"sprint.pre_injury_max_velocity_mps": 0.5}, False),
    ({"exposure.pre_injury_hsr_m_7d": 0}, True),
    ({"exposure.pre_injury_hsr_m_7d": 0.5}, False),
    ({"exposure.pre_injury_hsr_m_7d": 1}, True),
    ({"technique.posture": 3}, False),
    ({"injury.physician_review": {"date": "2026-02-11", "management": "conservative"}}, True),
    ({"injury.physician_review": {"date": "2026-02-11"}}, False),
    ({"readiness.confidence": 100.5}, False),
])
def test_the_schema_and_the_validator_accept_the_same_values(
        validator: Any, changes: dict[str, Any], accepted: bool) -> None:
    document = varied(FIRST_VISIT, changes)
    assert validator.is_valid(document) is accepted
    assert _validator_accepts(document) is accepted


@pytest.mark.parametrize("changes", [
    {"injury.date": "2026-02-13"},                       # after the assessment
    {"injury.muscle": "soleus"},                         # a calf muscle on a hamstring
    {"previous.phase": "load"},                          # without previous.date
    {"pain.rest": 3.0},                                  # a whole number with a decimal point
])
def test_rules_across_fields_are_the_validators_and_listed_in_the_schema(
        schema: dict[str, Any], validator: Any, changes: dict[str, Any]) -> None:
    document = varied(FIRST_VISIT, changes)
    assert validator.is_valid(document)
    assert not _validator_accepts(document)
    assert all(rule in schema["description"] for rule in CROSS_FIELD_RULES)
