from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import OrgUnit, Person
from portal.forms import DateInput, DateTimeInput, ScopedModelForm, check_deadline_not_past
from portal.scope import visible
from portal.uploads import validate_image, validate_upload
from portal.widgets import AutocompleteSelect, AutocompleteSelectMultiple

from .models import Activity, Expense, Milestone, PointsRule, Project, ResponsibilityItem, Risk
from .services import item_deadline_problem
from .workflow import SUPERVISING_KINDS, has_been_held


class ActivityForm(ScopedModelForm):
    class Meta:
        model = Activity
        fields = ["type", "title", "org_unit", "held_at", "location", "agenda", "status", "minutes"]
        widgets = {
            "org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
            "held_at": DateTimeInput(),
            "agenda": forms.Textarea(attrs={"rows": 4}),
            "minutes": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {"minutes": _("Record the minutes once the activity has been held.")}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == "held" and cleaned.get("held_at") and cleaned["held_at"] > timezone.now():
            self.add_error("status", _("An activity in the future cannot be marked as held."))
        elif (cleaned.get("minutes") or "").strip() and cleaned.get("status") and cleaned.get("held_at") and not \
                has_been_held(cleaned["status"], cleaned["held_at"]):
            self.add_error("minutes", _("Minutes are recorded for a held activity only: mark it held first."))
        return cleaned


class InviteForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("all party members of"), queryset=OrgUnit.objects.none(), required=False,
        widget=AutocompleteSelect("members:orgunit_autocomplete"),
    )
    people = forms.ModelMultipleChoiceField(
        label=_("people"), queryset=Person.objects.none(), required=False,
        widget=AutocompleteSelectMultiple("members:person_autocomplete"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = visible(OrgUnit.objects.all(), user, "orgunits.view")
        self.fields["people"].queryset = visible(Person.objects.all(), user, "people.view")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("unit") and not cleaned.get("people"):
            raise ValidationError(_("Choose an org unit or people."))
        return cleaned


class LeaveForm(forms.Form):
    reason = forms.CharField(label=_("reason for leave"), max_length=200)


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("photo"), validators=[validate_image])


PointsRuleFormSet = forms.modelformset_factory(PointsRule, fields=["type", "points", "is_active"], extra=1, can_delete=True)


# --- Responsibility items -----------------------------------------------------------------------
class ResponsibilityItemForm(ScopedModelForm):
    scoped_org_fields = ("lead_org_unit", "supervising_unit", "cooperating_units")

    class Meta:
        model = ResponsibilityItem
        fields = ["title", "requirement", "parent", "lead_org_unit", "cooperating_units", "responsible",
                  "supervising_unit", "deadline"]
        widgets = {
            "requirement": forms.Textarea(attrs={"rows": 3}),
            "parent": AutocompleteSelect("activities:item_autocomplete"),
            "lead_org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
            "cooperating_units": AutocompleteSelectMultiple("members:orgunit_autocomplete"),
            "responsible": AutocompleteSelect("members:person_autocomplete"),
            "supervising_unit": AutocompleteSelect("activities:supervisor_autocomplete"),
            "deadline": DateInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deadline"].required = True
        # Any unit that may supervise, also outside the user's own subtree (e.g. 党群工作部).
        self.fields["supervising_unit"].queryset = OrgUnit.objects.filter(kind__in=SUPERVISING_KINDS)
        self.fields["cooperating_units"].queryset = OrgUnit.objects.all()
        self.fields["responsible"].queryset = visible(Person.objects.all(), self.user, "people.view")
        self.fields["parent"].queryset = visible(ResponsibilityItem.objects.all(), self.user, "tasks.change")

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk:
            current = parent
            while current is not None:
                if current.pk == self.instance.pk:
                    raise ValidationError(_("An item cannot be placed under itself or one of its sub-items."))
                current = current.parent
        return parent

    def clean(self):
        cleaned = super().clean()
        if "deadline" not in self.errors:  # an empty deadline already says "required"
            problem = item_deadline_problem(cleaned.get("deadline"), cleaned.get("parent"))
            if problem:
                self.add_error("deadline", problem)
        check_deadline_not_past(self)
        return cleaned


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label=_("progress %"), min_value=0, max_value=100, required=False)
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)
    evidence = forms.FileField(label=_("evidence"), required=False, validators=[validate_upload])


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("comment"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2}))


class CopyYearForm(forms.Form):
    source_year = forms.IntegerField(label=_("copy the list of year"), min_value=2000, max_value=2100)
    target_year = forms.IntegerField(label=_("to year"), min_value=2000, max_value=2100)
    lead_unit = forms.ModelChoiceField(
        label=_("only items led by (with sub-units)"), queryset=OrgUnit.objects.none(), required=False,
        widget=AutocompleteSelect("members:orgunit_autocomplete"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].queryset = visible(OrgUnit.objects.all(), user, "orgunits.view")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source_year") and cleaned.get("source_year") == cleaned.get("target_year"):
            self.add_error("target_year", _("Choose another year than the source."))
        elif cleaned.get("target_year") and cleaned["target_year"] < timezone.localdate().year:
            self.add_error("target_year", _("Copy into the current year or a later one."))
        return cleaned


# --- Projects -----------------------------------------------------------------------------------
class ProjectForm(ScopedModelForm):
    class Meta:
        model = Project
        fields = ["name", "kind", "org_unit", "objective", "scope_text", "leader", "team", "budget", "starts_on", "ends_on"]
        widgets = {
            "org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
            "leader": AutocompleteSelect("members:person_autocomplete"),
            "team": AutocompleteSelectMultiple("members:person_autocomplete"),
            "objective": forms.Textarea(attrs={"rows": 3}),
            "scope_text": forms.Textarea(attrs={"rows": 3}),
            "starts_on": DateInput(),
            "ends_on": DateInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = visible(Person.objects.all(), self.user, "people.view")
        self.fields["leader"].queryset = people
        self.fields["team"].queryset = people

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts_on") and cleaned.get("ends_on") and cleaned["ends_on"] < cleaned["starts_on"]:
            self.add_error("ends_on", _("The end is before the start."))
        return cleaned


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["evaluation_score", "evaluation_summary", "lessons", "overrun_reason"]
        widgets = {"evaluation_summary": forms.Textarea(attrs={"rows": 3}), "lessons": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, overrun: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluation_score"].required = True
        self.fields["lessons"].required = True
        if overrun:
            # Spending above the budget is acknowledged with a reason before the project closes.
            self.fields["overrun_reason"].required = True
        else:
            del self.fields["overrun_reason"]


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["title", "due_on", "weight", "progress"]
        widgets = {"due_on": DateInput()}


class MilestoneProgressForm(forms.Form):
    milestone = forms.ModelChoiceField(label=_("milestone"), queryset=Milestone.objects.none())
    progress = forms.IntegerField(label=_("progress %"), min_value=0, max_value=100)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].queryset = project.milestones.all()


class ExpenseForm(forms.ModelForm):
    class Meta:
        model = Expense
        fields = ["spent_on", "item", "amount"]
        widgets = {"spent_on": DateInput()}


class RiskForm(forms.ModelForm):
    class Meta:
        model = Risk
        fields = ["description", "level", "mitigation"]
