"""Autocomplete widgets: a select that renders only the chosen options and asks the server for
the rest as the user types (tom-select), so a form never lists a big table."""
from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class AutocompleteMixin:
    def __init__(self, url_name: str, attrs=None, placeholder: str = "", forward: str = ""):
        super().__init__(attrs)
        self.url_name = url_name
        self.placeholder = placeholder
        # The name of another field of the form whose value is sent along as ?unit= (the record's
        # unit, for pickers of colleagues who may act on it).
        self.forward = forward

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-autocomplete-url"] = reverse(self.url_name)
        attrs.setdefault("class", "form-select")
        # The texts portal.js shows, in the page's language.
        attrs["data-placeholder"] = str(self.placeholder or _("Type to search…"))
        attrs["data-no-results"] = str(_("No match"))
        if self.forward:
            attrs["data-forward"] = self.forward
        return attrs

    def optgroups(self, name, value, attrs=None):
        # Only the selected values are rendered; `self.choices.queryset` is filtered to them.
        selected = {str(v) for v in value if v not in (None, "")}
        choices = getattr(self.choices, "queryset", None)
        if choices is None or not selected:
            return [(None, [self.create_option(name, "", "", False, 0)], 0)] if not self.allow_multiple_selected else []
        options = [
            self.create_option(name, obj.pk, str(obj), True, index)
            for index, obj in enumerate(choices.filter(pk__in=[v for v in selected if v.isdigit()]))
        ]
        return [(None, options, 0)]


class AutocompleteSelect(AutocompleteMixin, forms.Select):
    pass


class AutocompleteSelectMultiple(AutocompleteMixin, forms.SelectMultiple):
    pass
