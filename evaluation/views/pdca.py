"""PDCA improvement actions: a board by status, the action page and its steps."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.forms import posted_text
from portal.generic import ObjectDetailView, ObjectEditView, PermissionRequiredMixin, detail_with_forms
from portal.roles import has_permission
from portal.scope import get_visible_or_404, subtree_q, visible

from .. import selectors, services
from ..choices import ActionStatus
from ..forms import ActionProgressForm, ImprovementActionForm, improvement_action_initial
from ..models import ImprovementAction
from ..workflow import action_transitions_from
from .common import unit_from

VIEW = "pdca.view"


class ActionBoardView(PermissionRequiredMixin, TemplateView):
    """Columns plan / do / check / act / closed (closed: the latest only)."""

    permission = VIEW
    template_name = "evaluation/action_board.html"
    per_column = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, mine = self.request.user, self.request.GET.get("mine") == "1"
        unit = unit_from(self.request, VIEW) if self.request.GET.get("unit") else None
        columns = selectors.action_board(user, VIEW, unit=unit, mine=mine, per_column=self.per_column)
        context.update(title=_("Improvement actions (PDCA)"), columns=columns, today=timezone.localdate(), unit=unit,
                       can_create=has_permission(user, "pdca.manage"), mine=mine)
        return context


class ActionEditView(ObjectEditView):
    permission = "pdca.manage"
    queryset = ImprovementAction.objects.select_related("org_unit", "owner", "kpi", "campaign")
    form_class = ImprovementActionForm

    def get_initial(self):
        initial = super().get_initial()
        if self.object is None:
            initial.update(improvement_action_initial(self.request.GET, self.request.user))
        return initial

    def save_form(self, form):
        if not form.instance.pk:
            form.instance.created_by = self.request.user
        return form.save()

    def get_success_url(self):
        return self.object.get_absolute_url()


class ActionDetailView(ObjectDetailView):
    permission = VIEW
    queryset = ImprovementAction.objects.select_related("org_unit", "owner", "kpi", "campaign", "verified_by",
                                                        "created_by")
    template_name = "evaluation/action_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        action, user = self.object, self.request.user
        steps = [t for t in action_transitions_from(action.status)
                 if visible(ImprovementAction.objects.filter(pk=action.pk), user, t.permission).exists()]
        can_progress = action.status in (ActionStatus.PLAN, ActionStatus.DO) and visible(
            ImprovementAction.objects.filter(pk=action.pk), user, "pdca.progress").exists()
        context.update(
            title=action.title,
            steps=steps, needs_verification=any(t.action in ("verify", "reject") for t in steps),
            progress_form=ActionProgressForm(instance=action) if can_progress else None,
            can_edit=has_permission(user, "pdca.manage"),
            overdue=action.deadline and action.deadline < timezone.localdate() and action.status != ActionStatus.CLOSED,
        )
        return context


class ActionStepView(PermissionRequiredMixin, View):
    permission = VIEW

    def post(self, request, pk):
        action = get_visible_or_404(ImprovementAction.objects.all(), request.user, VIEW, pk=pk)
        try:
            services.action_step(action=action, step=request.POST.get("step", ""), by=request.user,
                                 verification=posted_text(request, "verification", limit=None))
            messages.success(request, _("Saved."))
        except services.ServiceError as error:
            messages.error(request, str(error))
        return redirect(action)


class ActionProgressView(PermissionRequiredMixin, View):
    """The owner updates root cause, measure and deadline while planning and doing."""

    permission = "pdca.progress"

    def post(self, request, pk):
        action = get_visible_or_404(ImprovementAction.objects.all(), request.user, self.permission, pk=pk)
        if action.status not in (ActionStatus.PLAN, ActionStatus.DO):
            messages.error(request, _("This action is past doing; it can no longer be changed here."))
            return redirect(action)
        form = ActionProgressForm(request.POST, instance=action)
        if not form.is_valid():
            return detail_with_forms(ActionDetailView, request, action, progress_form=form)
        form.save()
        messages.success(request, _("Saved."))
        return redirect(action)
