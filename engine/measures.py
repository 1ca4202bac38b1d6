"""Limb symmetry, asymmetry, deficit and ratios, rounded exactly as the protocol says.

Protocol section 3: percentages and ratios are rounded to one decimal place,
half up, *before* they are compared, and shown that way; so 269.99 N against
300 N is an LSI of 90.0 % and passes ``≥ 90 %``. The arithmetic is decimal,
not binary floating point: 180.1 ÷ 200 × 100 is exactly 90.05 and rounds to
90.1 (binary floats would give 90.04999… and round to 90.0).

A deficit is 100 − LSI with the LSI already rounded, so the deficit and the
LSI a clinician sees always add up to 100.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

__all__ = [
    "asymmetry",
    "deficit",
    "limb_symmetry_index",
    "percentage",
    "round_percentage",
    "to_decimal",
]

Number = float | int | Decimal

_ONE_DECIMAL = Decimal("0.1")
_HUNDRED = Decimal(100)
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)


def to_decimal(value: Number) -> Decimal:
    """The decimal a clinician typed: ``269.99`` stays 269.99, not 269.990000000000009…"""
    kind = type(value)  # the exact types first; subclasses (bool among them) below
    if kind is Decimal:
        return value  # type: ignore[return-value]  # mypy does not narrow on type(...) is
    if kind is int:
        return Decimal(value)
    if kind is float:
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a true/false value is not a number")
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def round_percentage(value: Number) -> Decimal:
    """Round to one decimal place, half up (90.05 → 90.1, 90.04 → 90.0)."""
    return to_decimal(value).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP, context=_CONTEXT)


def percentage(numerator: Number, denominator: Number) -> Decimal:
    """``numerator ÷ denominator × 100``, rounded to one decimal half up."""
    denominator_dec = to_decimal(denominator)
    if denominator_dec == 0:
        raise ZeroDivisionError("the reference value is 0")
    exact = _CONTEXT.divide(_CONTEXT.multiply(to_decimal(numerator), _HUNDRED), denominator_dec)
    return round_percentage(exact)


def limb_symmetry_index(injured: Number, uninjured: Number) -> Decimal:
    """LSI = injured ÷ uninjured × 100, rounded to one decimal half up."""
    return percentage(injured, uninjured)


def asymmetry(injured: Number, uninjured: Number) -> Decimal:
    """|injured − uninjured| ÷ max(injured, uninjured) × 100, rounded to one decimal half up."""
    injured_dec, uninjured_dec = to_decimal(injured), to_decimal(uninjured)
    larger = max(injured_dec, uninjured_dec)
    if larger == 0:
        return Decimal("0.0")
    return percentage(abs(injured_dec - uninjured_dec), larger)


def deficit(injured: Number, uninjured: Number) -> Decimal:
    """100 − LSI, with the LSI rounded first (so deficit + LSI = 100 as shown)."""
    return _HUNDRED - limb_symmetry_index(injured, uninjured)
