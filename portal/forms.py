from django import forms
from django.forms.renderers import Jinja2
from markupsafe import escape
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .safetext import clean_text
from .scope import visible


def posted_id(request, name: str = "id") -> int:
    """The record id a page's hidden field posts back (an indicator to delete, a risk to close):
    anything but a whole number finds nothing (0) instead of failing in the database query."""
    value = request.POST.get(name, "")
    return int(value) if value.isascii() and value.isdigit() else 0


def posted_text(request, name: str, limit: int | None = 500) -> str:
    """A short text posted outside a Django form (a comment, a reason), cleaned like form input
    (portal.safetext.clean_text: PostgreSQL cannot even store a NUL)."""
    return clean_text(request.POST.get(name, "")).strip()[:limit]


class LabelBoundField(forms.BoundField):
    """Every label starts with a capital, as Django's own labels taken from model fields do. The
    catalogue's msgids are lower-case ("status", "received from"); English pages showed them so."""

    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        self.label = capfirst(self.label)


_INPUTS = {f"django/forms/widgets/{kind}.html" for kind in (
    "input", "text", "number", "date", "search", "email", "url", "tel", "password", "hidden", "time", "datetime")}
_SELECT, _OPTION = "django/forms/widgets/select.html", "django/forms/widgets/select_option.html"
_TEXTAREA = "django/forms/widgets/textarea.html"


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html"""
    return "".join(f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
                   for name, value in attrs.items() if value is not False)


def _option(option: dict) -> str:
    return f'<option value="{escape(option["value"])}"{_attrs(option["attrs"])}>{escape(option["label"])}</option>'


def _widget_html(template_name: str, widget: dict) -> str | None:
    """The HTML of Django's Jinja2 template `template_name` for `widget` (its context), written out,
    or None for a template not written here."""
    if template_name in _INPUTS:
        value = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
        return f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    if template_name == _TEXTAREA:
        value = escape(widget["value"]) if widget["value"] else ""
        return f'<textarea name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'
    if template_name == _SELECT:
        parts = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if any(option["template_name"] != _OPTION for option in options):
                return None
            if group_name:
                parts.append(f'\n  <optgroup label="{escape(group_name)}">')
            parts += ["\n  " + _option(option) for option in options]
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)
    return None


class FormRenderer(Jinja2):
    """settings.FORM_RENDERER: every form's fields, filter forms included, bind as LabelBoundField.

    Widgets render through Django's own Jinja2 widget templates: a filter form's selects (every
    option a template) cost 21 ms on the demand ledger through the Django template engine and
    9 ms through Jinja2 (profiled on the scale data, 2026-12-06). The templates of text, date and
    number inputs, text areas and selects are written out in Python (`_widget_html`): the
    ledger's filter form of nine fields, built and rendered, took 4.9–6.1 ms through the
    templates and 3.8–4.4 ms so (three alternated runs of 200, 2026-12-08, scale data).
    `tests/portal/test_widget_html.py` renders each kind both ways, hostile values included, and
    requires the same HTML."""

    bound_field_class = LabelBoundField

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if request is None else None
        html = _widget_html(template_name, widget) if widget is not None else None
        return super().render(template_name, context, request) if html is None else html


class ScopedModelForm(forms.ModelForm):
    """A model form that knows its user and limits org unit choices to the user's scope."""

    scoped_org_fields: tuple[str, ...] = ("org_unit",)
    org_permission = "orgunits.view"

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        from .org import org_unit_model

        for name in self.scoped_org_fields:
            if name in self.fields:
                self.fields[name].queryset = visible(org_unit_model().objects.all(), user, self.org_permission)


def check_deadline_not_past(form: forms.BaseForm, field: str = "deadline") -> None:
    """A deadline being set (on a new record, or changed) cannot lie in the past. An unchanged
    deadline of an existing record may stay as it is, even once it has passed."""
    from django.utils import timezone

    value = form.cleaned_data.get(field)
    instance = getattr(form, "instance", None)
    is_new = instance is None or instance.pk is None
    if value and (is_new or field in form.changed_data) and value < timezone.localdate():
        form.add_error(field, _("The deadline cannot be in the past."))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TagsField(forms.CharField):
    """Tags typed as one text, separated by ; or ， or spaces."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate tags with “;”."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ";".join(value)
        return value

    def to_python(self, value):
        import re

        value = super().to_python(value)
        tags = [t.strip() for t in re.split(r"[;；,，\s]+", value or "") if t.strip()]
        for tag in tags:
            if len(tag) > 30:
                raise forms.ValidationError(_("A tag has at most 30 characters."))
        return list(dict.fromkeys(tags))
