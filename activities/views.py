"""Thin views: each names its permission; reads go through the scope layer, writes through services."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from members.models import OrgUnit, PointsEntry
from portal.autocomplete import AutocompleteView
from portal.export import EXPORT_FORMATS, export_response
from portal.filters import query_year
from portal.forms import posted_id, posted_text
from portal.generic import (
    ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, PermissionRequiredMixin, detail_with_forms,
)
from portal.roles import has_permission
from portal.scope import get_visible_or_404, scope_q, visible
from portal.uploads import file_response

from . import selectors, services, workflow
from .choices import ActivityStatus, AttendanceStatus, ProjectStage
from .filtersets import ActivityFilterSet, ItemFilterSet, PointsFilterSet, ProjectFilterSet
from .forms import (
    ActivityForm, CopyYearForm, DecisionForm, EvaluationForm, ExpenseForm, InviteForm, LeaveForm, MilestoneForm,
    MilestoneProgressForm, PhotoForm, PointsRuleFormSet, ProgressForm, ProjectForm, ResponsibilityItemForm, RiskForm,
)
from .models import Activity, ActivityPhoto, Attendance, ItemEvent, Milestone, PointsRule, Project, ResponsibilityItem
from .tables import ActivityTable, ItemTable, LedgerTable, ProjectTable


def _add_validation_error(form, error: ValidationError) -> None:
    """A refusal of a service shown on the form: beside its field when it names one of the form's
    fields, above the form otherwise."""
    if hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
        form.add_error(None, error)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _validation_to_messages(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _attendance_count(status: str | None = None):
    rows = Attendance.objects.filter(activity=OuterRef("pk"))
    if status:
        rows = rows.filter(status=status)
    # A correlated subquery is evaluated only for the rows of the page (no GROUP BY over the table).
    return Coalesce(Subquery(rows.order_by().values("activity").annotate(n=Count("*")).values("n"),
                             output_field=IntegerField()), 0)


# --- Activities --------------------------------------------------------------------------------
class ActivityListView(ObjectListView):
    permission = "activities.view"
    queryset = Activity.objects.select_related("org_unit")
    filterset_class = ActivityFilterSet
    table_class = ActivityTable
    create_url_name = "activities:activity_create"
    create_permission = "activities.change"
    exchange_kind = "activities"
    export_basename = "activities"
    title = gettext_lazy("Activities and meetings")

    def get_queryset(self):
        return super().get_queryset().annotate(
            present_count=_attendance_count(AttendanceStatus.PRESENT), invited_count=_attendance_count()
        )


class ActivityDetailView(ObjectDetailView):
    permission = "activities.view"
    queryset = Activity.objects.select_related("org_unit", "created_by")
    template_name = "activities/activity_detail.html"
    history_related = ("activities.ActivityPhoto",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        page = selectors.activity_page(user, self.object)
        context.update(**page, invite_form=InviteForm(user=user) if page["can_change"] else None, leave_form=LeaveForm())
        return context


class ActivityEditView(ObjectEditView):
    permission = "activities.change"
    queryset = Activity.objects.select_related("org_unit")
    form_class = ActivityForm

    def get_initial(self):
        initial = super().get_initial()
        for name in ("type", "title"):
            if self.request.GET.get(name):
                initial[name] = self.request.GET[name]
        if self.request.user.scope_org_id and "pk" not in self.kwargs:
            initial.setdefault("org_unit", self.request.user.scope_org_id)
        return initial

    def save_form(self, form):
        activity = form.save(commit=False)
        if not activity.pk:
            activity.created_by = self.request.user
        activity.save()
        services.activity_saved(activity)
        return activity


class ActivityManageMixin(PermissionRequiredMixin):
    permission = "activities.change"

    def get_activity(self, pk):
        return get_visible_or_404(Activity.objects.select_related("org_unit"), self.request.user, self.permission, pk=pk)


class ActivityInviteView(ActivityManageMixin, View):
    def post(self, request, pk):
        activity = self.get_activity(pk)
        form = InviteForm(request.POST, user=request.user)
        if not form.is_valid():
            return detail_with_forms(ActivityDetailView, request, activity, invite_form=form)
        added = 0
        with transaction.atomic():
            if form.cleaned_data["unit"]:
                added += services.activity_invite_unit(activity=activity, unit=form.cleaned_data["unit"])
            if form.cleaned_data["people"]:
                added += services.activity_invite(activity=activity, person_ids=[p.pk for p in form.cleaned_data["people"]])
        messages.success(request, _("%(n)d people were added to the list.") % {"n": added})
        return redirect(activity)


class ActivityAttendanceView(ActivityManageMixin, View):
    """Roster attendance: one radio group per person (`status-<attendance id>`)."""

    def post(self, request, pk):
        activity = self.get_activity(pk)
        statuses = {int(key[7:]): value for key, value in request.POST.items() if key.startswith("status-") and key[7:].isdigit()}
        if any(value not in AttendanceStatus.values for value in statuses.values()):
            messages.error(request, _("Unknown attendance status."))
            return redirect(activity)
        try:
            changed = services.attendance_save(activity=activity, statuses=statuses, mark_held=request.POST.get("mark_held") == "1")
        except ValidationError as error:
            _validation_to_messages(request, error)
            return redirect(activity)
        messages.success(request, _("Attendance saved (%(n)d changed).") % {"n": changed})
        return redirect(activity)


class ActivityNotifyView(ActivityManageMixin, View):
    def post(self, request, pk):
        activity = self.get_activity(pk)
        from .tasks import notify_activity_participants

        transaction.on_commit(lambda: notify_activity_participants.delay(activity.pk))
        messages.success(request, _("The participants are being notified."))
        return redirect(activity)


class ActivityPhotoView(ActivityManageMixin, View):
    def post(self, request, pk):
        activity = self.get_activity(pk)
        if not workflow.has_been_held(activity.status, activity.held_at):
            messages.error(request, _("Photos are added to a held activity only."))
            return redirect(activity)
        form = PhotoForm(request.POST, request.FILES)
        if not form.is_valid():
            return detail_with_forms(ActivityDetailView, request, activity, status=400, photo_form=form)
        services.activity_add_photo(activity=activity, upload=form.cleaned_data["photo"], by=request.user)
        messages.success(request, _("The photo was added."))
        return redirect(activity)


class PhotoFileView(PermissionRequiredMixin, View):
    permission = "activities.view"

    def get(self, request, pk):
        photo = ActivityPhoto.objects.filter(pk=pk).first()
        if photo is None:
            raise Http404
        get_visible_or_404(Activity.objects.all(), request.user, self.permission, pk=photo.activity_id)
        return file_response(photo.file, photo.original_name)


class ActivityQrView(ActivityManageMixin, TemplateView):
    """The screen shown in the meeting room: a QR code of a signed check-in link that renews itself."""

    template_name = "activities/activity_qr.html"

    def get(self, request, pk):
        activity = self.get_activity(pk)
        if activity.status == ActivityStatus.CANCELLED:
            messages.error(request, _("This activity has been cancelled."))
            return redirect(activity)
        token = services.checkin_token(activity)
        url = request.build_absolute_uri(reverse("activities:checkin", args=[token]))
        context = selectors.activity_qr_page(activity, url)
        if request.htmx:
            return render(request, "activities/_qr_code.html", context)
        return render(request, self.template_name, context)


class CheckInView(PermissionRequiredMixin, View):
    """Opened from the phone camera. GET shows what one checks in to; POST checks in."""

    permission = "activities.checkin"
    template_name = "activities/checkin.html"

    def _resolve(self, request, token):
        try:
            activity_id = services.checkin_activity_id(token)
        except services.CheckInRefused as refused:
            return None, str(refused)
        activity = Activity.objects.select_related("org_unit").filter(pk=activity_id).first()
        if activity is None:
            return None, _("This check-in code is not valid.")
        if not request.user.person_id:
            return None, _("Your account is not linked to a person record, so you cannot check in.")
        return activity, ""

    def get(self, request, token):
        activity, error = self._resolve(request, token)
        mine = None
        if activity is not None:
            mine = activity.attendances.filter(person_id=request.user.person_id).first()
        return render(request, self.template_name, {"activity": activity, "error": error, "mine": mine, "token": token},
                      status=400 if error else 200)

    def post(self, request, token):
        activity, error = self._resolve(request, token)
        if activity is not None:
            try:
                attendance, new = services.attendance_check_in(activity=activity, person=request.user.person)
            except services.CheckInRefused as refused:
                error = str(refused)
            else:
                return render(request, self.template_name, {"activity": activity, "done": True, "new": new,
                                                            "mine": attendance, "token": token})
        return render(request, self.template_name, {"activity": activity, "error": error, "token": token}, status=400)


class LeaveRequestView(PermissionRequiredMixin, View):
    permission = "activities.view"

    def post(self, request, pk):
        activity = get_visible_or_404(Activity.objects.all(), request.user, self.permission, pk=pk)
        form = LeaveForm(request.POST)
        if not request.user.person_id:
            messages.error(request, _("Your account is not linked to a person record."))
            return redirect(activity)
        if not form.is_valid():
            return detail_with_forms(ActivityDetailView, request, activity, leave_form=form)
        try:
            services.attendance_request_leave(activity=activity, person=request.user.person, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _add_validation_error(form, error)
            return detail_with_forms(ActivityDetailView, request, activity, leave_form=form)
        messages.success(request, _("Your leave request was recorded."))
        return redirect(activity)


class ComplianceView(PermissionRequiredMixin, TemplateView):
    permission = "activities.compliance"
    template_name = "activities/compliance.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.compliance_page(self.request.user, self.request.GET, now=timezone.now()))
        return context


class PointsRulesView(PermissionRequiredMixin, View):
    permission = "activities.rules"
    template_name = "activities/points_rules.html"

    def get(self, request):
        return render(request, self.template_name, {"formset": PointsRuleFormSet(queryset=PointsRule.objects.all())})

    def post(self, request):
        formset = PointsRuleFormSet(request.POST, queryset=PointsRule.objects.all())
        if formset.is_valid():
            formset.save()
            messages.success(request, _("Saved."))
            return redirect("activities:points_rules")
        return render(request, self.template_name, {"formset": formset})


# --- Points -------------------------------------------------------------------------------------
class LedgerView(ObjectListView):
    permission = "points.view"
    queryset = PointsEntry.objects.select_related("person", "person__org_unit", "awarded_by")
    filterset_class = PointsFilterSet
    table_class = LedgerTable
    title = gettext_lazy("Points ledger")
    export_basename = "points"


class RankingView(PermissionRequiredMixin, TemplateView):
    permission = "points.ranking"
    template_name = "activities/ranking.html"

    def _params(self):
        user = self.request.user
        units = list(selectors.branches_for(user, self.permission)[:300])
        unit = None
        if self.request.GET.get("unit", "").isdigit():
            unit = next((u for u in units if u.pk == int(self.request.GET["unit"])), None)
        if unit is None and units:
            unit = units[0]
        year = query_year(self.request.GET, timezone.localdate().year)
        return units, unit, year

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("export")
        if fmt in EXPORT_FORMATS:
            units, unit, year = self._params()
            rows = selectors.points_ranking(unit, year, limit=100000) if unit else []
            return export_response(fmt, f"points-ranking-{year}", [_("rank"), _("employee number"), _("name"), _("org unit"), _("points")],
                                   ([p.rank, p.employee_no, p.name, p.org_unit.name, p.total] for p in rows))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        units, unit, year = self._params()
        context.update(units=units, unit=unit, year=year,
                       ranking=selectors.points_ranking(unit, year) if unit else [],
                       query=self.request.GET.urlencode())
        return context


class DevelopmentBoardView(PermissionRequiredMixin, TemplateView):
    permission = "development.view"
    template_name = "activities/development_board.html"

    def get_context_data(self, **kwargs):
        from members.choices import DevelopmentStage

        context = super().get_context_data(**kwargs)
        units = list(selectors.branches_for(self.request.user, self.permission)[:300])
        unit = None
        if self.request.GET.get("unit", "").isdigit():
            unit = next((u for u in units if u.pk == int(self.request.GET["unit"])), None)
        unit = unit or (units[0] if units else None)
        board = selectors.development_board(unit) if unit else {}
        context.update(units=units, unit=unit, today=timezone.localdate(),
                       columns=[(stage, DevelopmentStage(stage).label, cards) for stage, cards in board.items()])
        return context


# --- Responsibility items -----------------------------------------------------------------------
ITEM_QUERYSET = ResponsibilityItem.objects.select_related("lead_org_unit", "responsible", "parent")


class ItemListView(ObjectListView):
    permission = "tasks.view"
    queryset = ITEM_QUERYSET
    filterset_class = ItemFilterSet
    table_class = ItemTable
    create_url_name = "activities:item_create"
    create_permission = "tasks.change"
    exchange_kind = "tasks"
    export_basename = "tasks"
    title = gettext_lazy("Responsibility list")
    template_name = "activities/item_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_copy"] = has_permission(self.request.user, "tasks.change")
        return context


class ReviewView(ItemListView):
    """The branch secretary's review page: pending approvals and red items first, then the whole list."""

    permission = "tasks.approve"
    template_name = "activities/review.html"
    create_url_name = None
    title = gettext_lazy("Review responsibility lists")

    def get_queryset(self):
        items = services.reviewable_items(self.request.user, ITEM_QUERYSET.all())
        return selectors.review_priority(items)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            pending=selectors.pending_approvals(user),
            red=selectors.items_with_colour_filter(services.reviewable_items(user, ITEM_QUERYSET.all()), "red")
            .order_by("deadline", "id")[:50],
            decision_form=DecisionForm(),
            whole_list_heading=self.whole_list_heading(user),
        )
        return context

    @staticmethod
    def whole_list_heading(user) -> str:
        """The heading names the account's reach: the company (every record, or a scope at the top of
        the tree), or its scope unit."""
        if scope_q(ResponsibilityItem, user, "tasks.approve") is None or (
                user.scope_org_id and user.scope_org.parent_id is None):
            return _("The whole list of the company")
        if user.scope_org_id:
            return _("The whole list of %(unit)s") % {"unit": user.scope_org.name}
        return _("The whole list")


class ItemDetailView(ObjectDetailView):
    permission = "tasks.view"
    queryset = ITEM_QUERYSET.select_related("supervising_unit")
    template_name = "activities/item_detail.html"
    history_related = ("activities.ItemEvent", "activities.ResponsibilityItem_cooperating_units")

    def get_object(self, queryset=None):
        # Supervisors reach the items they supervise as well.
        items = ResponsibilityItem.objects.filter(pk=self.kwargs["pk"])
        obj = visible(self.get_queryset(), self.request.user, self.permission).filter(pk=self.kwargs["pk"]).first()
        if obj is None and services.reviewable_items(self.request.user, items).exists():
            obj = self.get_queryset().get(pk=self.kwargs["pk"])
        if obj is None:
            raise Http404
        return obj

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        item = self.object
        context.update(
            **selectors.item_page(self.request.user, item),
            progress_form=ProgressForm(initial={"progress": item.progress}),
            decision_form=DecisionForm(),
        )
        return context


class ItemEditView(ObjectEditView):
    permission = "tasks.change"
    queryset = ITEM_QUERYSET
    form_class = ResponsibilityItemForm

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("parent", "").isdigit():
            initial["parent"] = self.request.GET["parent"]
        return initial

    def save_form(self, form):
        item = form.save()
        services.rollup_ancestors(item)
        return item


class ItemDeleteView(ObjectDeleteView):
    permission = "tasks.change"
    queryset = ResponsibilityItem.objects.all()
    success_url = reverse_lazy("activities:item_list")


class ItemActionMixin(PermissionRequiredMixin):
    permission = "tasks.view"

    def get_item(self, pk):
        items = ResponsibilityItem.objects.filter(pk=pk)
        item = visible(items, self.request.user, "tasks.view").first() or services.reviewable_items(self.request.user, items).first()
        if item is None:
            raise Http404
        return item


class ItemProgressView(ItemActionMixin, View):
    def post(self, request, pk):
        item = self.get_item(pk)
        form = ProgressForm(request.POST, request.FILES)
        if not form.is_valid():
            return detail_with_forms(ItemDetailView, request, item, progress_form=form)
        submit = request.POST.get("submit_completion") == "1"
        try:
            services.item_report(item=item, by=request.user, submit=submit, **form.cleaned_data)
        except ValidationError as error:
            _add_validation_error(form, error)
            return detail_with_forms(ItemDetailView, request, item, progress_form=form)
        messages.success(request, _("The completion was submitted for approval.") if submit else _("The progress was recorded."))
        return redirect(item)


class ItemDecideView(ItemActionMixin, View):
    permission = "tasks.approve"

    def post(self, request, pk):
        item = self.get_item(pk)
        form = DecisionForm(request.POST)
        approve = request.POST.get("decision") == "approve"
        if not form.is_valid():
            return detail_with_forms(ItemDetailView, request, item, decision_form=form)
        else:
            try:
                services.item_decide(item=item, by=request.user, approve=approve, comment=form.cleaned_data["comment"])
            except ValidationError as error:
                _add_validation_error(form, error)
                return detail_with_forms(ItemDetailView, request, item, decision_form=form)
            else:
                messages.success(request, _("The completion was approved.") if approve else _("The completion was returned."))
        return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/activities/") else item)


class EvidenceView(ItemActionMixin, View):
    def get(self, request, pk):
        event = ItemEvent.objects.filter(pk=pk).exclude(evidence="").first()
        if event is None:
            raise Http404
        self.get_item(event.item_id)
        return file_response(event.evidence, event.evidence_name)


class CopyYearView(PermissionRequiredMixin, View):
    permission = "tasks.change"
    template_name = "activities/copy_year.html"

    def get(self, request):
        year = timezone.localdate().year
        return render(request, self.template_name, {"form": CopyYearForm(user=request.user, initial={
            "source_year": year - 1, "target_year": year})})

    def post(self, request):
        form = CopyYearForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                created = services.items_copy_year(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("%(n)d items were copied.") % {"n": created})
                return redirect(f"{reverse('activities:item_list')}?year={form.cleaned_data['target_year']}")
        return render(request, self.template_name, {"form": form})


class ItemAutocomplete(AutocompleteView):
    permission = "tasks.change"
    model = ResponsibilityItem
    search_fields = ("title__icontains", "ref__istartswith")

    def label(self, obj):
        return f"{obj.ref} {obj.title}"


class SupervisorAutocomplete(AutocompleteView):
    """The units that may supervise an item, wherever they are in the tree (the org tree's names are
    not confidential; the item form accepts exactly these)."""

    permission = "tasks.change"
    scoped = False
    search_fields = ("name__icontains", "code__istartswith")

    def get_queryset(self):
        return OrgUnit.objects.filter(kind__in=workflow.SUPERVISING_KINDS).select_related("parent").order_by("depth", "path")

    def label(self, u):
        return f"{u.name}（{u.parent.name}）" if u.parent_id else u.name


# --- Projects -----------------------------------------------------------------------------------
class ProjectListView(ObjectListView):
    permission = "projects.view"
    queryset = Project.objects.select_related("org_unit", "leader")
    filterset_class = ProjectFilterSet
    table_class = ProjectTable
    create_url_name = "activities:project_create"
    create_permission = "projects.change"
    export_basename = "projects"
    title = gettext_lazy("Activity projects")


class ProjectDetailView(ObjectDetailView):
    permission = "projects.view"
    queryset = Project.objects.select_related("org_unit", "leader")
    template_name = "activities/project_detail.html"
    history_related = ("activities.Milestone", "activities.Expense", "activities.Risk", "activities.ProjectApproval",
                       "activities.Project_team")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project = self.object
        page = selectors.project_page(self.request.user, project)
        context.update(
            **page,
            milestone_form=MilestoneForm(), expense_form=ExpenseForm(), risk_form=RiskForm(),
            evaluation_form=EvaluationForm(instance=project, overrun=page["spent"] > project.budget),
        )
        return context


class ProjectEditView(ObjectEditView):
    permission = "projects.change"
    queryset = Project.objects.select_related("org_unit", "leader")
    form_class = ProjectForm

    def save_form(self, form):
        project = form.save(commit=False)
        if not project.pk:
            project.created_by = self.request.user
        project.save()
        form.save_m2m()
        return project


class ProjectPartView(PermissionRequiredMixin, View):
    """Adds milestones, expenses and risks, updates milestone progress, closes risks and records the
    closing evaluation; `part` names which."""

    permission = "projects.change"
    forms = {"milestone": MilestoneForm, "expense": ExpenseForm, "risk": RiskForm}

    # Each part posted here and the method that takes it; a method returns a page, or None to go
    # back to the project.
    parts = {"milestone": "add", "expense": "add", "risk": "add", "milestone-progress": "milestone_progress",
             "milestone-reason": "milestone_reason", "risk-close": "risk_close", "risk-accept": "risk_accept",
             "evaluation": "evaluation"}

    def post(self, request, pk, part):
        project = get_visible_or_404(Project.objects.all(), request.user, self.permission, pk=pk)
        if project.stage == ProjectStage.CLOSED:
            messages.error(request, _("The project is closed."))
            return redirect(project)
        if part not in self.parts:
            raise Http404
        return getattr(self, self.parts[part])(request, project, part) or redirect(project)

    def add(self, request, project, part):
        form = self.forms[part](request.POST)
        if not form.is_valid():
            return detail_with_forms(ProjectDetailView, request, project, **{f"{part}_form": form})
        services.project_add(project=project, record=form.save(commit=False), by=request.user)
        messages.success(request, _("Saved."))

    def milestone_progress(self, request, project, part):
        form = MilestoneProgressForm(request.POST, project=project)
        if form.is_valid():
            services.milestone_progress(milestone=form.cleaned_data["milestone"], progress=form.cleaned_data["progress"])
            messages.success(request, _("Saved."))
        elif "milestone" in form.errors:  # a hidden field: no person typed it
            raise BadRequest(form.errors["milestone"][0])
        else:
            return detail_with_forms(ProjectDetailView, request, project, milestone_progress_form=form,
                                     milestone_progress_id=form.cleaned_data["milestone"].pk)

    def milestone_reason(self, request, project, part):
        # Closing: why an unfinished milestone stays unfinished.
        milestone = get_object_or_404(project.milestones, pk=posted_id(request, "milestone"))
        services.milestone_unfinished_reason(milestone=milestone, reason=posted_text(request, "reason"))
        messages.success(request, _("Saved."))

    def risk_close(self, request, project, part):
        services.project_risk_close(project=project, risk_id=posted_id(request, "risk"))

    def risk_accept(self, request, project, part):
        risk = get_object_or_404(project.risks, pk=posted_id(request, "risk"), is_open=True)
        reason = posted_text(request, "reason")
        if not reason:
            messages.error(request, _("Give the reason the risk is accepted."))
            return None
        services.project_risk_accept(risk=risk, reason=reason)
        messages.success(request, _("Saved."))

    def evaluation(self, request, project, part):
        if project.stage != ProjectStage.EVALUATION:
            messages.error(request, _("The closing evaluation is recorded in the closing evaluation stage."))
            return None
        form = EvaluationForm(request.POST, instance=project, overrun=services.project_spent(project) > project.budget)
        if not form.is_valid():
            return detail_with_forms(ProjectDetailView, request, project, evaluation_form=form)
        form.save()
        messages.success(request, _("Saved."))


# What the page says after each project step.
PROJECT_ACTION_DONE = {"submit": gettext_lazy("Submitted for approval."), "approve": gettext_lazy("Approved."),
                       "return": gettext_lazy("Returned.")}


class ProjectActionView(PermissionRequiredMixin, View):
    permission = "projects.view"

    def get_project(self, pk, action):
        """The project in reach of the permission the step needs: 404 for an unknown step or a
        project out of scope, 403 without the permission."""
        permission = workflow.PROJECT_ACTION_PERMISSION.get(action)
        if permission is None:
            raise Http404
        if not has_permission(self.request.user, permission):
            raise PermissionDenied
        return get_visible_or_404(Project.objects.all(), self.request.user, permission, pk=pk)

    def post(self, request, pk, action):
        project = self.get_project(pk, action)
        try:
            services.project_act(project=project, by=request.user, action=action, comment=posted_text(request, "comment"))
            messages.success(request, PROJECT_ACTION_DONE[action])
        except ValidationError as error:
            _validation_to_messages(request, error)
        except PermissionDenied as error:
            if not error.args:
                raise
            messages.error(request, str(error))  # e.g. one's own submission: say why, change nothing
        return redirect(project)


class MilestoneDeleteView(PermissionRequiredMixin, View):
    permission = "projects.change"

    def post(self, request, pk):
        milestone = Milestone.objects.filter(pk=pk).first()
        if milestone is None:
            raise Http404
        project = get_visible_or_404(Project.objects.all(), request.user, self.permission, pk=milestone.project_id)
        services.milestone_delete(milestone=milestone)
        return redirect(project)

