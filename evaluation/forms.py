"""Forms of the evaluation app. Rates are entered as percentages and stored as fractions, like the
snapshots. Unit and person fields use autocomplete; choices are limited to the user's scope."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import OrgUnit, Person
from portal.forms import check_deadline_not_past
from portal.models import User
from portal.numbers import plain
from portal.scope import in_subtree, visible
from portal.widgets import AutocompleteSelect, AutocompleteSelectMultiple

from .choices import ActionSource, AppraisalGrade, KpiKind, ValueFormat
from .models import (
    AppraisalRound, Campaign, ImprovementAction, Indicator, KpiDefinition, KpiTarget, ManualKpiValue, RaterGroup,
)
from .periods import Period

HUNDRED = Decimal(100)


class ScopedUnitMixin:
    """Limit org unit fields to the user's scope for `permission`."""

    unit_fields: tuple[str, ...] = ("org_unit",)
    permission = ""

    def limit_units(self, user):
        for name in self.unit_fields:
            if name in self.fields:
                self.fields[name].queryset = visible(OrgUnit.objects.all(), user, self.permission)


def _percent(kpi: KpiDefinition | None) -> bool:
    return bool(kpi and kpi.value_format == ValueFormat.RATE)


class KpiDefinitionForm(forms.ModelForm):
    class Meta:
        model = KpiDefinition
        fields = ["code", "name", "definition", "value_format", "direction", "weight", "sort_order", "is_active"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"code": _("Letters, digits and underscores; cannot change later.")}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
            if self.instance.kind == KpiKind.COMPUTED:
                # Computed KPIs are defined by kpis.md: only their weight, order and use change here.
                for name in ("name", "definition", "value_format", "direction"):
                    self.fields[name].disabled = True

    def clean_code(self):
        code = self.cleaned_data["code"]
        if self.instance.pk:
            return self.instance.code
        import re

        if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code or ""):
            raise forms.ValidationError(_("Use 2–40 lowercase letters, digits and underscores, starting with a letter."))
        if KpiDefinition.objects.filter(code=code).exists():
            raise forms.ValidationError(_("A KPI with this code exists."))
        return code

    def save(self, commit=True):
        if not self.instance.pk:
            self.instance.kind = KpiKind.MANUAL
        return super().save(commit)


class KpiTargetForm(ScopedUnitMixin, forms.ModelForm):
    permission = "kpis.targets"
    percent_fields = ("target", "green_from", "amber_from")

    class Meta:
        model = KpiTarget
        fields = ["kpi", "org_unit", "year", "target", "green_from", "amber_from", "weight", "note"]
        widgets = {"org_unit": AutocompleteSelect("members:orgunit_autocomplete")}
        help_texts = {"target": _("Rates in percent (95 means 95%).")}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_units(user)
        self.fields["kpi"].queryset = KpiDefinition.objects.filter(is_active=True)
        if not self.instance.pk:
            self.fields["year"].initial = timezone.localdate().year
        if self.instance.pk and _percent(self.instance.kpi):
            for name in self.percent_fields:
                value = getattr(self.instance, name)
                self.initial[name] = None if value is None else plain(value * HUNDRED)

    def clean(self):
        data = super().clean()
        kpi = data.get("kpi")
        if _percent(kpi):
            for name in self.percent_fields:
                value = data.get(name)
                if value is not None:
                    if not 0 <= value <= 100:
                        self.add_error(name, _("Enter a percentage between 0 and 100."))
                    else:
                        data[name] = value / HUNDRED
        if kpi and data.get("org_unit") and data.get("year"):
            clash = KpiTarget.objects.filter(kpi=kpi, org_unit=data["org_unit"], year=data["year"])
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("year", _("This unit already has a target for this KPI and year."))
        return data

    def save(self, commit=True):
        for name in self.percent_fields:
            setattr(self.instance, name, self.cleaned_data.get(name))
        return super().save(commit)


class ManualValueForm(ScopedUnitMixin, forms.ModelForm):
    permission = "kpis.manual"

    class Meta:
        model = ManualKpiValue
        fields = ["kpi", "org_unit", "period", "value", "note"]
        widgets = {"org_unit": AutocompleteSelect("members:orgunit_autocomplete")}
        help_texts = {"period": _("YYYY-MM, YYYY-Qn or YYYY."), "value": _("Rates in percent (95 means 95%).")}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_units(user)
        self.fields["kpi"].queryset = KpiDefinition.objects.filter(kind=KpiKind.MANUAL, is_active=True)
        if self.instance.pk and _percent(self.instance.kpi):
            self.initial["value"] = plain(self.instance.value * HUNDRED)

    def clean_period(self):
        try:
            return Period.parse(self.cleaned_data["period"]).key
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        kpi, value = data.get("kpi"), data.get("value")
        if _percent(kpi) and value is not None:
            if not 0 <= value <= 100:
                self.add_error("value", _("Enter a percentage between 0 and 100."))
            else:
                data["value"] = value / HUNDRED
        if kpi and data.get("org_unit") and data.get("period"):
            clash = ManualKpiValue.objects.filter(kpi=kpi, org_unit=data["org_unit"], period=data["period"])
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("period", _("A value for this KPI, unit and period exists; edit it instead."))
        return data

    def save(self, commit=True):
        self.instance.value = self.cleaned_data["value"]
        return super().save(commit)


# --- Campaigns -----------------------------------------------------------------------------------------------
class CampaignForm(ScopedUnitMixin, forms.ModelForm):
    permission = "campaigns.manage"
    unit_fields = ("org_unit", "subjects")

    class Meta:
        model = Campaign
        fields = ["name", "org_unit", "year", "description", "opens_on", "closes_on", "subjects"]
        widgets = {
            "org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
            "subjects": AutocompleteSelectMultiple("members:orgunit_autocomplete"),
            "opens_on": forms.DateInput(attrs={"type": "date"}),
            "closes_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_units(user)
        if not self.instance.pk:
            self.fields["year"].initial = timezone.localdate().year

    def clean(self):
        data = super().clean()
        unit, subjects = data.get("org_unit"), data.get("subjects")
        if unit and subjects:
            outside = [s.name for s in subjects if not in_subtree(s, unit)]
            if outside:
                self.add_error("subjects", _("These units are not under the organising unit: %(units)s")
                               % {"units": "、".join(outside)})
        if data.get("opens_on") and data.get("closes_on") and data["closes_on"] < data["opens_on"]:
            self.add_error("closes_on", _("The closing date is before the opening date."))
        return data


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = ["name", "max_score", "description", "sort_order"]


class RaterGroupForm(forms.ModelForm):
    class Meta:
        model = RaterGroup
        fields = ["kind", "weight", "anonymous"]

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if self.campaign and self.campaign.groups.filter(kind=kind).exists():
            raise forms.ValidationError(_("This rater group is already in the campaign."))
        return kind


class RatersForm(forms.Form):
    raters = forms.ModelMultipleChoiceField(
        label=_("raters"), queryset=User.objects.none(),
        widget=AutocompleteSelectMultiple("evaluation:account_autocomplete"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raters"].queryset = visible(User.objects.filter(is_active=True), user, "campaigns.manage")


class ScoreSheetForm(forms.Form):
    """One field per indicator (0 … its maximum) and a comment."""

    comment = forms.CharField(label=_("comment"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        for indicator in self.indicators:
            self.fields[f"i{indicator.pk}"] = forms.DecimalField(
                label=indicator.name, min_value=0, max_value=indicator.max_score, decimal_places=2,
                help_text=_("0 – %(max)s") % {"max": plain(indicator.max_score)},
                widget=forms.NumberInput(attrs={"step": "0.5", "class": "score-input"}),
            )
        self.order_fields([f"i{i.pk}" for i in self.indicators] + ["comment"])

    def scores(self) -> dict:
        return {i: self.cleaned_data[f"i{i.pk}"] for i in self.indicators}


class AppraisalRoundForm(ScopedUnitMixin, forms.ModelForm):
    permission = "campaigns.manage"

    class Meta:
        model = AppraisalRound
        fields = ["name", "org_unit", "year", "closes_on"]
        widgets = {"org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
                   "closes_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_units(user)
        if not self.instance.pk:
            self.fields["year"].initial = timezone.localdate().year


class BallotForm(forms.Form):
    """A grade for every member on the roster except the voter."""

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = list(people)
        for person in self.people:
            self.fields[f"p{person.pk}"] = forms.ChoiceField(
                label=str(person), choices=AppraisalGrade.choices, widget=forms.RadioSelect,
            )

    def grades(self) -> dict:
        return {p.pk: self.cleaned_data[f"p{p.pk}"] for p in self.people}


class GradeForm(forms.Form):
    final_grade = forms.ChoiceField(label=_("grade decided"), choices=AppraisalGrade.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False)


# --- PDCA ------------------------------------------------------------------------------------------------------
class ImprovementActionForm(ScopedUnitMixin, forms.ModelForm):
    permission = "pdca.manage"

    class Meta:
        model = ImprovementAction
        fields = ["title", "org_unit", "source", "kpi", "period", "campaign", "problem", "root_cause", "measure",
                  "owner", "deadline"]
        widgets = {
            "org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
            "owner": AutocompleteSelect("members:person_autocomplete"),
            "deadline": forms.DateInput(attrs={"type": "date"}),
            "problem": forms.Textarea(attrs={"rows": 3}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
            "measure": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_units(user)
        self.fields["owner"].queryset = visible(Person.objects.all(), user, "people.view") \
            if user is not None else Person.objects.none()
        self.fields["campaign"].queryset = visible(Campaign.objects.all(), user, "campaigns.manage") \
            if user is not None else Campaign.objects.none()
        self.fields["kpi"].queryset = KpiDefinition.objects.all()

    def clean(self):
        cleaned = super().clean()
        check_deadline_not_past(self)
        return cleaned

    def clean_period(self):
        text = self.cleaned_data.get("period", "")
        if not text:
            return ""
        try:
            return Period.parse(text).key
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


def improvement_action_initial(params, user) -> dict:
    """A new action started from a figure or a campaign: the query string names the KPI, the
    campaign (only one the user manages), the period and the unit."""
    from .engine import ensure_catalogue

    initial = {}
    if params.get("kpi"):
        ensure_catalogue()
        kpi = KpiDefinition.objects.filter(code=params["kpi"]).first()
        if kpi:
            initial.update(kpi=kpi, source=ActionSource.KPI, title=_("Improve %(kpi)s") % {"kpi": kpi.display_name})
    if params.get("campaign", "").isdigit():
        campaign = visible(Campaign.objects.all(), user, "campaigns.manage").filter(pk=params["campaign"]).first()
        if campaign:
            initial.update(campaign=campaign, source=ActionSource.CAMPAIGN)
    if params.get("period"):
        initial["period"] = params["period"][:7]
    if params.get("unit", "").isdigit():
        initial["org_unit"] = params["unit"]
    return initial

class ActionProgressForm(forms.ModelForm):
    """What the owner keeps up to date while doing."""

    class Meta:
        model = ImprovementAction
        fields = ["root_cause", "measure", "deadline"]
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"}),
                   "root_cause": forms.Textarea(attrs={"rows": 3}), "measure": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        check_deadline_not_past(self)
        return cleaned


class ReportRequestForm(ScopedUnitMixin, forms.Form):
    permission = "reports.generate"
    period = forms.CharField(label=_("month"), max_length=7, help_text=_("YYYY-MM"))
    org_unit = forms.ModelChoiceField(label=_("org unit"), queryset=OrgUnit.objects.none(),
                                      widget=AutocompleteSelect("members:orgunit_autocomplete"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_units(user)

    def clean_period(self):
        try:
            period = Period.parse(self.cleaned_data["period"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        if period.kind != "month":
            raise forms.ValidationError(_("The diagnostic report is monthly: use YYYY-MM."))
        if period.start > timezone.now():
            raise forms.ValidationError(_("This month has not begun."))
        return period.key


