"""Display rounding: half up (四舍五入) as kpis.md says, never banker's rounding or binary floats, and
never scientific notation."""
from decimal import Decimal

import pytest
from django.template import Context, Template

from portal import numbers


@pytest.mark.parametrize("value, places, text", [
    (86.725, 2, "86.73"),               # round(86.725, 2) == 86.72 with floats
    (Decimal("86.725"), 2, "86.73"),
    (Decimal("3.53125"), 4, "3.5313"),  # the example of kpis.md
    (2.5, 0, "3"),                      # not to even
    (Decimal("0.005"), 2, "0.01"),
    (40, 2, "40.00"),
    (None, 2, ""),
])
def test_fixed_rounds_half_up(value, places, text):
    assert numbers.fixed(value, places) == text


@pytest.mark.parametrize("value, text", [
    (Decimal("40").normalize(), "40"),  # Decimal('4E+1')
    (Decimal("60.00"), "60"),
    (Decimal("12.50"), "12.5"),
    (Decimal("1E+3"), "1000"),
    (0, "0"),
])
def test_plain_never_uses_scientific_notation(value, text):
    assert numbers.plain(value) == text


def test_template_filters():
    template = Template("{% load portal_numbers %}{{ a|fixed:2 }} {{ b|plain }} {{ c|plain:2 }}")
    assert template.render(Context({"a": 86.725, "b": Decimal("4E+1"), "c": Decimal("1.005")})) == "86.73 40 1.01"
