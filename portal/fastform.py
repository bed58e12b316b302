"""Simple forms rendered by plain Python, as crispy-forms' bootstrap5 pack renders them with
`{{ form|crispy }}`: `{{ form|fast_form }}` (portal/templatetags/portal_tables.py).

Kept because forms are a large part of the hot pages: on the demand ledger at 1,000,000 demands
the filter form cost 12 ms of the page's 46 ms of CPU through crispy's templates, and ~1 ms here;
the demand page's action forms 15 ms (2026-12-06, the scale data of `make bench`). It knows only
text, date and number inputs, text areas and selects (autocompletes included); a form with any
other widget (a file, a checkbox, radio buttons), with errors of the whole form or with media is
rendered by crispy. `tests/portal/test_fastform.py` renders the filter form of every list page and
the action forms of demand pages both ways, with and without errors, and requires the same HTML."""
from __future__ import annotations

from django import forms
from django.utils.html import format_html
from django.utils.safestring import mark_safe

_SIMPLE = (forms.TextInput, forms.NumberInput, forms.DateInput, forms.Textarea, forms.Select)  # Select: its subclasses too
_NOT_SIMPLE = (forms.CheckboxInput, forms.RadioSelect, forms.FileInput, forms.MultiWidget)


def _simple(widget) -> bool:
    return isinstance(widget, _SIMPLE) and not isinstance(widget, _NOT_SIMPLE)


def renders(form) -> bool:
    """Whether this module renders the form (else crispy does)."""
    return not (form.non_field_errors() or form.media._js or form.media._css) and all(
        f.is_hidden or (_simple(f.field.widget) and not f.use_fieldset) for f in form)


def render_form(form) -> str:
    from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form

    if not renders(form):
        return as_crispy_form(form)
    return mark_safe("".join(str(f) if f.is_hidden else _field(f) for f in form))


def _field(field) -> str:
    widget = field.field.widget
    # The widget's classes, as crispy's {% crispy_field %} merges them (crispy_forms_field.py).
    class_name = type(widget).__name__.lower()
    css = widget.attrs.get("class", "")
    css = (css if class_name in css else f"{css} {class_name}") if css else class_name
    wanted = ["form-select" if isinstance(widget, forms.Select) else "form-control"] + (["is-invalid"] if field.errors else [])
    for name in wanted:
        if name not in css.split():
            css += " " + name
    widget.attrs["class"] = css

    required = field.field.required
    parts = [format_html('<div id="div_{}" class="mb-3{}">', field.auto_id,
                         f" {field.css_classes()}" if field.css_classes() else "")]
    if field.label:
        parts.append(format_html(
            '<label{} class="form-label{}">{}{}</label>',
            format_html(' for="{}"', field.id_for_label) if field.id_for_label else "",
            " requiredField" if required else "", field.label,
            mark_safe('<span class="asteriskField">*</span>') if required else "",
        ))
    parts.append(str(field))
    if field.errors:
        parts.append(format_html('<div id="{}_error" class="invalid-feedback">', field.errors.field_id))
        parts += [format_html('<p id="error_{}_{}"><strong>{}</strong></p>', n, field.auto_id, error)
                  for n, error in enumerate(field.errors, 1)]
        parts.append("</div>")
    if field.help_text:
        parts.append(format_html('<div {}class="form-text">{}</div>',
                                 format_html('id="{}_helptext" ', field.auto_id) if field.auto_id else "",
                                 mark_safe(field.help_text)))
    parts.append("</div>")
    return "".join(parts)  # every part is markup made above, its values escaped by format_html
