"""The JSON Schema of an assessment input, as ``sprintclear schema`` prints it.

It is the JSON Schema (draft 2020-12) of the pydantic model the validator
uses (``engine.assessment.assessment_model``, built from the data dictionary),
with the per-field rules the model leaves to the validator's own checks
written in too: a reference a ratio divides by (the uninjured side of a
bilateral measure, a pre-injury figure) is at least its ``reference_minimum``
(an exposure reference may also be 0; protocol section 7).

What the schema refuses, the validator refuses. The validator also applies
rules that span fields, listed in the schema's ``description`` (and in the
README): a JSON Schema cannot say them. One more difference is JSON's own: a
JSON Schema ``integer`` allows ``3.0``, which the validator refuses (whole
numbers are written without a decimal point).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from engine.assessment import assessment_model
from rules.dictionary import INPUT_FIELDS, FieldKind, InputField

__all__ = ["CROSS_FIELD_RULES", "assessment_json_schema"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

CROSS_FIELD_RULES = (
    "a key given at most once",
    "dates are calendar dates",
    "injury.date not after assessment.date",
    "injury.muscle belongs to injury.region",
    "previous.phase and previous.date together",
    "previous.date and injury.physician_review.date between the injury and the assessment",
    "whole numbers without a decimal point (3, not 3.0)",
)
"""The rules the validator checks beyond the schema (section 7)."""


def _value_branch(prop: dict[str, Any]) -> dict[str, Any]:
    """The non-null alternative of an optional property (the property itself if required)."""
    for branch in prop.get("anyOf", ()):
        if branch.get("type") != "null":
            return branch  # type: ignore[no-any-return]
    return prop


def _refine_reference(schema: dict[str, Any], spec: InputField) -> None:
    assert spec.reference_minimum is not None
    defs = schema["$defs"]
    prop = defs[spec.group.title()]["properties"][spec.name]
    branch = _value_branch(prop)
    if spec.kind is FieldKind.BILATERAL:
        target = defs[branch["$ref"].rsplit("/", 1)[1]]["properties"]["uninjured"]
        target["minimum"] = spec.reference_minimum
        return
    if spec.zero_reference_allowed:
        nonzero = {**branch, "minimum": spec.reference_minimum}
        branch.clear()
        branch["anyOf"] = [{"const": 0}, nonzero]
    else:
        branch["minimum"] = spec.reference_minimum


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT,
                              **assessment_model().model_json_schema()}
    for spec in INPUT_FIELDS:
        if spec.reference_minimum is not None:
            _refine_reference(schema, spec)
    schema["description"] = (
        f"{schema.get('description', '').strip()} Absent or null means \"not assessed\". "
        "Beyond this schema the validator also checks: " + "; ".join(CROSS_FIELD_RULES) + ".")
    return schema


def assessment_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one assessment document; a fresh copy each call."""
    return copy.deepcopy(_schema())
