"""Thin views for transfers, mobile members and terms: each names its permission; reads go through
the scope layer, writes through services."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from portal.generic import (
    ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, PermissionRequiredMixin, detail_with_forms,
)
from portal.roles import has_permission
from portal.scope import get_visible_or_404, visible

from ..models import OrgUnit
from . import selectors, services, workflow
from .choices import TransferStatus
from .filtersets import BranchTermFilterSet, MobileMemberFilterSet, TransferFilterSet
from .forms import ElectionForm, MobileMemberForm, StepForm, TransferForm
from .models import BranchTerm, MobileMember, Transfer, TransferLetter
from .tables import BranchTermTable, MobileMemberTable, TransferTable


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        for message in error.messages:
            form.add_error(None, message)


# --- Transfers ---------------------------------------------------------------------------------
class TransferListView(ObjectListView):
    permission = "transfers.view"
    queryset = Transfer.objects.select_related("person", "from_unit", "to_unit")
    filterset_class = TransferFilterSet
    table_class = TransferTable
    create_url_name = "members:transfer_create"
    create_permission = "transfers.change"
    exchange_kind = "transfers"
    export_basename = "transfers"
    title = gettext_lazy("Membership transfers")


class PendingTransferListView(TransferListView):
    title = gettext_lazy("Pending transfers")

    def get_queryset(self):
        return super().get_queryset().filter(selectors.open_transfer_q())


class TransferCreateView(PermissionRequiredMixin, View):
    permission = "transfers.change"
    template_name = "members/transfer_form.html"

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"form": form, "title": _("New membership transfer")}, status=status)

    def get(self, request):
        initial = {"requested_on": timezone.localdate(), "kind": request.GET.get("kind", "within")}
        person = request.GET.get("person", "")
        if person.isascii() and person.isdigit():
            initial["person"] = int(person)
        if request.user.scope_org_id:
            initial["from_unit"] = request.user.scope_org_id
        return self._render(request, TransferForm(user=request.user, initial=initial))

    def post(self, request):
        form = TransferForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                transfer = services.transfer_create(
                    by=request.user, person=data["person"], kind=data["kind"], from_unit=data["from_unit"],
                    to_unit=data["to_unit"], external_org=data["external_org"], reason=data["reason"],
                    requested_on=data["requested_on"], report_by=data["report_by"],
                    submit=request.POST.get("submit") == "1",
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(transfer)
        return self._render(request, form)


class TransferEditView(PermissionRequiredMixin, View):
    """Change a draft (services.transfer_update says when)."""

    permission = "transfers.change"
    template_name = "members/transfer_form.html"

    def _render(self, request, form, transfer):
        return render(request, self.template_name, {"form": form, "object": transfer,
                                                    "title": _("Edit %(thing)s") % {"thing": transfer}})

    def get(self, request, pk):
        transfer = get_visible_or_404(Transfer.objects.all(), request.user, self.permission, pk=pk)
        return self._render(request, TransferForm(user=request.user, instance=transfer), transfer)

    def post(self, request, pk):
        transfer = get_visible_or_404(Transfer.objects.all(), request.user, self.permission, pk=pk)
        form = TransferForm(request.POST, user=request.user, instance=Transfer.objects.get(pk=pk))
        if form.is_valid():
            try:
                services.transfer_update(transfer=transfer, by=request.user, **{
                    name: form.cleaned_data[name] for name in TransferForm.Meta.fields})
                if request.POST.get("submit") == "1":
                    services.transfer_act(transfer=transfer, by=request.user, action=workflow.Action.SUBMIT)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(transfer)
        return self._render(request, form, transfer)


class TransferDetailView(ObjectDetailView):
    permission = "transfers.view"
    queryset = Transfer.objects.select_related(
        "person", "person__org_unit", "from_unit", "to_unit", "created_by", "submitted_by", "branch_approved_by",
        "committee_approved_by")
    template_name = "members/transfer_detail.html"
    history_related = ("members.TransferStep", "members.TransferLetter")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        transfer, user = self.object, self.request.user
        facts = services.transfer_facts(user, transfer)
        actions = workflow.allowed_actions(transfer.status, facts)
        waiting_for_other = (
            facts.own_work and any(workflow.is_approval(transfer.status, a) for a in workflow.Action.values)
            and (facts.branch_reach or facts.committee_reach)
        )
        context.update(
            actions=[(a, workflow.Action(a).label) for a in actions],
            step_form=context.get("step_form") or StepForm(),
            steps=[(s, workflow.STEP_LABELS.get(s.action, s.action)) for s in transfer.steps.select_related("by")],
            letters=list(transfer.letters.all()),
            separation_note=waiting_for_other,
            can_edit=transfer.status == TransferStatus.DRAFT and facts.may_change,
        )
        return context


class TransferActView(PermissionRequiredMixin, View):
    permission = "transfers.view"

    def post(self, request, pk):
        transfer = get_visible_or_404(Transfer.objects.all(), request.user, self.permission, pk=pk)
        form = StepForm(request.POST)
        action = request.POST.get("action", "")
        if form.is_valid():
            try:
                services.transfer_act(transfer=transfer, by=request.user, action=action, comment=form.cleaned_data["comment"])
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Done: %(action)s.") % {"action": workflow.Action(action).label})
                return redirect(transfer)
        return detail_with_forms(TransferDetailView, request, transfer, step_form=form, status=400)


class TransferLetterView(PermissionRequiredMixin, View):
    """The issued 介绍信 / 回执, printed from the facts stored at issue."""

    permission = "transfers.view"

    def get(self, request, pk):
        letter = get_visible_or_404(TransferLetter.objects.select_related("transfer"), request.user, self.permission, pk=pk)
        return render(request, "members/transfer_letter.html", {"letter": letter, "facts": letter.facts})


class PartyUnitAutocomplete(PermissionRequiredMixin, View):
    """The branches a member may be transferred to: every party organisation of the enterprise (the
    receiving branch lies outside the sending branch's scope). Names only; nothing of the unit's
    records is shown."""

    permission = "transfers.change"
    limit = 20

    def get(self, request):
        term = request.GET.get("q", "").strip()[:100]
        units = OrgUnit.objects.filter(kind__in=services.PARTY_UNIT_KINDS, is_active=True).select_related("parent")
        if term:
            units = units.filter(Q(name__icontains=term) | Q(code__istartswith=term))
        results = [{"value": u.pk, "text": f"{u.name}（{u.parent.name}）" if u.parent_id else u.name}
                   for u in units.order_by("depth", "path")[: self.limit]]
        return JsonResponse({"results": results})


# --- Mobile members ----------------------------------------------------------------------------
class MobileMemberListView(ObjectListView):
    permission = "mobile.view"
    queryset = MobileMember.objects.select_related("person", "person__org_unit")
    filterset_class = MobileMemberFilterSet
    table_class = MobileMemberTable
    create_url_name = "members:mobile_create"
    create_permission = "mobile.change"
    exchange_kind = "mobile_members"
    export_basename = "mobile-members"
    title = gettext_lazy("Mobile members")


class MobileMemberEditView(ObjectEditView):
    permission = "mobile.change"
    queryset = MobileMember.objects.select_related("person")
    form_class = MobileMemberForm
    success_url = reverse_lazy("members:mobile_list")

    def get_success_url(self):
        return reverse("members:mobile_list")


class MobileMemberDeleteView(ObjectDeleteView):
    permission = "mobile.change"
    queryset = MobileMember.objects.all()
    success_url = reverse_lazy("members:mobile_list")


# --- Branch terms ------------------------------------------------------------------------------
class BranchTermListView(ObjectListView):
    permission = "terms.view"
    queryset = BranchTerm.objects.select_related("unit")
    filterset_class = BranchTermFilterSet
    table_class = BranchTermTable
    create_url_name = "members:term_create"
    create_permission = "terms.change"
    exchange_kind = "branch_terms"
    export_basename = "branch-terms"
    title = gettext_lazy("Branch terms")


class OverdueTermListView(BranchTermListView):
    """For the committee: terms whose end has passed without a recorded election."""

    title = gettext_lazy("Terms overdue for election")

    def get_queryset(self):
        return super().get_queryset().filter(selectors.overdue_term_q(timezone.localdate()))


class BranchTermDetailView(ObjectDetailView):
    permission = "terms.view"
    queryset = BranchTerm.objects.select_related("unit", "recorded_by")
    template_name = "members/term_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        term, today = self.object, timezone.localdate()
        context.update(
            overdue=workflow.is_overdue(today, term.ends_on, term.closed_on),
            earlier=list(visible(BranchTerm.objects.filter(unit=term.unit).exclude(pk=term.pk), self.request.user,
                                 self.permission).order_by("-elected_on")[:20]),
            can_record=has_permission(self.request.user, "terms.change"),
        )
        return context


class ElectionCreateView(PermissionRequiredMixin, View):
    permission = "terms.change"
    template_name = "portal/object_form.html"

    def _render(self, request, form):
        return render(request, self.template_name, {"form": form, "title": _("Record an election")})

    def get(self, request):
        initial = {"elected_on": timezone.localdate()}
        unit = request.GET.get("unit", "")
        if unit.isdigit():
            initial["unit"] = int(unit)
        elif request.user.scope_org_id:
            initial["unit"] = request.user.scope_org_id
        return self._render(request, ElectionForm(user=request.user, initial=initial))

    def post(self, request):
        form = ElectionForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                term = services.term_record_election(
                    unit=data["unit"], elected_on=data["elected_on"], term_years=data["term_years"],
                    members=data["members"], by=request.user)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(term)
        return self._render(request, form)


