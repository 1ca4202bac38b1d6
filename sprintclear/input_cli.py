"""The input's commands: ``fields`` (the data dictionary) and ``schema`` (its JSON Schema).

Both print what the validator itself uses: ``fields`` reads
``rules.dictionary`` (every field of protocol section 7 with its type, unit,
allowed range and meaning), ``schema`` prints
``engine.input_schema.assessment_json_schema()``. Exit status 0.
"""

from __future__ import annotations

import itertools
import json
import textwrap
from typing import Any

import click

from rules.dictionary import INPUT_FIELDS, REVIEW_SUBFIELDS, FieldKind, InputField

__all__ = ["fields", "schema"]

_COLUMNS = ("field", "type", "unit", "range", "meaning")
_WRAPPED = {"range": 30, "meaning": 46}
"""The long columns are wrapped to these widths (continued on the next lines)."""


def _type(spec: InputField) -> str:
    kind = str(spec.kind)
    if spec.kind is FieldKind.BILATERAL:
        kind = "bilateral" + (" integers" if spec.integer else "")
    return kind + (", required" if spec.required else "")


def _meaning(spec: InputField) -> str:
    return f"{spec.label}: {spec.help}" if spec.help else spec.label


def _range(spec: InputField) -> str:
    text = spec.range_text
    if spec.reference_minimum is not None:
        low = f"{spec.reference_minimum:g}"
        if spec.kind is FieldKind.BILATERAL:
            text += f"; uninjured side at least {low}"
        else:
            text += f"; at least {low}" + (" or exactly 0" if spec.zero_reference_allowed else "")
    return text


def _row(spec: InputField) -> dict[str, Any]:
    return {"field": spec.path, "type": _type(spec), "unit": spec.unit or "",
            "range": _range(spec), "meaning": _meaning(spec)}


def dictionary_rows() -> list[dict[str, Any]]:
    """One row per input field in the order of section 7, the review's parts after it."""
    rows = []
    for spec in INPUT_FIELDS:
        rows.append(_row(spec))
        if spec.kind is FieldKind.REVIEW:
            rows.extend(_row(sub) for sub in REVIEW_SUBFIELDS.values())
    return rows


@click.command()
@click.option("--json", "as_json", is_flag=True,
              help="A JSON array of {field, type, unit, range, meaning, required, minimum, "
                   "maximum, choices} instead of the table.")
def fields(as_json: bool) -> None:
    """Print the data dictionary: every input field with its type, unit, range and meaning."""
    if as_json:
        specs = [s for spec in INPUT_FIELDS for s in (
            [spec, *REVIEW_SUBFIELDS.values()] if spec.kind is FieldKind.REVIEW else [spec])]
        click.echo(json.dumps([{**_row(spec), "type": str(spec.kind), "required": spec.required,
                                "minimum": spec.minimum, "maximum": spec.maximum,
                                "choices": list(spec.choices) or None} for spec in specs],
                              ensure_ascii=False, indent=2))
        return
    rows = dictionary_rows()
    widths = {column: max(len(column), *(len(row[column]) for row in rows))
              for column in _COLUMNS if column not in _WRAPPED}
    widths.update(_WRAPPED)

    def lines(values: dict[str, str]) -> list[str]:
        cells = [textwrap.wrap(values[column], widths[column], break_on_hyphens=False) or [""]
                 if column in _WRAPPED else [values[column]] for column in _COLUMNS]
        return ["  ".join(part.ljust(widths[column]) for column, part in zip(
                    _COLUMNS, parts, strict=True)).rstrip()
                for parts in itertools.zip_longest(*cells, fillvalue="")]

    click.echo("\n".join(lines({column: column for column in _COLUMNS})))
    click.echo("  ".join("-" * widths[column] for column in _COLUMNS))
    for row in rows:
        click.echo("\n".join(lines(row)))


@click.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of one assessment input."""
    from engine.input_schema import assessment_json_schema

    click.echo(json.dumps(assessment_json_schema(), ensure_ascii=False, indent=2))
