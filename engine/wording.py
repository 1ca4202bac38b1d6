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
from rules.dictionary import FIELDS_BY_PATH, PHASE_IDS
from rules.protocol import OPERATOR_SYMBOLS, PERCENT_MEASURES, Condition, ProfileLimit

_MEASURE_WORDS = {
    "lsi": "LSI",
    "asymmetry": "asymmetry",
    "deficit": "deficit",
    "injured": "injured side",
    "ratio": "% of reference",
    "sum": "sum",
    "days_since_injury": "days since injury",
    "bamic_grade": "BAMIC grade",
    "bamic_site": "BAMIC site",
    "region": "region",
    "phase": "decided phase",
    "phase_advance": "phases above the last signed phase",
}


def condition_label(condition: Condition) -> str:
    """What the part is called: the protocol's label, or the field's label and the measure."""
    if condition.label:
        return condition.label
    if condition.field:
        label = FIELDS_BY_PATH[condition.field].label
        return label if condition.measure == "value" else \
            f"{label} {_MEASURE_WORDS[condition.measure]}"
    return _MEASURE_WORDS.get(condition.measure, condition.measure)


def unit_of(condition: Condition) -> str | None:
    if condition.measure in PERCENT_MEASURES:
        return "%"
    if condition.measure in ("value", "injured") and condition.field:
        unit = FIELDS_BY_PATH[condition.field].unit
        return None if unit in (None, "NRS", "0–2", "0–100") else unit
    if condition.measure == "days_since_injury":
        return "days"
    return None


def format_value(value: Any, condition: Condition) -> str:
    """A measured value or threshold in the condition's unit (``84.7 %``, ``yes``, ``3``)."""
    if value is None:
        return "not assessed"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if condition.measure == "phase" and isinstance(value, int):
        return f"{value} {PHASE_IDS[value - 1]}"
    unit = unit_of(condition)
    if isinstance(value, Decimal) or (unit == "%" and isinstance(value, int | float)):
        text = f"{Decimal(str(value)):.1f}" if unit == "%" else _number(value)
    elif isinstance(value, int | float):
        text = _number(value)
    else:
        text = str(value)
    if unit is None:
        return text
    return f"{text} %" if unit == "%" else f"{text} {unit}"


def _number(value: float | int | Decimal) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def threshold_text(part: PartResult) -> str:
    """``≥ 90.0 %``; a profile limit says where it comes from (``≤ 4 (L)``)."""
    condition = part.condition
    symbol = OPERATOR_SYMBOLS[condition.op]
    if part.threshold is None:
        return f"{symbol} ? (unknown: needs {', '.join(part.missing)})"
    if condition.measure == "phase":
        return f"{symbol} {condition.threshold}"
    text = f"{symbol} {format_value(part.threshold, condition)}"
    if isinstance(condition.threshold, ProfileLimit):
        text += " (L)"
    return text


def part_text(part: PartResult) -> str:
    """``isometric 90/90 LSI ≥ 90.0 %``."""
    return f"{condition_label(part.condition)} {threshold_text(part)}"


def measured_text(part: PartResult) -> str:
    if part.outcome is None:
        return "not assessed"
    return format_value(part.value, part.condition)


def needs_sentence(result: CriterionResult) -> str | None:
    """What a criterion that is not passed needs, in one sentence (``None`` when it passes)."""
    criterion = result.criterion
    if result.passed:
        return None
    if result.status == "unmet":
        failing = [part for part in result.parts if part.outcome is False]
        return f"{criterion.id} needs " + "; ".join(
            f"{part_text(part)}, measured {measured_text(part)}" for part in failing)
    missing = [part for part in result.parts if part.outcome is None]
    if criterion.min_assessed is not None and criterion.min_assessed < len(criterion.parts):
        assessed = [part for part in result.parts if part.assessed]
        done = ", ".join(f"{condition_label(p.condition)} {measured_text(p)}" for p in assessed)
        return (f"{criterion.id} needs at least {criterion.min_assessed} of: "
                + "; ".join(part_text(p) for p in result.parts)
                + f"; assessed {len(assessed)}" + (f" ({done})" if done else "")
                + " — not assessed: " + ", ".join(condition_label(p.condition) for p in missing))
    return f"{criterion.id} needs " + "; ".join(
        f"{part_text(part)}, not assessed ({', '.join(part.missing)} missing)"
        for part in missing)
