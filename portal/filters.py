import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.widgets import AutocompleteSelect


class SubtreeFilter(django_filters.ModelChoiceFilter):
    """Filter by an org unit including all its descendants (one prefix match on the path)."""

    def __init__(self, *args, path_lookup: str = "org_unit__path", **kwargs):
        self.path_lookup = path_lookup
        kwargs.setdefault("label", _("org unit (with sub-units)"))
        kwargs.setdefault("widget", AutocompleteSelect("members:orgunit_autocomplete"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.path_lookup}__startswith": value.path})


class SearchFilter(django_filters.CharFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("search"))
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": _("Search…"), "type": "search"}))
        super().__init__(*args, **kwargs)


# Years a filter or a query parameter may name: dates outside them cannot be built (year -1,
# year 99999) and no data of the portal lies there.
YEAR_MIN, YEAR_MAX = 1900, 2100


def year_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(min_value=YEAR_MIN, max_value=YEAR_MAX, **kwargs)


class YearFilter(django_filters.NumberFilter):
    """A whole year between YEAR_MIN and YEAR_MAX; anything else is a form error, not a query."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", YEAR_MIN)
        kwargs.setdefault("max_value", YEAR_MAX)
        super().__init__(*args, **kwargs)


def query_value(params, name: str, field: forms.Field, default=None):
    """The query parameter `name` cleaned by the form field `field` (`default` when absent or
    empty). For pages that read a parameter without a filter form; a bad value answers 400 with
    the field's message instead of reaching a query."""
    from django.core.exceptions import BadRequest, ValidationError

    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return field.clean(raw)
    except ValidationError as error:
        raise BadRequest(f"{name}: {' '.join(error.messages)}") from None


def query_year(params, default: int) -> int:
    return query_value(params, "year", year_field(), default)


def install_datetime_check() -> None:
    """Every datetime a Django form or filter reads with an explicit UTC offset is turned into UTC
    there. PostgreSQL takes offsets up to ±15:59 only (ISO 8601 allows up to ±23:59: "…-23:27"
    failed in the query), and a time that leaves the calendar when moved to UTC (year 1 at +23:00)
    is a form error instead of an OverflowError. Installed once (portal.apps) for all forms."""
    import datetime

    from django.core.exceptions import ValidationError

    if getattr(forms.DateTimeField, "_portal_checks_offsets", False):
        return
    to_python = forms.DateTimeField.to_python

    def checked_to_python(self, value):
        result = to_python(self, value)
        if isinstance(result, datetime.datetime) and result.utcoffset() is not None:
            try:
                result = result.astimezone(datetime.timezone.utc)
            except OverflowError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return result

    forms.DateTimeField.to_python = checked_to_python
    forms.DateTimeField._portal_checks_offsets = True
