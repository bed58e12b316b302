"""Pages of the hardship register: thin; writes in services.py, reads in selectors.py."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView
from django.http import HttpResponse

from members.models import Person
from portal.autocomplete import AutocompleteView
from portal.generic import ObjectDetailView, ObjectListView, PermissionRequiredMixin, detail_with_forms
from portal.roles import has_permission
from portal.scope import get_visible_or_404, visible
from portal.uploads import file_response

from . import selectors, services, workflow
from .choices import Level, Pack
from .filtersets import AssistanceFilterSet, HouseholdFilterSet
from .home import WIDGET_ROWS
from .forms import AssistanceForm, HouseholdForm, MeasureForm, ReviewForm, StepForm, errors_from
from .models import AssistanceMeasure, AssistanceRecord, HardshipHousehold
from .tables import AssistanceTable, DueReviewTable, HouseholdTable, household_status_badge

VIEW, CHANGE = "hardship.view", "hardship.change"


class HouseholdListView(ObjectListView):
    permission = VIEW
    queryset = HardshipHousehold.objects.select_related("person", "person__org_unit", "liaison", "liaison__person")
    filterset_class = HouseholdFilterSet
    table_class = HouseholdTable
    create_url_name = "members:hardship_create"
    create_permission = CHANGE
    exchange_kind = "hardship_households"
    export_basename = "hardship_households"
    title = gettext_lazy("Hardship households")


class DueReviewListView(HouseholdListView):
    """Households on the register whose quarterly review has come, earliest first."""

    table_class = DueReviewTable
    create_url_name = None
    title = gettext_lazy("Due hardship reviews")

    def get_queryset(self):
        return selectors.due_reviews(self.request.user, timezone.localdate()).select_related("person__org_unit")


class AssistanceListView(ObjectListView):
    permission = VIEW
    queryset = AssistanceRecord.objects.select_related("household", "household__person", "household__person__org_unit")
    filterset_class = AssistanceFilterSet
    table_class = AssistanceTable
    exchange_kind = "hardship_assistance"
    export_basename = "hardship_assistance"
    title = gettext_lazy("Assistance given")


class HouseholdCreateView(PermissionRequiredMixin, FormView):
    permission = CHANGE
    template_name = "members/hardship/household_form.html"
    form_class = HouseholdForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        initial = super().get_initial()
        person = self.request.GET.get("person", "")
        if person.isdigit() and visible(Person.objects.filter(pk=person), self.request.user, CHANGE).exists():
            initial["person"] = int(person)
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Register a hardship household")}

    def form_valid(self, form):
        try:
            household = services.household_register(by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Household %(ref)s is on the register.") % {"ref": household.ref})
        return redirect(household)


class HouseholdDetailView(ObjectDetailView):
    permission = VIEW
    queryset = HardshipHousehold.objects.select_related("person", "person__org_unit", "liaison", "liaison__person", "registered_by")
    template_name = "members/hardship/household_detail.html"
    history_related = ("members.AssistanceMeasure", "members.AssistanceRecord", "members.HardshipReview")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        household, user = self.object, self.request.user
        facts = services.facts_for(user, household)
        actions = workflow.allowed_actions(household.status, facts)
        measures = list(household.measures.select_related("owner", "owner__person"))
        can_change = has_permission(user, CHANGE) and facts.in_scope
        today = timezone.localdate()
        blocked = (household.status == workflow.S.REGISTERED and facts.in_scope and facts.registered_it
                   and workflow.Action.RELIEVE not in actions)
        context.update(
            title=str(household),
            status_badge=household_status_badge(household),
            today=today,
            review_due=household.next_review_on is not None and household.next_review_on <= today,
            steps=list(household.steps.select_related("by", "by__person")),
            policy_measures=[m for m in measures if m.pack == Pack.POLICY],
            service_measures=[m for m in measures if m.pack == Pack.SERVICE],
            assistance=list(household.assistance.select_related("measure", "recorded_by")[:100]),
            reviews=list(household.reviews.select_related("reviewed_by", "reviewed_by__person")[:20]),
            visits=list(visible(household.visits.select_related("visitor"), user, "visits.view")[:20]),
            can_change=can_change and household.status == workflow.S.REGISTERED,
            can_review=workflow.Action.REVIEW in actions,
            can_log_visit=has_permission(user, "visits.change"),
            step_actions=[(a, workflow.Action(a).label) for a in actions if a in workflow.STATUS_ACTIONS],
            relieve_blocked=blocked,
            separation_message=workflow.GUARD_MESSAGES[workflow.SECOND_PERSON],
            is_severe=household.level == Level.SEVERE,
        )
        context.setdefault("step_form", StepForm(initial={"on": today}))
        context.setdefault("review_form", ReviewForm(initial={"reviewed_on": today, "level": household.level}))
        context.setdefault("measure_form", MeasureForm(user=user))
        context.setdefault("assistance_form", AssistanceForm(household=household))
        return context


class _HouseholdPost(PermissionRequiredMixin, View):
    """A form posted from the household page: on success back to it, on failure the page again
    with the bound form (errors beside the fields, input kept)."""

    permission = CHANGE
    form_name = ""

    def household(self, pk):
        return get_visible_or_404(HardshipHousehold.objects.all(), self.request.user, self.permission, pk=pk)

    def failed(self, household, form):
        return detail_with_forms(HouseholdDetailView, self.request, household, status=400, **{self.form_name: form})

    def done(self, household, message=None):
        messages.success(self.request, message or _("Saved."))
        return redirect(household)


class HouseholdStepView(_HouseholdPost):
    form_name = "step_form"

    def post(self, request, pk):
        household = self.household(pk)
        form = StepForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.household_step(household=household, action=data["action"], by=request.user, on=data["on"],
                                        reason=data["reason"])
            except ValidationError as error:
                errors_from(form, error)
            else:
                return self.done(household)
        return self.failed(household, form)


class HouseholdReviewView(_HouseholdPost):
    # The liaison may review too (workflow.py); the service checks it.
    permission = VIEW
    form_name = "review_form"

    def post(self, request, pk):
        household = self.household(pk)
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                services.household_review(household=household, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_from(form, error)
            else:
                return self.done(household)
        return self.failed(household, form)


class MeasureAddView(_HouseholdPost):
    form_name = "measure_form"

    def post(self, request, pk):
        household = self.household(pk)
        form = MeasureForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.measure_add(household=household, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_from(form, error)
            else:
                return self.done(household)
        return self.failed(household, form)


class MeasureDoneView(PermissionRequiredMixin, View):
    permission = VIEW  # the measure's owner or a manager of the household (service)

    def post(self, request, pk, measure_id):
        household = get_visible_or_404(HardshipHousehold.objects.all(), request.user, self.permission, pk=pk)
        measure = get_object_or_404(AssistanceMeasure, pk=measure_id, household=household)
        try:
            services.measure_set_done(measure=measure, by=request.user, done=request.POST.get("done") == "1")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Saved."))
        return redirect(household)


class AssistanceAddView(_HouseholdPost):
    form_name = "assistance_form"

    def post(self, request, pk):
        household = self.household(pk)
        form = AssistanceForm(request.POST, request.FILES, household=household)
        if form.is_valid():
            try:
                record = services.assistance_record(household=household, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_from(form, error)
            else:
                return self.done(household, _("Assistance %(ref)s was recorded.") % {"ref": record.ref})
        return self.failed(household, form)


class AssistanceEvidenceView(PermissionRequiredMixin, View):
    permission = VIEW

    def get(self, request, pk, record_id):
        household = get_visible_or_404(HardshipHousehold.objects.all(), request.user, self.permission, pk=pk)
        record = get_object_or_404(AssistanceRecord, pk=record_id, household=household)
        if not record.evidence:
            from django.http import Http404

            raise Http404
        return file_response(record.evidence, record.evidence_name)


class DueReviewsWidgetView(PermissionRequiredMixin, View):
    """The home page's due-reviews card, loaded after the page (hx-trigger="load"): the home page
    keeps its query budget, and the card removes itself when nothing is due."""

    permission = VIEW

    def get(self, request):
        from django.shortcuts import render

        rows = list(selectors.due_reviews(request.user, timezone.localdate())[: WIDGET_ROWS + 1])
        if not rows:
            return HttpResponse("")
        return render(request, "members/hardship/widgets/due_reviews.html",
                      {"w": {"rows": rows[:WIDGET_ROWS], "more": len(rows) > WIDGET_ROWS, "today": timezone.localdate()}})


class TotalsFragmentView(PermissionRequiredMixin, View):
    """The totals per unit for a year up to a day (the dashboard loads it after the page, for its
    unit and period): the unit and its direct sub-units in the user's scope."""

    permission = VIEW

    def get(self, request):
        from django import forms as django_forms
        from django.shortcuts import render

        from members.models import OrgUnit
        from portal.filters import query_value

        today = timezone.localdate()
        until = query_value(request.GET, "until", django_forms.DateField(), default=today)
        unit_id = query_value(request.GET, "unit", django_forms.IntegerField(min_value=1), default=None)
        units = visible(OrgUnit.objects.all(), request.user, "orgunits.view")
        unit = (units.filter(pk=unit_id).first() if unit_id else None) or request.user.scope_org
        if unit is None:
            return HttpResponse("")
        children = list(units.filter(parent=unit).order_by("sort_order", "path"))
        rows, left_out = selectors.rows_with_figures(
            selectors.totals_rows(request.user, until.year, [unit, *children], until=until))
        return render(request, "members/hardship/totals_fragment.html",
                      {"rows": rows, "left_out": left_out, "year": until.year, "until": until})


class HouseholdAutocomplete(AutocompleteView):
    permission = VIEW
    model = HardshipHousehold
    search_fields = ("ref__istartswith", "person__name__istartswith", "person__employee_no__istartswith")

    def get_queryset(self):
        return HardshipHousehold.objects.select_related("person").filter(status=workflow.S.REGISTERED).order_by("-registered_on", "-id")

    def label(self, obj):
        return f"{obj.ref} {obj.person.name}（{obj.person.employee_no}）"
