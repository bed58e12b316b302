"""Forms of the demands app. Big tables (people, units, accounts, life events) use autocomplete;
choices are limited to the user's scope wherever roles.md limits the user."""
from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.choices import SUGGESTED_TAGS
from members.models import HardshipHousehold, OrgUnit, Person
from portal.forms import DateInput, DateTimeInput
from portal.models import User
from portal.recipients import pickable_people
from portal.roles import has_permission
from portal.scope import visible
from portal.uploads import DOCUMENT_ACCEPT, validate_upload
from portal.widgets import AutocompleteSelect, AutocompleteSelectMultiple

from .choices import EMPLOYEE_CHANNELS, STAFF_CHANNELS, Channel, Fulfilment, LifeEventKind, MediationOutcome, Urgency, VisitKind
from .models import Demand, DemandCategory, LifeEvent, PriorityWeights, SlaPolicy, WorkCalendarDay
from .services import intake_parties, may_submit_on_behalf, visit_kind, visit_problems

MAX_FILES = 10
HANDLER_ROLES = ("handler", "staff", "branch_secretary")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content and size (portal.uploads)."""

    def __init__(self, *args, validator=validate_upload, accept: str = "", **kwargs):
        self.validator = validator
        attrs = {"accept": accept} if accept else {}
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if len(items) > MAX_FILES:
            raise ValidationError(_("At most %(n)d files at a time.") % {"n": MAX_FILES})
        files = [super(MultipleFileField, self).clean(item, initial) for item in items if item]
        problems = []
        for upload in files:
            try:
                self.validator(upload)
            except ValidationError as error:
                # Every bad file is named, so the user knows which to leave out.
                problems += [f"{upload.name}：{message}" for message in error.messages]
        if problems:
            raise ValidationError(problems)
        return files


def intake_files_field() -> MultipleFileField:
    """Photos (a phone offers its camera) and documents given with a demand, under the evidence rules."""
    return MultipleFileField(
        label=_("photos and documents"), accept=DOCUMENT_ACCEPT,
        help_text=_("Optional. Several at once; images, PDF, Word, Excel or PowerPoint, at most 10 MB each."),
    )


def categories():
    return DemandCategory.objects.filter(is_active=True)


def handler_accounts():
    return User.objects.filter(is_active=True, role__in=HANDLER_ROLES).select_related("person", "scope_org")


class HandlerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        unit = obj.scope_org.name if obj.scope_org_id else ""
        return f"{obj.display_name}（{unit}）" if unit else obj.display_name


# --- Intake ------------------------------------------------------------------------------------------
class DemandIntakeForm(forms.Form):
    """Staff and secretaries enter a demand for anyone in their scope (or anonymously);
    everyone else submits their own."""

    submitter = forms.ModelChoiceField(
        label=_("submitter"), queryset=Person.objects.none(), required=False,
        widget=AutocompleteSelect("members:person_autocomplete", placeholder=_("Type a name or employee number")),
        help_text=_("Leave empty for an anonymous demand."),
    )
    org_unit = forms.ModelChoiceField(
        label=_("org unit"), queryset=OrgUnit.objects.none(), required=False,
        widget=AutocompleteSelect("members:orgunit_autocomplete"),
        help_text=_("Empty: the submitter's unit."),
    )
    title = forms.CharField(label=_("title"), max_length=200, widget=forms.TextInput(attrs={
        # Similar open demands appear under the title while it is typed (duplicates, 一次登记).
        "autocomplete": "off", "hx-get": reverse_lazy("demands:similar"), "hx-trigger": "keyup changed delay:600ms, change",
        "hx-target": "#similar",
    }))
    content = forms.CharField(label=_("content"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    category = forms.ModelChoiceField(label=_("category"), queryset=DemandCategory.objects.none())
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    channel = forms.ChoiceField(label=_("channel"), choices=())
    service_group = forms.CharField(
        label=_("service group"), max_length=30, required=False,
        widget=forms.TextInput(attrs={"list": "service-groups", "autocomplete": "off"}),
    )
    attachments = intake_files_field()
    visit = forms.IntegerField(required=False, widget=forms.HiddenInput())

    suggested_groups = SUGGESTED_TAGS

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.on_behalf = may_submit_on_behalf(user)
        self.fields["category"].queryset = categories()
        if self.on_behalf:
            self.fields["submitter"].queryset = visible(Person.objects.all(), user, "demands.submit")
            self.fields["org_unit"].queryset = visible(OrgUnit.objects.all(), user, "orgunits.view")
            self.fields["channel"].choices = [(c.value, c.label) for c in STAFF_CHANNELS]
            self.fields["channel"].initial = Channel.STAFF_ENTRY
        else:
            del self.fields["submitter"], self.fields["org_unit"], self.fields["service_group"]
            self.fields["channel"].choices = [(c.value, c.label) for c in EMPLOYEE_CHANNELS]
            self.fields["channel"].initial = Channel.SELF_SERVICE

    def clean(self):
        cleaned = super().clean()
        if {"submitter", "org_unit", "channel"} & set(self.errors):
            return cleaned
        try:
            cleaned["submitter"], cleaned["org_unit"] = intake_parties(
                by=self.user, submitter=cleaned.get("submitter"), org_unit=cleaned.get("org_unit"),
                channel=cleaned.get("channel"))
        except ValidationError as error:
            self.add_error(None, error)
        if not self.on_behalf:
            cleaned["service_group"] = ""
        return cleaned


class AnonymousDemandForm(forms.Form):
    """The public form: no login, no personal data; the answer is a tracking code."""

    org_unit = forms.ModelChoiceField(label=_("your unit"), queryset=OrgUnit.objects.none(), empty_label=None)
    category = forms.ModelChoiceField(label=_("category"), queryset=DemandCategory.objects.none())
    title = forms.CharField(label=_("title"), max_length=200)
    content = forms.CharField(label=_("content"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)
    attachments = intake_files_field()
    # A field people do not see; robots fill it in.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    MAX_DEPTH = 2
    MAX_UNITS = 300

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories()
        self.fields["org_unit"].queryset = OrgUnit.objects.filter(is_active=True, depth__lte=self.MAX_DEPTH).exclude(kind="group")
        self.fields["org_unit"].choices = [
            (u.pk, ("　" * u.depth) + u.name)
            for u in self.fields["org_unit"].queryset.order_by("path")[: self.MAX_UNITS]
        ]

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise ValidationError(_("Leave this field empty."))
        return ""


class TrackForm(forms.Form):
    code = forms.CharField(label=_("tracking code"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}))


# --- Workflow steps -------------------------------------------------------------------------------------
class AcceptForm(forms.Form):
    category = forms.ModelChoiceField(label=_("category"), queryset=DemandCategory.objects.none())
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices)
    lead_unit = forms.ModelChoiceField(
        label=_("lead unit"), queryset=OrgUnit.objects.filter(is_active=True), required=False,
        widget=AutocompleteSelect("demands:unit_autocomplete"), help_text=_("Empty: the demand's unit."),
    )
    cooperating_units = forms.ModelMultipleChoiceField(
        label=_("cooperating units"), queryset=OrgUnit.objects.filter(is_active=True), required=False,
        widget=AutocompleteSelectMultiple("demands:unit_autocomplete"),
    )
    handler = HandlerChoiceField(
        label=_("handler"), queryset=User.objects.none(), widget=AutocompleteSelect("demands:handler_autocomplete", forward="lead_unit"),
    )
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, demand: Demand | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories()
        self.fields["handler"].queryset = handler_accounts()
        if demand is not None and not self.is_bound:
            self.initial.update(category=demand.category_id, urgency=demand.urgency)


class TransferForm(forms.Form):
    lead_unit = forms.ModelChoiceField(
        label=_("new lead unit"), queryset=OrgUnit.objects.filter(is_active=True), widget=AutocompleteSelect("demands:unit_autocomplete"),
    )
    handler = HandlerChoiceField(
        label=_("new handler"), queryset=User.objects.none(), widget=AutocompleteSelect("demands:handler_autocomplete", forward="lead_unit"),
    )
    note = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, demand: Demand | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = handler_accounts()


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)


class OptionalReasonForm(ReasonForm):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)


class ReopenForm(NoteForm):
    note = forms.CharField(label=_("what must be done again"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    files = MultipleFileField(label=_("evidence (optional)"))

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)


class ResolveForm(forms.Form):
    result = forms.CharField(label=_("result"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    files = MultipleFileField(label=_("evidence (optional)"))

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)


RATING_CHOICES = [
    (5, _("★★★★★ very satisfied")), (4, _("★★★★ satisfied")), (3, _("★★★ acceptable")),
    (2, _("★★ dissatisfied")), (1, _("★ very dissatisfied")),
]


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("rating"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)


class ReturnVisitForm(RateForm):
    rating = forms.TypedChoiceField(
        label=_("rating"), choices=[("", _("not rated"))] + RATING_CHOICES, coerce=int, empty_value=None, required=False,
    )


class MergeForm(forms.Form):
    """Merge this demand into one of the similar open demands the page suggests: the candidate list
    is the choice, nobody types a reference."""

    target = forms.ModelChoiceField(
        label=_("the demand to keep"), queryset=Demand.objects.none(), widget=forms.RadioSelect, empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the similar open demands."),
                        "required": _("Choose the demand to keep.")},
    )
    note = forms.CharField(label=_("note"), required=False, max_length=2000)

    def __init__(self, *args, demand=None, user=None, candidates=None, **kwargs):
        self.demand, self.user = demand, user
        super().__init__(*args, **kwargs)
        if candidates is None:
            from .selectors import similar_demands

            candidates = similar_demands(user, demand.title, exclude_pk=demand.pk) if demand is not None else []
        self.fields["target"].queryset = Demand.objects.filter(pk__in=[c.pk for c in candidates])
        # Drawn from the candidates the page holds, best first (no query); the queryset checks what is posted.
        self.fields["target"].choices = [(c.pk, f"{c.ref} {c.title}") for c in candidates]
        if not candidates:
            self.fields["target"].help_text = _("No similar open demand in your scope: nothing to merge into.")

    def clean_target(self):
        target = self.cleaned_data["target"]
        if self.demand is not None and target.pk == self.demand.pk:
            raise ValidationError(_("A demand cannot be merged into itself."))
        if target.status in ("withdrawn", "rejected"):
            raise ValidationError(_("That demand was withdrawn or not accepted."))
        return target


ACTION_FORMS = {
    "accept": AcceptForm,
    "reject": ReasonForm,
    "transfer": TransferForm,
    "reply": ReplyForm,
    "resolve": ResolveForm,
    "return_visit": ReturnVisitForm,
    "rate": RateForm,
    "close": NoteForm,
    "reopen": ReopenForm,
    "withdraw": OptionalReasonForm,
    "merge": MergeForm,
}


def action_forms(demand, user, actions, *, candidates, bound_action: str | None = None, bound_form=None) -> dict:
    """The form of each workflow step the user may take on the demand page; the posted one bound."""
    forms_ = {}
    for action in actions:
        form_class = ACTION_FORMS[action]
        kwargs = {"demand": demand}
        if action == "merge":
            kwargs.update(user=user, candidates=candidates)
        forms_[action] = bound_form if action == bound_action else form_class(**kwargs)
    return forms_


# --- Visits and life events ---------------------------------------------------------------------------
class VisitForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("person visited"), queryset=Person.objects.none(),
        widget=AutocompleteSelect("members:person_autocomplete", placeholder=_("Type a name or employee number")),
    )
    visited_on = forms.DateField(label=_("visited on"), widget=DateInput())
    kind = forms.ChoiceField(label=_("kind"), choices=VisitKind.choices)
    life_event = forms.ModelChoiceField(
        label=_("life event"), queryset=LifeEvent.objects.none(), required=False,
        widget=AutocompleteSelect("demands:lifeevent_autocomplete"), help_text=_("For a 五必访 visit."),
    )
    visitor = forms.ModelChoiceField(
        label=_("visitor"), queryset=Person.objects.none(), required=False,
        widget=AutocompleteSelect("members:person_autocomplete"), help_text=_("Empty: yourself."),
    )
    hardship_household = forms.ModelChoiceField(
        label=_("hardship household"), queryset=HardshipHousehold.objects.none(), required=False,
        widget=AutocompleteSelect("members:hardship_autocomplete"), help_text=_("For a hardship visit."),
    )
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000)
    photos = MultipleFileField(label=_("photos and documents"), accept=DOCUMENT_ACCEPT)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = visible(Person.objects.all(), user, "visits.change")
        self.fields["life_event"].queryset = visible(LifeEvent.objects.all(), user, "lifeevents.view")
        if has_permission(user, "hardship.view"):
            self.fields["hardship_household"].queryset = visible(HardshipHousehold.objects.all(), user, "hardship.view")
        else:
            del self.fields["hardship_household"]
        own = Person.objects.filter(pk=user.person_id)
        self.fields["visitor"].queryset = visible(Person.objects.all(), user, "people.view") | own
        if not self.is_bound:
            self.initial.setdefault("visited_on", timezone.localdate())

    def clean(self):
        cleaned = super().clean()
        person, event, household = cleaned.get("person"), cleaned.get("life_event"), cleaned.get("hardship_household")
        problems = visit_problems(
            person_id=getattr(person, "pk", None), visited_on=cleaned.get("visited_on"),
            life_event_person_id=getattr(event, "person_id", None), household_person_id=getattr(household, "person_id", None),
        )
        for field, message in problems.items():
            self.add_error(field, message)
        if cleaned.get("kind"):
            cleaned["kind"] = visit_kind(cleaned["kind"], life_event_id=getattr(event, "pk", None),
                                         household_id=getattr(household, "pk", None))
        if cleaned.get("visitor") is None:
            if self.user.person_id is None:
                self.add_error("visitor", _("Your account is not linked to a person record; choose the visitor."))
            else:
                cleaned["visitor"] = self.user.person
        return cleaned


class PhotoForm(forms.Form):
    photos = MultipleFileField(label=_("photos and documents"), accept=DOCUMENT_ACCEPT, required=True)


class LifeEventForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("person"), queryset=Person.objects.none(),
        widget=AutocompleteSelect("members:person_autocomplete", placeholder=_("Type a name or employee number")),
    )
    kind = forms.ChoiceField(label=_("kind"), choices=LifeEventKind.choices)
    event_date = forms.DateField(label=_("date"), widget=DateInput())
    note = forms.CharField(label=_("note"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = visible(Person.objects.all(), user, "lifeevents.change")


# --- Mediation ----------------------------------------------------------------------------------------
class MediationForm(forms.Form):
    title = forms.CharField(label=_("subject"), max_length=200)
    org_unit = forms.ModelChoiceField(label=_("org unit"), queryset=OrgUnit.objects.none(),
                                      widget=AutocompleteSelect("members:orgunit_autocomplete"))
    demand_ref = forms.CharField(label=_("related demand (reference)"), max_length=30, required=False)
    opened_at = forms.DateTimeField(label=_("opened at"), widget=DateTimeInput())
    description = forms.CharField(label=_("description of the dispute"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    parties = forms.ModelMultipleChoiceField(label=_("parties"), queryset=Person.objects.none(), required=False,
                                             widget=AutocompleteSelectMultiple("demands:colleague_autocomplete", forward="org_unit"))
    other_parties = forms.CharField(label=_("other parties"), max_length=300, required=False)
    mediators = forms.ModelMultipleChoiceField(label=_("mediators"), queryset=Person.objects.none(), required=False,
                                               widget=AutocompleteSelectMultiple("demands:colleague_autocomplete", forward="org_unit"))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        units = visible(OrgUnit.objects.all(), user, "orgunits.view")
        self.fields["org_unit"].queryset = units
        # The people of the user's scope, the user, and whoever may act on the case's unit.
        unit_id = str((self.data.get(self.add_prefix("org_unit")) if self.is_bound else self.initial.get("org_unit")) or "")
        unit = units.filter(pk=unit_id).first() if unit_id.isdigit() else None
        people = pickable_people(user, unit)
        self.fields["parties"].queryset = people
        self.fields["mediators"].queryset = people
        if not self.is_bound:
            self.initial.setdefault("opened_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_demand_ref(self):
        ref = self.cleaned_data.get("demand_ref", "").strip().upper()
        if not ref:
            return None
        demand = visible(Demand.objects.filter(ref=ref), self.user, "demands.view").first()
        if demand is None:
            raise ValidationError(_("No demand with this reference in your scope."))
        return demand

    def clean_opened_at(self):
        value = self.cleaned_data["opened_at"]
        if value > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError(_("The date cannot be in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("parties") and not cleaned.get("other_parties", "").strip():
            self.add_error("parties", _("Name at least one party."))
        return cleaned


class SessionForm(forms.Form):
    held_at = forms.DateTimeField(label=_("held at"), widget=DateTimeInput())
    place = forms.CharField(label=_("place"), max_length=100, required=False)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class ConcludeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=[c for c in MediationOutcome.choices if c[0]])
    concluded_at = forms.DateTimeField(label=_("concluded at"), widget=DateTimeInput())
    agreement = forms.CharField(label=_("agreement"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000, required=False)

    def clean_concluded_at(self):
        value = self.cleaned_data["concluded_at"]
        if value > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError(_("The date cannot be in the future."))
        return value


class FollowUpForm(forms.Form):
    checked_on = forms.DateField(label=_("checked on"), widget=DateInput())
    fulfilment = forms.ChoiceField(label=_("fulfilment"), choices=Fulfilment.choices)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False)


# --- Reference data (administrators) -------------------------------------------------------------------
class CategoryForm(forms.ModelForm):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    class Meta:
        model = DemandCategory
        fields = ["code", "name", "sort_order", "is_active"]


class SlaPolicyForm(forms.ModelForm):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    class Meta:
        model = SlaPolicy
        fields = ["category", "urgency", "response_hours", "resolution_days"]

    def clean(self):
        cleaned = super().clean()
        others = SlaPolicy.objects.exclude(pk=self.instance.pk).filter(
            category=cleaned.get("category"), urgency=cleaned.get("urgency")
        )
        if cleaned.get("urgency") and others.exists():
            self.add_error("urgency", _("There is already a policy for this category and urgency."))
        return cleaned


class WorkCalendarDayForm(forms.ModelForm):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    class Meta:
        model = WorkCalendarDay
        fields = ["date", "is_workday", "note"]
        widgets = {"date": DateInput()}


class CalendarYearForm(forms.Form):
    """A year's official calendar in one step: one date per line, optionally followed by its name
    (“2027-01-01 元旦”). Every line is checked; the messages name the line."""

    holidays = forms.CharField(
        label=_("holidays (放假)"), required=False, widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"}),
        help_text=_("One date per line, e.g. “2027-01-01 元旦”. Weekends need not be listed."),
    )
    workdays = forms.CharField(
        label=_("make-up working days (调休上班)"), required=False, widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
        help_text=_("Saturdays or Sundays that are working days, e.g. “2027-02-06 春节调休”."),
    )

    def __init__(self, *args, year: int, **kwargs):
        self.year = year
        super().__init__(*args, **kwargs)

    def _lines(self, field: str) -> list[tuple[datetime.date, str]]:
        days, errors = [], []
        for number, line in enumerate(self.cleaned_data.get(field, "").splitlines(), start=1):
            text = line.strip()
            if not text:
                continue
            value, _sep, name = text.replace("\t", " ").partition(" ")
            try:
                day = datetime.date.fromisoformat(value.replace("/", "-"))
            except ValueError:
                errors.append(_("Line %(n)d: “%(value)s” is not a date.") % {"n": number, "value": value})
                continue
            if day.year != self.year:
                errors.append(_("Line %(n)d: %(date)s is not in %(year)d.") % {"n": number, "date": day, "year": self.year})
                continue
            days.append((day, name.strip()[:100]))
        if errors:
            raise ValidationError(errors)
        return days

    def clean_holidays(self):
        return self._lines("holidays")

    def clean_workdays(self):
        return self._lines("workdays")

    def clean(self):
        data = super().clean()
        seen: dict[datetime.date, str] = {}
        for field in ("holidays", "workdays"):
            for day, _name in data.get(field) or []:
                if day in seen:
                    self.add_error(field, _("%(date)s is listed twice.") % {"date": day})
                seen[day] = field
        return data

    def official_days(self):
        from .workcalendar import OfficialDay

        return [OfficialDay(day, False, name) for day, name in self.cleaned_data["holidays"]] + [
            OfficialDay(day, True, name) for day, name in self.cleaned_data["workdays"]
        ]

    @staticmethod
    def initial_for(year: int) -> dict:
        rows = WorkCalendarDay.objects.filter(date__year=year).order_by("date")
        lines = {True: [], False: []}
        for row in rows:
            lines[row.is_workday].append(f"{row.date:%Y-%m-%d} {row.note}".strip())
        return {"holidays": "\n".join(lines[False]), "workdays": "\n".join(lines[True])}


class PriorityWeightsForm(forms.ModelForm):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    class Meta:
        model = PriorityWeights
        fields = ["urgency", "tone", "repeats", "deadline", "vulnerable"]
        help_texts = {name: _("0–100; the weights are meant to add up to 100.") for name in fields}
