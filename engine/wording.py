"""How a condition and its measurement read to a clinician.

``isometric 90/90 LSI ≥ 90.0 %``, ``measured 84.7 %``, and the sentence that
says what a blocking criterion needs: ``C302 needs isometric 90/90 LSI ≥
90.0 %, measured 84.7 %``. The decision carries these sentences next to the
structured values they are made from, so the command line, the web page and
the PDF say the same thing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.conditions import CriterionResult, PartResult
from rules.dictionary import PHASE_IDS, READABLE_FIELDS, FieldKind
from rules.protocol import (
    OPERATOR_SYMBOLS,
    PERCENT_MEASURES,
    PRESENCE_OPERATORS,
    Condition,
    MeasureSpec,
    ProfileLimit,
)

_MEASURE_WORDS = {
    "lsi": "LSI",
    "asymmetry": "asymmetry",
    "deficit": "deficit",
    "injured": "injured side",
    "ratio": "% of reference",
    "sum": "sum",
    "times": "times the reference",
    "first_of": "",
    "days_since_injury": "days since injury",
    "bamic_grade": "BAMIC grade",
    "bamic_site": "BAMIC site",
    "region": "region",
    "phase": "decided phase",
}
_NO_UNIT = (None, "NRS", "0–2", "0–100")


def condition_label(condition: MeasureSpec) -> str:
    """What the part is called: the protocol's label, or the field's label and the measure."""
    if condition.label:
        return condition.label
    if condition.field:
        field = READABLE_FIELDS.get(condition.field)
        label = field.label if field is not None else condition.field
        return label if condition.measure == "value" else \
            f"{label} {_MEASURE_WORDS[condition.measure]}"
    return _MEASURE_WORDS.get(condition.measure, condition.measure)


def unit_of(condition: MeasureSpec) -> str | None:
    """The unit a value or threshold of this measure is shown in (``%``, ``N``, ``days``)."""
    measure = condition.measure
    if measure in PERCENT_MEASURES:
        return "%"
    if measure == "first_of":
        return unit_of(condition.first_of[0]) if condition.first_of else None
    if measure in ("value", "injured", "times") and condition.field:
        field = READABLE_FIELDS.get(condition.field)
        if field is None and condition.field.endswith((".injured", ".uninjured")):
            field = READABLE_FIELDS.get(condition.field.rpartition(".")[0])
        if field is None or field.kind in (FieldKind.CHOICE, FieldKind.BOOLEAN):
            return None
        return None if field.unit in _NO_UNIT else field.unit
    if measure == "days_since_injury":
        return "days"
    return None


def format_value(value: Any, condition: MeasureSpec) -> str:
    """A measured value or threshold in the condition's unit (``84.7 %``, ``yes``, ``3``)."""
    if value is None:
        return "not assessed"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if condition.measure == "phase" and isinstance(value, int):
        return f"{value} {PHASE_IDS[value - 1]}"
    entry = _UNITS.get(id(condition))
    if entry is None or entry[0] is not condition:
        entry = _UNITS[id(condition)] = (condition, unit_of(condition))
    unit = entry[1]
    if unit == "%" and isinstance(value, Decimal | int | float):
        text = f"{Decimal(str(value)):.1f}"
    elif isinstance(value, int | float | Decimal):
        text = _number(value)
    else:
        text = str(value).replace("_", " ")
    if unit is None:
        return text
    return f"{text} %" if unit == "%" else f"{text} {unit}"


_UNITS: dict[int, tuple[MeasureSpec, str | None]] = {}
"""The unit of each condition of a loaded protocol, worked out once (a protocol's
conditions live as long as it; the entry keeps its condition, so a reused id is seen)."""


def _number(value: float | int | Decimal) -> str:
    if isinstance(value, Decimal):
        value = value.normalize() if value == value.to_integral() else value
        return f"{value:f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def threshold_text(part: PartResult) -> str:
    """``≥ 90.0 %``; a profile limit says where it comes from (``≤ 4 (L)``)."""
    condition = part.condition
    symbol = OPERATOR_SYMBOLS[condition.op]
    if condition.op in PRESENCE_OPERATORS:
        return symbol
    if condition.measure == "phase":
        return f"{symbol} {condition.threshold}"
    if part.threshold is None:
        return f"{symbol} ? (unknown: needs {', '.join(part.missing)})"
    if condition.measure == "times":
        factor = condition.threshold
        reference = dict(part.inputs).get(condition.denominator or "")
        return (f"{symbol} {format_value(part.threshold, condition)} "
                f"({_number(factor) if isinstance(factor, int | float) else factor} × "
                f"{format_value(reference, condition)})")
    text = f"{symbol} {format_value(part.threshold, condition)}"
    if isinstance(condition.threshold, ProfileLimit):
        text += " (L)"
    return text


def part_text(part: PartResult) -> str:
    """``isometric 90/90 LSI ≥ 90.0 %``."""
    return f"{condition_label(part.condition)} {threshold_text(part)}"


def measured_text(part: PartResult) -> str:
    """The measured value in words: ``84.7 %`` (``, measured`` / ``, self-rated`` when a
    quantity can be measured more than one way), ``not assessed``, or for a zero reference
    ``reference 0: passes``."""
    condition = part.condition
    if condition.op in PRESENCE_OPERATORS:
        return "recorded" if part.value is not None else "not recorded"
    if part.outcome is None:
        return "not assessed"
    if part.value is None:
        if condition.zero_reference == "passes":
            return "reference 0: passes"
        return "not recorded"
    text = format_value(part.value, condition)
    if part.basis and condition.measure == "first_of":
        text += f" ({part.basis.replace('_', '-')})"
    return text


def needs_sentence(result: CriterionResult) -> str | None:
    """What a criterion that is not passed needs, in one sentence (``None`` when it passes)."""
    criterion = result.criterion
    if result.passed:
        return None
    if result.status == "unmet":
        if result.attestation is not None and result.attestation.outcome is False:
            return (f"{criterion.id} needs "
                    + "; ".join(part_text(part) for part in result.parts)
                    + f", or {part_text(result.attestation)}; attested "
                      f"{measured_text(result.attestation)}")
        failing = [part for part in result.parts if part.outcome is False]
        return f"{criterion.id} needs " + "; ".join(
            f"{part_text(part)}, measured {measured_text(part)}" for part in failing)
    missing = [part for part in result.parts if part.outcome is None]
    if criterion.attestation is not None:
        absent = ", ".join(dict.fromkeys(m for p in missing for m in p.missing))
        return (f"{criterion.id} needs " + "; ".join(part_text(p) for p in result.parts)
                + f" (not assessed: {absent}), or {condition_label(criterion.attestation)} "
                  "= yes")
    if criterion.min_assessed is not None and criterion.min_assessed < len(criterion.parts):
        assessed = [part for part in result.parts if part.assessed]
        done = ", ".join(f"{condition_label(p.condition)} {measured_text(p)}" for p in assessed)
        return (f"{criterion.id} needs at least {criterion.min_assessed} of: "
                + "; ".join(part_text(p) for p in result.parts)
                + f"; assessed {len(assessed)}" + (f" ({done})" if done else "")
                + " — not assessed: " + ", ".join(condition_label(p.condition) for p in missing))
    return f"{criterion.id} needs " + "; ".join(
        f"{part_text(part)}, not assessed ({_or_missing(part)} missing)" for part in missing)


def _or_missing(part: PartResult) -> str:
    condition: Condition = part.condition
    if condition.measure == "first_of" and condition.first_of:
        groups = [" and ".join(alternative.field_paths()) for alternative in condition.first_of]
        return " or ".join(groups)
    return ", ".join(part.missing)
