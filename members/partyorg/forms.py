from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import DateInput, ScopedModelForm
from portal.scope import visible
from portal.widgets import AutocompleteSelect

from ..models import OrgUnit, Person
from . import services
from .models import BranchTerm, MobileMember, Transfer


def _add_problems(form, problems: dict[str, str]) -> None:
    for field, message in problems.items():
        form.add_error(field if field in form.fields else None, message)


class ServiceRulesMixin:
    """The models' constraints are the services' rules (one open transfer per person, one open term
    per unit, periods that do not overlap), checked there with messages that name the person or the
    unit. The form does not check them a second time with Django's generic constraint message — nor
    refuse a new election because the unit's current term is still open: the service closes it."""

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.update(field.name for field in self._meta.model._meta.fields)
        return exclusions


class TransferForm(ServiceRulesMixin, ScopedModelForm):
    """A new request. The unit it leaves is one of the user's; the unit it joins may be anywhere in
    the enterprise (every party organisation, from the autocomplete of party units)."""

    scoped_org_fields = ("from_unit",)

    class Meta:
        model = Transfer
        fields = ["person", "kind", "from_unit", "to_unit", "external_org", "reason", "requested_on", "report_by"]
        widgets = {
            "person": AutocompleteSelect("members:person_autocomplete"),
            "from_unit": AutocompleteSelect("members:orgunit_autocomplete"),
            "to_unit": AutocompleteSelect("members:party_unit_autocomplete"),
            "requested_on": DateInput(),
            "report_by": DateInput(),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = visible(Person.objects.all(), self.user, "people.view")
        self.fields["to_unit"].queryset = OrgUnit.objects.filter(kind__in=services.PARTY_UNIT_KINDS)

    def clean(self):
        cleaned = super().clean()
        person, kind = cleaned.get("person"), cleaned.get("kind")
        if person is not None and kind and not ({"from_unit", "to_unit"} & set(self.errors)):
            _add_problems(self, services.transfer_problems(
                person=person, kind=kind, from_unit=cleaned.get("from_unit"), to_unit=cleaned.get("to_unit"),
                external_org=cleaned.get("external_org", ""), exclude_pk=self.instance.pk,
            ))
        requested, report_by = cleaned.get("requested_on"), cleaned.get("report_by")
        if requested and report_by and report_by < requested:
            self.add_error("report_by", _("The date to report by cannot be before the request."))
        return cleaned


class StepForm(forms.Form):
    comment = forms.CharField(label=_("comment"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MobileMemberForm(ServiceRulesMixin, ScopedModelForm):
    class Meta:
        model = MobileMember
        fields = ["person", "work_unit", "place", "contact", "started_on", "ended_on", "note"]
        widgets = {
            "person": AutocompleteSelect("members:person_autocomplete"),
            "started_on": DateInput(),
            "ended_on": DateInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = visible(Person.objects.all(), self.user, "people.view")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("person") is not None and cleaned.get("started_on"):
            _add_problems(self, services.mobile_period_problems(
                person=cleaned["person"], started_on=cleaned["started_on"], ended_on=cleaned.get("ended_on"),
                exclude_pk=self.instance.pk,
            ))
        return cleaned


class ElectionForm(ServiceRulesMixin, ScopedModelForm):
    """Record an election: the unit's new term (the old one closes)."""

    scoped_org_fields = ("unit",)
    org_permission = "terms.change"
    term_years = forms.IntegerField(
        label=_("term length in years"), min_value=1, max_value=10, required=False,
        help_text=_("Empty: 3 years for a branch, 5 for a committee."),
    )

    class Meta:
        model = BranchTerm
        fields = ["unit", "elected_on", "term_years", "members"]
        widgets = {
            "unit": AutocompleteSelect("members:orgunit_autocomplete"),
            "elected_on": DateInput(),
            "members": forms.Textarea(attrs={"rows": 4}),
        }
