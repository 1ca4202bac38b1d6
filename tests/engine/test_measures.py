"""Limb symmetry, asymmetry, deficit and ratios: one decimal, half up, exactly (section 3)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.measures import (
    asymmetry,
    deficit,
    limb_symmetry_index,
    percentage,
    round_percentage,
)


def _half_up(value: Fraction) -> Decimal:
    """Reference rounding on exact fractions: one decimal, ties away from zero."""
    tenths = value * 10
    whole = int(tenths)  # toward zero; every value here is >= 0
    if tenths - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole) / 10


def _exact(value: float) -> Fraction:
    return Fraction(Decimal(repr(value)))


@pytest.mark.parametrize(
    ("injured", "uninjured", "expected"),
    [
        (269.99, 300, "90.0"),  # the protocol's own example
        (180.1, 200, "90.1"),  # exactly 90.05: half up (binary floats would give 90.0)
        (180.09, 200, "90.0"),  # 90.045
        (269.85, 300, "90.0"),  # 89.95 exactly: half up to 90.0
        (269.84, 300, "89.9"),  # 89.9466…
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (300, 300, "100.0"),
        (0, 300, "0.0"),
        (450, 300, "150.0"),
    ],
)
def test_limb_symmetry_index_rounds_half_up(injured: float, uninjured: float,
                                            expected: str) -> None:
    """LSI = injured ÷ uninjured × 100, rounded to one decimal half up on the typed decimals."""
    assert limb_symmetry_index(injured, uninjured) == Decimal(expected)


def test_asymmetry_uses_the_larger_side() -> None:
    """Asymmetry divides by the larger side, whichever limb it is."""
    assert asymmetry(255, 300) == Decimal("15.0")
    assert asymmetry(300, 255) == Decimal("15.0")
    assert asymmetry(0, 0) == Decimal("0.0")


def test_deficit_and_lsi_add_up_to_100_as_shown() -> None:
    """The deficit is taken from the rounded LSI, so the two numbers a clinician sees sum to 100."""
    assert limb_symmetry_index(143.92, 160) == Decimal("90.0")  # 89.95 → 90.0
    assert deficit(143.92, 160) == Decimal("10.0")


def test_ratio_rounds_like_a_percentage() -> None:
    """A velocity ratio is a percentage too: 9.495 of 10 m/s is 95.0 %."""
    assert percentage(9.495, 10) == Decimal("95.0")
    assert percentage(9.494, 10) == Decimal("94.9")


def test_zero_reference_is_refused() -> None:
    """Dividing by a zero reference is an error, never a silent 0 or infinity."""
    with pytest.raises(ZeroDivisionError):
        limb_symmetry_index(100, 0)


def test_round_percentage_of_input_values() -> None:
    """An entered percentage is rounded the same way before it is compared."""
    assert round_percentage(69.95) == Decimal("70.0")
    assert round_percentage(69.94) == Decimal("69.9")
    assert round_percentage(10.05) == Decimal("10.1")


sides = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2).map(float)


@given(injured=sides, uninjured=sides)
def test_lsi_matches_exact_fraction_arithmetic(injured: float, uninjured: float) -> None:
    """For any two-decimal inputs, the LSI equals exact rational arithmetic rounded half up."""
    expected = _half_up(_exact(injured) * 100 / _exact(uninjured))
    assert limb_symmetry_index(injured, uninjured) == expected


@given(injured=sides, uninjured=sides)
def test_asymmetry_matches_exact_fraction_arithmetic(injured: float, uninjured: float) -> None:
    """Asymmetry equals exact rational arithmetic rounded half up, and is symmetric."""
    a, b = _exact(injured), _exact(uninjured)
    expected = _half_up(abs(a - b) * 100 / max(a, b))
    assert asymmetry(injured, uninjured) == expected == asymmetry(uninjured, injured)
