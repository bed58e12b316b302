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
