from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Person
from portal.forms import DateInput
from portal.scope import visible
from portal.uploads import DOCUMENT_ACCEPT, validate_upload
from portal.widgets import AutocompleteSelect

from . import selectors
from .choices import Level, MeasureKind, Pack, Reason, ReviewOutcome
from .models import AssistanceMeasure
from .workflow import Action


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        unit = obj.scope_org.name if obj.scope_org_id else ""
        return f"{obj.display_name}（{unit}）" if unit else obj.display_name


def errors_from(form, error: ValidationError) -> None:
    """Put a service's ValidationError beside the form's fields (or on top)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def _not_future(value):
    if value and value > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."))
    return value


class HouseholdForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("person"), queryset=Person.objects.none(),
        widget=AutocompleteSelect("members:person_autocomplete", placeholder=_("Type a name or employee number")),
    )
    reason = forms.ChoiceField(label=_("cause of hardship"), choices=Reason.choices)
    level = forms.ChoiceField(label=_("hardship level"), choices=Level.choices, initial=Level.ORDINARY)
    family_size = forms.IntegerField(label=_("household members"), min_value=1, max_value=30, initial=1)
    family_situation = forms.CharField(label=_("family situation"), widget=forms.Textarea(attrs={"rows": 4}),
                                       max_length=5000, required=False)
    registered_on = forms.DateField(label=_("registered on"), widget=DateInput())
    liaison = AccountChoiceField(label=_("liaison"), queryset=selectors.liaison_accounts_none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = visible(Person.objects.all(), user, "hardship.change")
        self.fields["liaison"].queryset = selectors.liaison_accounts(user)
        if not self.is_bound:
            self.initial.setdefault("registered_on", timezone.localdate())
            self.initial.setdefault("liaison", user.pk)

    def clean_registered_on(self):
        return _not_future(self.cleaned_data["registered_on"])


class StepForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in Action.values], widget=forms.HiddenInput)
    on = forms.DateField(label=_("date"), widget=DateInput())
    reason = forms.CharField(label=_("reason"), max_length=500)

    def clean_on(self):
        return _not_future(self.cleaned_data["on"])


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(label=_("reviewed on"), widget=DateInput())
    outcome = forms.ChoiceField(label=pgettext_lazy("hardship review", "outcome"), choices=ReviewOutcome.choices)
    level = forms.ChoiceField(label=_("hardship level"), choices=Level.choices)
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False)

    def clean_reviewed_on(self):
        return _not_future(self.cleaned_data["reviewed_on"])


class MeasureForm(forms.Form):
    pack = forms.ChoiceField(label=_("pack"), choices=Pack.choices)
    kind = forms.ChoiceField(label=_("kind"), choices=MeasureKind.choices)
    description = forms.CharField(label=pgettext_lazy("assistance measure", "measure"), max_length=300)
    owner = AccountChoiceField(label=_("responsible"), queryset=selectors.liaison_accounts_none())
    due_on = forms.DateField(label=_("due on"), widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.liaison_accounts(user)
        if not self.is_bound:
            self.initial.setdefault("owner", user.pk)


class AssistanceForm(forms.Form):
    given_on = forms.DateField(label=_("given on"), widget=DateInput())
    kind = forms.ChoiceField(label=_("kind"), choices=MeasureKind.choices)
    amount = forms.DecimalField(label=_("amount (yuan)"), max_digits=12, decimal_places=2, min_value=0.01, required=False)
    service = forms.CharField(label=_("service given"), max_length=300, required=False)
    measure = forms.ModelChoiceField(label=_("plan measure"), queryset=AssistanceMeasure.objects.none(), required=False)
    evidence = forms.FileField(label=_("evidence"), required=False, validators=[validate_upload],
                               widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}))

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        if household is not None:
            self.fields["measure"].queryset = household.measures.all()
        if not self.is_bound:
            self.initial.setdefault("given_on", timezone.localdate())

    def clean_given_on(self):
        return _not_future(self.cleaned_data["given_on"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("amount") is None and not (cleaned.get("service") or "").strip() and "amount" not in self.errors:
            self.add_error("amount", _("Enter an amount of money or describe the service given."))
        return cleaned
