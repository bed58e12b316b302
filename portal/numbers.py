"""Numbers for people: one rounding rule for every page, export and chart label.

kpis.md: every figure the portal displays rounds half up (四舍五入), never to even and never through
a binary float (Python's round(86.725, 2) gives 86.72 because 86.725 is stored as 86.72499…).
Values go through Decimal(str(value)), so a float rounds as it reads. Text never uses scientific
notation ("4E+1" from Decimal.normalize()).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def to_decimal(value) -> Decimal | None:
    """The value as a Decimal as it reads (a float through its shortest repr), None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def half_up(value, places: int = 2) -> Decimal | None:
    """Rounded half up to `places` decimals (0: a whole number)."""
    number = to_decimal(value)
    if number is None:
        return None
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def plain(value, places: int | None = None) -> str:
    """Text without exponent and without trailing zeros: 40 → "40", 12.50 → "12.5", 4E+1 → "40".
    With `places` it is first rounded half up to that many decimals. Empty → ""."""
    number = to_decimal(value) if places is None else half_up(value, places)
    if number is None:
        return ""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fixed(value, places: int = 2) -> str:
    """Text with exactly `places` decimals, rounded half up: 86.725 → "86.73". Empty → ""."""
    number = half_up(value, places)
    return "" if number is None else f"{number:f}"
