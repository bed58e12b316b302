import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def short_date(value):
    """`m-d` within this year, `Y-m-d` otherwise: a deadline missed last December is not this December's."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_format(value, "m-d" if value.year == timezone.localdate().year else "Y-m-d")
