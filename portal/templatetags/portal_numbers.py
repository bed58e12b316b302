"""Template filters for figures: the rounding rule of portal/numbers.py (half up, no exponent).

{{ value|fixed:2 }} → "86.73"; {{ value|plain }} → "40" / "12.5"; {{ value|plain:2 }} rounds first.
"""
from django import template

from portal import numbers

register = template.Library()


@register.filter
def fixed(value, places=2):
    return numbers.fixed(value, int(places))


@register.filter
def plain(value, places=None):
    return numbers.plain(value, None if places in (None, "") else int(places))
