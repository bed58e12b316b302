from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.forms import DateInput, ScopedModelForm, TagsField
from portal.scope import in_subtree
from portal.widgets import AutocompleteSelect

from .choices import DevelopmentStage
from .models import OrgUnit, Person, PointsEntry
from .validators import normalize_id_number, normalize_phone


class OrgUnitForm(ScopedModelForm):
    scoped_org_fields = ("parent",)

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "kind", "parent", "sort_order", "is_active"]
        widgets = {"parent": AutocompleteSelect("members:orgunit_autocomplete")}

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk and self.instance.path and in_subtree(parent, self.instance):
            raise ValidationError(_("A unit cannot be placed under itself or one of its descendants."))
        return parent

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("parent") and "parent" not in self.errors
            and OrgUnit.objects.exclude(pk=self.instance.pk).filter(parent=None).exists()
        ):
            self.add_error("parent", _("There is already a root unit; choose a parent unit."))
        return cleaned


class PersonForm(ScopedModelForm):
    tags = TagsField(label=_("tags"))

    class Meta:
        model = Person
        fields = [
            "employee_no", "name", "gender", "birth_date", "phone", "id_number", "org_unit", "position",
            "political_status", "joined_party_on", "tags", "dual_cultivation", "is_active",
        ]
        widgets = {
            "birth_date": DateInput(),
            "joined_party_on": DateInput(),
            "org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Masked values are never put into a form; leaving the field empty keeps the stored value.
        if self.instance.pk:
            for name in ("phone", "id_number"):
                self.fields[name].required = False
                self.initial[name] = ""
                self.fields[name].help_text = _("Leave empty to keep the stored value.")

    def clean_phone(self):
        value = normalize_phone(self.cleaned_data.get("phone", ""))
        return value or (self.instance.phone if self.instance.pk else "")

    def clean_id_number(self):
        value = normalize_id_number(self.cleaned_data.get("id_number", ""))
        value = value or (self.instance.id_number if self.instance.pk else "")
        if value and Person.objects.exclude(pk=self.instance.pk).filter(id_number=value).exists():
            raise ValidationError(_("Another person already has this ID number."))
        return value

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        if value and value > timezone.localdate():
            raise ValidationError(_("The birth date cannot be in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        status, joined = cleaned.get("political_status"), cleaned.get("joined_party_on")
        if joined and status not in ("full_member", "probationary_member"):
            self.add_error("joined_party_on", _("Only party members have a date of joining the party."))
        if joined and joined > timezone.localdate():
            self.add_error("joined_party_on", _("The date cannot be in the future."))
        return cleaned


class DevelopmentStageForm(forms.Form):
    stage = forms.ChoiceField(label=_("stage"), choices=DevelopmentStage.choices)
    reached_on = forms.DateField(label=_("reached on"), widget=DateInput())
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class PointsAdjustForm(forms.ModelForm):
    class Meta:
        model = PointsEntry
        fields = ["points", "reason", "awarded_on"]
        widgets = {"awarded_on": DateInput()}

    def clean_points(self):
        value = self.cleaned_data["points"]
        if value == 0:
            raise ValidationError(_("Enter a number of points other than zero."))
        if abs(value) > 1000:
            raise ValidationError(_("At most 1000 points at a time."))
        return value


class UnmaskedExportForm(forms.Form):
    """The explicit choice of an export with ID numbers and phones in clear: a reason is required
    and goes into the log with the records exported."""

    reason = forms.CharField(
        label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the ID numbers and phones are needed in clear. Logged with the records exported."),
    )
    format = forms.ChoiceField(label=pgettext_lazy("file", "format"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")], initial="xlsx")
    query = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason for the export."))
        return reason
