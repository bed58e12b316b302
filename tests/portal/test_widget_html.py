"""portal.forms.FormRenderer writes out the widget templates of inputs, text areas and selects in
Python: each must give exactly the HTML of Django's own Jinja2 template, hostile values included."""
import pytest
from django import forms
from django.forms.renderers import Jinja2
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from portal.forms import FormRenderer
from portal.widgets import AutocompleteSelect

HOSTILE = '<b>"x"</b> & \'y\''


class Everything(forms.Form):
    text = forms.CharField(max_length=20, help_text="help", widget=forms.TextInput(attrs={"placeholder": HOSTILE}))
    search = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "hidden": False}))
    number = forms.IntegerField(min_value=1)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    email = forms.EmailField()
    secret = forms.CharField(widget=forms.PasswordInput)
    hidden = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    choice = forms.ChoiceField(choices=[("", "—"), ("a", HOSTILE), ("b", mark_safe("<i>safe</i>")), ("c", gettext_lazy("status")),
                                        ("Group", [("g1", "one"), ("g2", HOSTILE)]), (7, 7)])
    several = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])
    unit = forms.CharField(required=False, widget=AutocompleteSelect("members:orgunit_autocomplete"))
    flag = forms.BooleanField(required=False)
    pick = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)


DATA = [
    {},
    {"text": HOSTILE, "search": "  ", "number": "12abc", "day": "2026-13-01", "email": HOSTILE, "secret": "s",
     "hidden": HOSTILE, "note": HOSTILE + "\nsecond line", "choice": "g2", "several": ["a", "b"], "unit": "", "flag": "on",
     "pick": "b"},
    {"text": "", "number": "3", "day": "2026-12-31", "note": "", "choice": "7", "several": ["x"], "pick": "z"},
]


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_widgets_render_as_djangos_jinja2_templates(data, language):
    from django.utils import translation

    with translation.override(language):
        django_form = Everything(data or None, renderer=Jinja2())
        ours = Everything(data or None, renderer=FormRenderer())
        for name in Everything.base_fields:
            assert str(ours[name].as_widget()) == str(django_form[name].as_widget()), name


def test_inputs_text_areas_and_selects_do_not_go_through_templates(monkeypatch):
    """What the renderer writes out is not also rendered by a template; other widgets still are."""
    asked = []
    renderer = FormRenderer()
    original = renderer.get_template
    monkeypatch.setattr(renderer, "get_template", lambda name: asked.append(name) or original(name))
    form = Everything(DATA[1], renderer=renderer)
    for name in ("text", "search", "number", "day", "email", "secret", "hidden", "note", "choice", "several", "unit"):
        form[name].as_widget()
    assert asked == []
    form["pick"].as_widget()
    assert asked
