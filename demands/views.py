"""Pages of the demands app. Thin: reads come from selectors, writes go through services, who may
take which workflow step comes from workflow.py."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from members.models import HardshipHousehold, OrgUnit, Person
from portal.autocomplete import AutocompleteView
from portal.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, PermissionRequiredMixin
from portal.roles import has_permission
from portal.scope import get_visible_or_404, visible
from portal.uploads import file_response

from . import forms as forms_
from . import selectors, services, text_services, workflow
from . import tables as tables_
from .choices import OPEN_STATUSES, Channel, Urgency
from .filtersets import DemandFilterSet, LifeEventFilterSet, MediationFilterSet, VisitFilterSet
from .forms import (
    ACTION_FORMS, AnonymousDemandForm, ConcludeForm, DemandIntakeForm, FollowUpForm, LifeEventForm, MediationForm,
    PhotoForm, RateForm, SessionForm, TrackForm, VisitForm, handler_accounts,
)
from .models import (
    Demand, DemandAttachment, DemandCategory, DemandTextModel, HotTopic, LifeEvent, MediationCase, PriorityWeights, SlaPolicy, Visit,
    VisitPhoto, WorkCalendarDay,
)
from .sla import DEADLINE_FIELDS, current_thresholds
from .tables import DemandTable, LifeEventTable, MediationTable, VisitTable
from .workflow import Action, WorkflowError


def _form_errors_from(form, error: ValidationError) -> None:
    """Put a service's ValidationError beside the form's fields (or on top)."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


# --- Demand lists and queues -------------------------------------------------------------------------
class DemandListView(ObjectListView):
    permission = "demands.view"
    queryset = selectors.demand_list_queryset()
    filterset_class = DemandFilterSet
    table_class = DemandTable
    template_name = "demands/demand_list.html"
    create_url_name = "demands:demand_create"
    create_permission = "demands.submit"
    exchange_kind = "demands"
    export_basename = "demands"
    readable_columns = tables_.DEMAND_READABLE
    # What DemandTable shows (deadline colours read the status and the three SLA times).
    table_only = ("ref", "title", "urgency", "received_at", *DEADLINE_FIELDS,
                  "deadline_unconfirmed", "category__name", "category__sort_order", "org_unit__name",
                  "submitter__name", "handler__username", "handler__first_name", "handler__last_name",
                  "handler__person__name")
    title = gettext_lazy("Demands ledger")
    tab = "all"

    def estimated_count(self):
        # The whole ledger: the scope's maintained per-unit counts. A queue or "my demands" is
        # counted (up to the limit).
        return selectors.ledger_size(self.request.user) if self.tab == "all" else None

    def get(self, request, *args, **kwargs):
        self.limits = current_thresholds()
        return super().get(request, *args, **kwargs)

    def get_table_kwargs(self):
        return {"limits": self.limits}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tabs"] = queue_tabs(self.request.user)
        context["tab"] = self.tab
        return context


QUEUE_TITLES = {
    "pending": gettext_lazy("Awaiting acceptance"),
    "todo": gettext_lazy("My to-do"),
    "due_soon": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "to_visit": gettext_lazy("Awaiting return visit"),
}


def queue_tabs(user) -> list[tuple[str, str, str]]:
    tabs = [("all", gettext_lazy("All"), reverse("demands:demand_list"))] if has_permission(user, "demands.view") else []
    for name in selectors.QUEUES:
        if has_permission(user, selectors.queue_permission(name)):
            tabs.append((name, QUEUE_TITLES[name], reverse("demands:queue", args=[name])))
    return tabs


class DemandQueueView(DemandListView):
    """待受理 / 我的待办 / 即将到期 / 已超期 / 待回访, most urgent first."""

    create_url_name = None

    def dispatch(self, request, *args, **kwargs):
        self.queue_name = kwargs["queue"]
        if self.queue_name not in selectors.QUEUES:
            raise Http404
        self.permission = selectors.queue_permission(self.queue_name)
        self.tab = self.queue_name
        self.title = QUEUE_TITLES[self.queue_name]
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.queue(self.queue_name, self.request.user, limits=self.limits)


class QueueHomeView(PermissionRequiredMixin, View):
    """The first work queue this user works from (待受理 for staff, 我的待办 for handlers)."""

    permission = "demands.queue"

    def get(self, request):
        for name in selectors.QUEUES:
            if has_permission(request.user, selectors.queue_permission(name)):
                return redirect("demands:queue", queue=name)
        return redirect("demands:demand_list")


class MyDemandsView(DemandListView):
    title = gettext_lazy("My demands")
    tab = "mine"

    def get_queryset(self):
        return selectors.my_demands(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tabs"] = []
        return context


# --- Intake --------------------------------------------------------------------------------------------
class DemandCreateView(PermissionRequiredMixin, FormView):
    permission = "demands.submit"
    template_name = "demands/demand_form.html"
    form_class = DemandIntakeForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def source_visit(self) -> Visit | None:
        visit_id = self.request.POST.get("visit") or self.request.GET.get("visit")
        if not visit_id or not str(visit_id).isdigit() or not has_permission(self.request.user, "visits.view"):
            return None
        return visible(Visit.objects.select_related("person", "person__org_unit"), self.request.user, "visits.view").filter(pk=visit_id).first()

    def get_initial(self):
        initial = super().get_initial()
        visit = self.source_visit()
        if visit is not None:
            initial.update(submitter=visit.person.pk, org_unit=visit.person.org_unit_id, channel=Channel.VISIT, visit=visit.pk)
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["visit"] = self.source_visit()
        context["title"] = _("New demand")
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        visit = self.source_visit()
        demand = services.demand_submit(
            title=data["title"], content=data["content"], category=data["category"], urgency=data["urgency"],
            channel=data["channel"], org_unit=data["org_unit"], submitter=data.get("submitter"), by=self.request.user,
            service_group=data.get("service_group", ""), visit=visit, files=data.get("attachments") or (), suggest=True,
        )
        messages.success(self.request, _("Demand %(ref)s was received.") % {"ref": demand.ref})
        if visible(Demand.objects.filter(pk=demand.pk), self.request.user, "demands.view").exists():
            return redirect(demand)
        return redirect("demands:my_demands")


# A title shorter than this says too little for a suggestion.
SUGGEST_MIN_CHARS = 4


class SimilarDemandsView(PermissionRequiredMixin, View):
    """htmx: up to five similar open demands in scope while the title is typed, and the suggested
    category and urgency."""

    permission = "demands.submit"

    def get(self, request):
        exclude = request.GET.get("exclude")
        title = request.GET.get("title", "")
        similar = selectors.similar_demands(
            request.user, title, exclude_pk=int(exclude) if exclude and exclude.isdigit() else None
        )
        # The category and urgency the text model reads in the title, offered (never chosen) on the form.
        suggestion = text_services.suggest_text(title) if len(title.strip()) >= SUGGEST_MIN_CHARS else None
        return render(request, "demands/_similar.html", {"similar": similar, "suggestion": suggestion})


# --- Detail and workflow steps ------------------------------------------------------------------------
class DemandDetailView(ObjectDetailView):
    permission = "demands.view"
    queryset = selectors.demand_detail_queryset()
    # Its attachments and cooperating units are part of the demand: their changes are in its history.
    history_related = ("demands.DemandAttachment", "demands.Demand_cooperating_units")
    template_name = "demands/demand_detail.html"

    def get_queryset(self):
        return selectors.with_manage_scope(super().get_queryset(), self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(detail_context(self.request, self.object))
        return context


def detail_context(request, demand: Demand, *, bound_action: str | None = None, bound_form=None) -> dict:
    """The demand page. Each workflow step's form is loaded when its button opens it
    (action_form_context); only a posted form that came back with errors is on the page."""
    user = request.user
    facts = services.facts_for(demand, user)
    actions = workflow.allowed_actions(demand.status, facts)
    page = selectors.demand_page(user, demand, facts)
    return {
        **page,
        **tables_.demand_badges(demand),
        "actions": [(action, Action(action).label, bound_form if action == bound_action else None) for action in actions],
        "suggestion": text_services.suggest_for(demand) if bound_action == Action.ACCEPT else None,
        "open_action": bound_action,
        "may_merge": Action.MERGE in actions,
    }


def action_form_context(request, demand: Demand, action: str) -> dict:
    """One step's form as the demand page shows it, and for 受理 what the text model suggests
    (shown, never chosen); the merge form offers the similar open demands."""
    user = request.user
    similar = selectors.similar_demands(user, demand.title, exclude_pk=demand.pk) if action == Action.MERGE else []
    return {
        "demand": demand, "action": action, "label": Action(action).label,
        "form": forms_.action_forms(demand, user, [action], candidates=similar)[action],
        "suggestion": text_services.suggest_for(demand) if action == Action.ACCEPT else None,
    }


class DemandActionView(PermissionRequiredMixin, View):
    """POST one workflow step. The step must be in the table for this user; bad input is shown
    beside the fields on the detail page and nothing is saved."""

    permission = "demands.view"

    def get_demand(self, pk, action):
        """The demand, if the step is in the workflow table for this user: 404 for an unknown step or
        a demand out of scope, 403 for a step the user may not take."""
        # The demand with what the forms and the workflow table read, not what the page shows beside
        # it (cooperating units, duplicates, suggestions: subqueries that were most of a form's cost).
        queryset = selectors.with_manage_scope(selectors.demand_list_queryset(), self.request.user)
        demand = get_visible_or_404(queryset, self.request.user, self.permission, pk=pk)
        if action not in ACTION_FORMS or action not in services.allowed_actions(demand, self.request.user):
            raise PermissionDenied if action in ACTION_FORMS else Http404
        return demand

    def get(self, request, pk, action):
        """The step's form, loaded into the demand page when its button opens it."""
        demand = self.get_demand(pk, action)
        if not request.htmx:
            return redirect(demand)
        return render(request, "demands/_action_form.html", action_form_context(request, demand, action))

    def post(self, request, pk, action):
        demand = self.get_demand(pk, action)
        form = ACTION_FORMS[action](request.POST, request.FILES, demand=demand, **({"user": request.user} if action == Action.MERGE else {}))
        if form.is_valid():
            try:
                services.demand_step(action, demand, request.user, form.cleaned_data)
            except WorkflowError as error:
                messages.error(request, str(error))
                return redirect(demand)
            except ValidationError as error:
                _form_errors_from(form, error)
            else:
                return self.done(demand, action)
        return self.invalid(demand, action, form)

    def done(self, demand, action):
        """Back to the demand, or to the list when the step took it out of the user's reach."""
        messages.success(self.request, _("Done: %(action)s.") % {"action": Action(action).label})
        still_visible = visible(Demand.objects.filter(pk=demand.pk), self.request.user, self.permission).exists()
        return redirect(demand if still_visible else "demands:demand_list")

    def invalid(self, demand, action, form):
        """The demand page again with the step's form bound: errors beside the fields, nothing saved."""
        demand = selectors.with_manage_scope(DemandDetailView.queryset, self.request.user).get(pk=demand.pk)
        context = {**detail_context(self.request, demand, bound_action=action, bound_form=form), "object": demand}
        return render(self.request, DemandDetailView.template_name, context, status=400)


class DemandAttachmentView(PermissionRequiredMixin, View):
    permission = "demands.view"

    def get(self, request, pk, file_id):
        demand = get_visible_or_404(Demand.objects.all(), request.user, self.permission, pk=pk)
        attachment = get_object_or_404(DemandAttachment, pk=file_id, demand=demand)
        return file_response(attachment.file, attachment.original_name)


# --- Without login: anonymous intake, tracking, the rating link ------------------------------------------
class AnonymousSubmitView(View):
    template_name = "demands/public_submit.html"

    def get(self, request):
        return render(request, self.template_name, {"form": AnonymousDemandForm()})

    def post(self, request):
        form = AnonymousDemandForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        data = form.cleaned_data
        demand = services.demand_submit(
            title=data["title"], content=data["content"], category=data["category"], urgency=Urgency.NORMAL,
            channel=Channel.ANONYMOUS, org_unit=data["org_unit"], submitter=None, by=None,
            files=data.get("attachments") or (), suggest=True,
        )
        request.session["demands_tracking_code"] = demand.tracking_code
        return redirect("demands:public_submitted")


class PublicSuggestView(View):
    """Without login, while the anonymous form is typed: the suggested category and urgency only
    (no lead unit, no confidence, no model internals). Rate-limited per address (urls.py)."""

    def get(self, request):
        title, content = request.GET.get("title", "")[:200], request.GET.get("content", "")[:2000]
        suggestion = text_services.suggest_text(title, content) if len(title.strip()) >= SUGGEST_MIN_CHARS else None
        return render(request, "demands/_public_suggestion.html", {"suggestion": suggestion})


class AnonymousSubmittedView(View):
    def get(self, request):
        code = request.session.get("demands_tracking_code")
        if not code:
            return redirect("demands:public_submit")
        return render(request, "demands/public_submitted.html", {"code": services.format_tracking_code(code)})


class TrackView(View):
    """Status by tracking code: the status and the dates of the steps, never names or texts."""

    template_name = "demands/public_track.html"

    def get(self, request):
        return render(request, self.template_name, {"form": TrackForm()})

    def post(self, request):
        form = TrackForm(request.POST)
        context = {"form": form}
        if form.is_valid():
            page = selectors.track_page(form.cleaned_data["code"])
            if page is None:
                form.add_error("code", _("No demand has this tracking code."))
            else:
                context.update(page)
        return render(request, self.template_name, context, status=200 if form.is_valid() and not form.errors else 400)


class RateView(View):
    """The one-time rating link (no login). Used, expired or altered links are refused."""

    template_name = "demands/public_rate.html"

    def get(self, request, token):
        try:
            demand = services.demand_for_rating_link(token)
        except services.RatingLinkError as error:
            return render(request, "demands/public_rate_refused.html", {"reason": str(error)}, status=400)
        return render(request, self.template_name, {"demand": demand, "form": RateForm()})

    def post(self, request, token):
        try:
            demand = services.demand_for_rating_link(token)
        except services.RatingLinkError as error:
            return render(request, "demands/public_rate_refused.html", {"reason": str(error)}, status=400)
        form = RateForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"demand": demand, "form": form}, status=400)
        try:
            services.demand_rate_by_link(token=token, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"])
        except (services.RatingLinkError, WorkflowError) as error:
            return render(request, "demands/public_rate_refused.html", {"reason": str(error)}, status=400)
        return render(request, "demands/public_rate_done.html", {"demand": demand})


# --- Autocompletes for assignment (directory data: any active unit or handler account) ----------------
class HandlerAutocomplete(AutocompleteView):
    """Accounts that can handle demands, in any unit: assignment and transfer cross units
    (资源适配). Only names and units are returned."""

    permission = "demands.manage"
    scoped = False
    search_fields = ("username__istartswith", "person__name__istartswith", "first_name__istartswith")

    def get_queryset(self):
        return selectors.handlers_for_unit(handler_accounts(), self.request.user, self.request.GET.get("unit", ""))

    def label(self, u):
        return f"{u.display_name}（{u.scope_org.name if u.scope_org_id else '—'} · {u.get_role_display()}）"


class UnitAutocomplete(AutocompleteView):
    """Any active unit (lead and cooperating units may lie outside the user's scope)."""

    permission = "demands.manage"
    scoped = False
    search_fields = ("name__icontains", "code__istartswith")

    def get_queryset(self):
        return OrgUnit.objects.filter(is_active=True).select_related("parent").order_by("depth", "path")

    def label(self, u):
        return f"{u.name}（{u.parent.name}）" if u.parent_id else u.name


class LifeEventAutocomplete(AutocompleteView):
    permission = "lifeevents.view"
    model = LifeEvent
    search_fields = ("ref__istartswith", "person__name__istartswith", "person__employee_no__istartswith")

    def get_queryset(self):
        queryset = LifeEvent.objects.select_related("person").order_by("-event_date", "-id")
        person = self.request.GET.get("person", "")
        return queryset.filter(person_id=person) if person.isdigit() else queryset

    def label(self, obj):
        return f"{obj.person.name} · {obj.get_kind_display()} · {obj.event_date:%Y-%m-%d}（{obj.ref}）"


# --- Mediation ---------------------------------------------------------------------------------------------
class MediationListView(ObjectListView):
    permission = "mediation.view"
    queryset = MediationCase.objects.select_related("org_unit")
    filterset_class = MediationFilterSet
    table_class = MediationTable
    create_url_name = "demands:mediation_create"
    create_permission = "mediation.change"
    exchange_kind = "mediations"
    export_basename = "mediations"
    title = gettext_lazy("Dispute mediation")


class MediationCreateView(PermissionRequiredMixin, FormView):
    permission = "mediation.change"
    template_name = "demands/simple_form.html"
    form_class = MediationForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        ref = self.request.GET.get("demand", "")
        demand = visible(Demand.objects.filter(ref=ref), self.request.user, "demands.view").select_related("submitter").first() if ref else None
        if demand is not None:
            initial.update(demand_ref=demand.ref, title=demand.title, org_unit=demand.org_unit_id, description=demand.content,
                           parties=[demand.submitter_id] if demand.submitter_id else [])
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("New mediation case")}

    def form_valid(self, form):
        data = form.cleaned_data
        case = services.mediation_open(
            by=self.request.user, org_unit=data["org_unit"], title=data["title"], opened_at=data["opened_at"],
            demand=data["demand_ref"], description=data["description"], parties=data["parties"],
            other_parties=data["other_parties"], mediators=data["mediators"],
        )
        messages.success(self.request, _("Mediation case %(ref)s was opened.") % {"ref": case.ref})
        return redirect(case)


class MediationDetailView(ObjectDetailView):
    permission = "mediation.view"
    queryset = MediationCase.objects.select_related("org_unit", "demand").prefetch_related(
        "parties", "mediators", "sessions", "follow_ups"
    )
    history_related = ("demands.MediationSession", "demands.MediationFollowUp", "demands.MediationCase_parties",
                       "demands.MediationCase_mediators")
    template_name = "demands/mediation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(mediation_context(self.request, self.object))
        return context


MEDIATION_STEPS = {"session": SessionForm, "conclude": ConcludeForm, "follow_up": FollowUpForm}


def mediation_context(request, case, *, bound: str | None = None, form=None) -> dict:
    can_change = has_permission(request.user, "mediation.change")
    forms = {name: (form if name == bound else cls()) for name, cls in MEDIATION_STEPS.items()}
    now = timezone.localtime().replace(second=0, microsecond=0)
    if bound != "session":
        forms["session"].initial = {"held_at": now}
    if bound != "conclude":
        forms["conclude"].initial = {"concluded_at": now}
    if bound != "follow_up":
        forms["follow_up"].initial = {"checked_on": timezone.localdate()}
    return {"case": case, "can_change": can_change, "forms": forms, "open_step": bound, "title": str(case)}


class MediationStepView(PermissionRequiredMixin, View):
    permission = "mediation.change"

    def get_case(self, pk, step):
        if step not in MEDIATION_STEPS:
            raise Http404
        return get_visible_or_404(MediationDetailView.queryset, self.request.user, self.permission, pk=pk)

    def post(self, request, pk, step):
        case = self.get_case(pk, step)
        form = MEDIATION_STEPS[step](request.POST)
        if form.is_valid():
            try:
                services.mediation_step(case=case, by=request.user, step=step, data=form.cleaned_data)
            except ValidationError as error:
                _form_errors_from(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(case)
        context = mediation_context(request, case, bound=step, form=form)
        context["object"] = case
        return render(request, MediationDetailView.template_name, context, status=400)


# --- Visits ---------------------------------------------------------------------------------------------------
class VisitListView(ObjectListView):
    permission = "visits.view"
    queryset = Visit.objects.select_related("person", "person__org_unit", "visitor")
    filterset_class = VisitFilterSet
    table_class = VisitTable
    create_url_name = "demands:visit_create"
    create_permission = "visits.change"
    exchange_kind = "visits"
    export_basename = "visits"
    readable_columns = tables_.VISIT_READABLE
    title = gettext_lazy("Visits")


class VisitCreateView(PermissionRequiredMixin, FormView):
    """Made for a phone in the field: person, kind, notes, photos."""

    permission = "visits.change"
    template_name = "demands/visit_form.html"
    form_class = VisitForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        user, get = self.request.user, self.request.GET
        if get.get("life_event", "").isdigit():
            event = visible(LifeEvent.objects.all(), user, "lifeevents.view").filter(pk=get["life_event"]).first()
            if event is not None:
                initial.update(life_event=event.pk, person=event.person_id, kind="must_visit")
        elif get.get("person", "").isdigit():
            if visible(Person.objects.filter(pk=get["person"]), user, "visits.change").exists():
                initial["person"] = int(get["person"])
            household = get.get("hardship_household", "")
            if household.isdigit() and has_permission(user, "hardship.view") and visible(
                    HardshipHousehold.objects.filter(pk=household, person=get["person"]), user, "hardship.view").exists():
                initial.update(hardship_household=int(household), kind="hardship")
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Log a visit")}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            visit = services.visit_log(
                by=self.request.user, person=data["person"], visitor=data["visitor"], visited_on=data["visited_on"],
                kind=data["kind"], notes=data["notes"], life_event=data.get("life_event"), photos=data.get("photos") or (),
                hardship_household=data.get("hardship_household"),
            )
        except ValidationError as error:
            _form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Visit %(ref)s was saved.") % {"ref": visit.ref})
        return redirect(visit)


class VisitDetailView(ObjectDetailView):
    permission = "visits.view"
    queryset = Visit.objects.select_related("person", "person__org_unit", "visitor", "life_event", "created_by",
                                            "hardship_household")
    template_name = "demands/visit_detail.html"
    history_related = ("demands.VisitPhoto",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            **selectors.visit_page(user, self.object),
            can_create_demand=services.may_submit_on_behalf(user),
            can_change=has_permission(user, "visits.change"),
            photo_form=PhotoForm(),
        )
        return context


class VisitPhotoView(PermissionRequiredMixin, View):
    permission = "visits.view"

    def get(self, request, pk, photo_id):
        visit = get_visible_or_404(Visit.objects.all(), request.user, self.permission, pk=pk)
        photo = get_object_or_404(VisitPhoto, pk=photo_id, visit=visit)
        return file_response(photo.file, photo.original_name)


class VisitAddPhotosView(PermissionRequiredMixin, View):
    permission = "visits.change"

    def post(self, request, pk):
        visit = get_visible_or_404(Visit.objects.all(), request.user, self.permission, pk=pk)
        form = PhotoForm(request.POST, request.FILES)
        if form.is_valid():
            services.visit_add_photos(visit=visit, by=request.user, photos=form.cleaned_data["photos"])
            messages.success(request, _("Saved."))
        else:
            for error in form.errors.get("photos", []):
                messages.error(request, error)
        return HttpResponseRedirect(visit.get_absolute_url())


# --- Life events --------------------------------------------------------------------------------------------
class LifeEventListView(ObjectListView):
    permission = "lifeevents.view"
    queryset = LifeEvent.objects.select_related("person", "person__org_unit")
    filterset_class = LifeEventFilterSet
    table_class = LifeEventTable
    create_url_name = "demands:lifeevent_create"
    create_permission = "lifeevents.change"
    exchange_kind = "life_events"
    export_basename = "life_events"
    title = gettext_lazy("Life events")


class DueVisitsView(LifeEventListView):
    """五必访 due: life events without a visit, earliest deadline first."""

    title = gettext_lazy("Due visits")
    template_name = "demands/due_visits.html"

    def get_queryset(self):
        return selectors.due_visits(self.request.user)


class LifeEventCreateView(PermissionRequiredMixin, FormView):
    permission = "lifeevents.change"
    template_name = "demands/simple_form.html"
    form_class = LifeEventForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        person = self.request.GET.get("person", "")
        if person.isdigit():
            initial["person"] = int(person)
        initial.setdefault("event_date", timezone.localdate())
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Record a life event")}

    def form_valid(self, form):
        try:
            event = services.life_event_record(by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Recorded. A visit is due by %(date)s.") % {"date": f"{event.visit_due_on:%Y-%m-%d}"})
        return redirect(event)


class LifeEventDetailView(ObjectDetailView):
    permission = "lifeevents.view"
    queryset = LifeEvent.objects.select_related("person", "person__org_unit", "created_by")
    template_name = "demands/lifeevent_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visits = list(visible(self.object.visits.select_related("visitor"), self.request.user, "visits.view"))
        context.update(
            visits=visits, today=timezone.localdate(), title=str(self.object),
            can_visit=has_permission(self.request.user, "visits.change"),
            on_time=any(v.visited_on <= self.object.visit_due_on for v in visits),
        )
        return context


# --- Configuration overview (administrators) ----------------------------------------------------------------
class SlaOverviewView(PermissionRequiredMixin, TemplateView):
    """The SLA policies in force and the work calendar of the coming weeks, with overrides."""

    permission = "demands.configure"
    template_name = "demands/sla_overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=_("SLA policies and work calendar"), **selectors.sla_overview(timezone.localdate()))
        return context


# --- Reference data: categories, SLA policies, calendar overrides (administrators) ----------------------
class CategoryListView(ObjectListView):
    permission = "demands.configure"
    model = DemandCategory
    queryset = DemandCategory.objects.all()
    filterset_fields = ["is_active"]
    table_class = tables_.CategoryTable
    create_url_name = "demands:category_create"
    title = gettext_lazy("Demand categories")
    paginate_by = 100


class CategoryEditView(ObjectEditView):
    permission = "demands.configure"
    queryset = DemandCategory.objects.all()
    form_class = forms_.CategoryForm
    success_url = reverse_lazy("demands:category_list")


class SlaPolicyListView(ObjectListView):
    permission = "demands.configure"
    model = SlaPolicy
    queryset = SlaPolicy.objects.select_related("category")
    filterset_fields = ["urgency", "category"]
    table_class = tables_.SlaPolicyTable
    create_url_name = "demands:slapolicy_create"
    title = gettext_lazy("SLA policies")
    paginate_by = 100


class SlaPolicyEditView(ObjectEditView):
    permission = "demands.configure"
    queryset = SlaPolicy.objects.all()
    form_class = forms_.SlaPolicyForm
    success_url = reverse_lazy("demands:slapolicy_list")


class CalendarListView(ObjectListView):
    permission = "demands.configure"
    model = WorkCalendarDay
    queryset = WorkCalendarDay.objects.all()
    filterset_fields = ["is_workday"]
    table_class = tables_.WorkCalendarDayTable
    create_url_name = "demands:calendar_create"
    title = gettext_lazy("Work calendar overrides")
    paginate_by = 100


class CalendarEditView(ObjectEditView):
    permission = "demands.configure"
    queryset = WorkCalendarDay.objects.all()
    form_class = forms_.WorkCalendarDayForm
    success_url = reverse_lazy("demands:calendar_list")


class CalendarDeleteView(ObjectDeleteView):
    permission = "demands.configure"
    queryset = WorkCalendarDay.objects.all()
    success_url = reverse_lazy("demands:calendar_list")


class CalendarYearView(PermissionRequiredMixin, FormView):
    """A year's official calendar edited in one step (holidays and 调休 days as lines of dates);
    saving loads it like the `calendar` import: the year becomes confirmed and open deadlines are
    recomputed."""

    permission = "demands.configure"
    template_name = "demands/calendar_year.html"
    form_class = forms_.CalendarYearForm

    def get(self, request, *args, **kwargs):
        if "year" not in kwargs:
            # The menu's entry: the first year that still needs its official calendar.
            from .workcalendar import calendar_status

            return redirect("demands:calendar_year", calendar_status()["last_confirmed_year"] + 1)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        if not 2000 <= self.kwargs.get("year", 0) <= 2100:
            raise Http404
        return {**super().get_form_kwargs(), "year": self.kwargs["year"]}

    def get_initial(self):
        return forms_.CalendarYearForm.initial_for(self.kwargs["year"])

    def get_context_data(self, **kwargs):
        from . import calendar
        from .models import WorkCalendarYear

        year = self.kwargs["year"]
        loaded = WorkCalendarYear.objects.filter(year=year).select_related("loaded_by").first()
        return super().get_context_data(
            **kwargs, year=year, loaded=loaded, official=calendar.is_official_calendar_year(year),
            title=_("Official work calendar %(year)d") % {"year": year},
            unconfirmed_open=Demand.objects.filter(status__in=OPEN_STATUSES, deadline_unconfirmed=True).count(),
        )

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        from .workcalendar import load_calendar_years

        year = self.kwargs["year"]
        loaded = load_calendar_years(form.official_days(), years=[year], by=self.request.user)
        messages.success(self.request, _(
            "The official calendar of %(year)d is loaded: %(days)d days listed, %(n)d open demands' deadlines recomputed."
        ) % {"year": year, "days": len(form.official_days()), "n": loaded.recomputed})
        return redirect("demands:sla_overview")


class ColleagueAutocomplete(AutocompleteView):
    """People for the pickers of a record's colleagues (mediators, parties): the people of the
    user's scope, the user, and whoever may act on the record's unit (?unit=, portal.recipients)."""

    permission = "mediation.change"
    scoped = False  # portal.recipients.pickable_people is the scope
    search_fields = ("employee_no__istartswith", "name__istartswith")

    def get_queryset(self):
        return selectors.colleagues_for_unit(self.request.user, self.request.GET.get("unit", ""))

    def label(self, p):
        return f"{p.name}（{p.employee_no}，{p.org_unit.name}）"


# --- Service priority list and the text model -------------------------------------------------------
class PriorityListView(PermissionRequiredMixin, TemplateView):
    """服务优先级清单: the open demands in the user's scope, ranked by the stated formula."""

    permission = "demands.queue"
    template_name = "demands/priority_list.html"
    shown = 100

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            **selectors.priority_page(self.request.user, self.permission, shown=self.shown),
            title=_("Service priority list"),
            may_configure=has_permission(self.request.user, "demands.configure"),
            tone_labels=text_services.TONE_LABELS,
        )
        return context


class PriorityWeightsEditView(ObjectEditView):
    permission = "demands.configure"
    queryset = PriorityWeights.objects.all()
    form_class = forms_.PriorityWeightsForm
    success_url = reverse_lazy("demands:priority_list")
    title = gettext_lazy("Weights of the service priority list")

    def get_object(self, queryset=None):
        return PriorityWeights.objects.order_by("pk").first() or PriorityWeights.objects.create()

    def save_form(self, form):
        weights = super().save_form(form)
        services.priority_weights_changed()
        return weights


class TextModelListView(PermissionRequiredMixin, TemplateView):
    """The versions of the demand text model, how each scored, which one is current."""

    permission = "demands.configure"
    template_name = "demands/text_models.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=_("Demand text model"), versions=DemandTextModel.objects.defer("blob")[:50],
            classified=text_services.classified_count(), min_history=text_services.MIN_HISTORY,
            acceptance=text_services.acceptance_rates(),
        )
        return context


class HotTopicListView(PermissionRequiredMixin, TemplateView):
    """热点诉求 of a month (the latest computed unless ?period=YYYY-MM) for the units in scope."""

    permission = "demands.queue"
    template_name = "demands/hot_topics.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        topics = visible(HotTopic.objects.select_related("org_unit"), self.request.user, self.permission)
        periods = list(topics.order_by("-period").values_list("period", flat=True).distinct()[:24])
        period = self.request.GET.get("period")
        period = period if period in periods else (periods[0] if periods else None)
        context.update(
            title=_("Hot topics"), periods=periods, period=period,
            topics=list(topics.filter(period=period).order_by("org_unit__path", "rank")) if period else [],
        )
        context["computed_at"] = max((t.computed_at for t in context["topics"]), default=None)
        return context


class HotTopicDetailView(PermissionRequiredMixin, TemplateView):
    """Drill-down: the demands of one hot topic that the user may see."""

    permission = "demands.queue"
    template_name = "demands/hot_topic_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        topic = get_visible_or_404(HotTopic.objects.select_related("org_unit"), self.request.user, self.permission, pk=kwargs["pk"])
        demands = visible(Demand.objects.filter(pk__in=topic.demand_ids), self.request.user, "demands.view")
        context.update(
            title=_("Hot topic: %(words)s") % {"words": "、".join(topic.key_words)}, topic=topic,
            demands=list(demands.select_related("category", "org_unit").order_by("-received_at")[:200]),
        )
        return context


class HeatMapView(PermissionRequiredMixin, TemplateView):
    """需求热力图: units × categories of what was heard on the month's visits."""

    permission = "visits.view"
    template_name = "demands/heat_map.html"

    def get_context_data(self, **kwargs):
        from . import heatmap

        context = super().get_context_data(**kwargs)
        period = self.request.GET.get("period") or ""
        try:
            heatmap.month_bounds(period)
            valid = len(period) == 7
        except ValueError:
            valid = False
        error = "" if valid or not period else _("Give the month as YYYY-MM.")
        if not valid:
            period = timezone.localdate().strftime("%Y-%m")
        context.update(title=_("Heat map of needs"), period=period, error=error, **heatmap.heat_map(self.request.user, period))
        return context
