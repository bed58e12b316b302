"""Evaluation campaigns (考核评价), democratic appraisal (民主评议党员) and the raters' own pages."""
from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.autocomplete import AutocompleteView
from portal.export import xlsx_response
from portal.forms import posted_id
from portal.generic import (
    ObjectDetailView, ObjectEditView, ObjectListView, PermissionRequiredMixin, detail_with_forms,
)
from portal.models import User
from portal.numbers import plain
from portal.scope import get_visible_or_404

from .. import selectors, services
from ..choices import AppraisalGrade, CampaignStatus
from ..filtersets import AppraisalFilterSet, CampaignFilterSet
from ..forms import (
    AppraisalRoundForm, BallotForm, CampaignForm, GradeForm, IndicatorForm, RaterGroupForm, RatersForm,
    ScoreSheetForm,
)
from ..models import AppraisalResult, AppraisalRound, AppraisalVoter, Campaign, RaterAssignment
from ..tables import AppraisalTable, CampaignTable
from ..workflow import APPRAISAL_ACTION_LABELS, campaign_actions_from

MANAGE = "campaigns.manage"
RATE = "campaigns.rate"


class AccountAutocomplete(AutocompleteView):
    """Accounts in the manager's scope, to choose raters and voters."""

    permission = MANAGE
    model = User
    search_fields = ("username__istartswith", "person__name__istartswith", "person__employee_no__istartswith")

    def get_queryset(self):
        return User.objects.filter(is_active=True).select_related("person", "scope_org").order_by("username")

    def label(self, obj):
        unit = obj.scope_org.name if obj.scope_org_id else ""
        return f"{obj.display_name}（{obj.username}{'，' + unit if unit else ''}）"


# --- Campaigns -------------------------------------------------------------------------------------------
class CampaignListView(ObjectListView):
    permission = MANAGE
    queryset = Campaign.objects.select_related("org_unit")
    filterset_class = CampaignFilterSet
    table_class = CampaignTable
    create_url_name = "evaluation:campaign_create"
    export_basename = "campaigns"


class CampaignEditView(ObjectEditView):
    permission = MANAGE
    queryset = Campaign.objects.select_related("org_unit")
    form_class = CampaignForm

    def save_form(self, form):
        if not form.instance.pk:
            form.instance.created_by = self.request.user
        return form.save()

    def get_success_url(self):
        return self.object.get_absolute_url()


class CampaignDetailView(ObjectDetailView):
    permission = MANAGE
    queryset = Campaign.objects.select_related("org_unit", "created_by")
    template_name = "evaluation/campaign_detail.html"
    history_related = ("evaluation.Indicator", "evaluation.RaterGroup", "evaluation.Campaign_subjects")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        context.update(
            **selectors.campaign_page(self.request.user, campaign),
            indicator_form=IndicatorForm(), group_form=RaterGroupForm(campaign=campaign),
            raters_form=RatersForm(user=self.request.user),
        )
        return context


class CampaignPartView(PermissionRequiredMixin, View):
    """POST: indicators, rater groups, raters and status steps of a campaign."""

    permission = MANAGE

    def post(self, request, pk, part):
        campaign = get_visible_or_404(Campaign.objects.all(), request.user, MANAGE, pk=pk)
        handler = getattr(self, f"do_{part}", None)
        if handler is None:
            raise Http404
        try:
            with transaction.atomic():
                response = handler(request, campaign)
        except services.ServiceError as error:
            messages.error(request, str(error))
            response = None
        return response or redirect(campaign)

    def do_indicator(self, request, campaign):
        services.campaign_check_draft(campaign)
        form = IndicatorForm(request.POST)
        if form.is_valid():
            form.instance.campaign = campaign
            form.save()
            messages.success(request, _("The indicator was added."))
        else:
            return detail_with_forms(CampaignDetailView, request, campaign, indicator_form=form)

    def do_delete_indicator(self, request, campaign):
        services.campaign_remove_indicator(campaign=campaign, indicator_id=posted_id(request))

    def do_group(self, request, campaign):
        services.campaign_check_draft(campaign)
        form = RaterGroupForm(request.POST, campaign=campaign)
        if form.is_valid():
            form.instance.campaign = campaign
            form.save()
            messages.success(request, _("The rater group was added."))
        else:
            return detail_with_forms(CampaignDetailView, request, campaign, group_form=form)

    def do_delete_group(self, request, campaign):
        services.campaign_remove_group(campaign=campaign, group_id=posted_id(request))

    def do_raters(self, request, campaign):
        group = campaign.groups.filter(pk=posted_id(request, "group")).first()
        if group is None:
            raise services.ServiceError(_("Choose a rater group."))
        form = RatersForm(request.POST, user=request.user)
        if form.is_valid():
            services.campaign_add_raters(campaign=campaign, group=group, users=form.cleaned_data["raters"])
            messages.success(request, _("The raters were added."))
        else:
            return detail_with_forms(CampaignDetailView, request, campaign, status=400, raters_form=form,
                                     raters_group=group.pk)

    def do_remove_rater(self, request, campaign):
        services.campaign_remove_rater(campaign=campaign, assignment_id=posted_id(request))

    def do_step(self, request, campaign):
        services.campaign_transition(campaign=campaign, action=request.POST.get("action", ""), by=request.user,
                                     accept_incomplete=request.POST.get("accept_incomplete") == "1")
        messages.success(request, _("Saved."))


class CampaignExportView(PermissionRequiredMixin, View):
    permission = MANAGE

    def get(self, request, pk):
        campaign = get_visible_or_404(Campaign.objects.all(), request.user, MANAGE, pk=pk)
        results = selectors.campaign_results(campaign)
        header = [_("rank"), _("unit"), _("code")] + [f"{g}（{plain(g.weight)}%）" for g in results["groups"]] \
            + [_("weighted score"), _("sheets"), _("complete"), _("cannot be rated by")] \
            + [i.name for i in results["indicators"]]
        rows = [
            [r.get("rank", ""), r["subject"].name, r["subject"].code, *[v if v is not None else "" for v in r["groups"]],
             r["total"] if r["total"] is not None else "", r["sheets"], _("yes") if r["complete"] else _("no"),
             "、".join(str(g) for g in r["cannot_rate"]),
             *[v if v is not None else "" for v in r["indicators"]]]
            for r in results["rows"]
        ]
        return xlsx_response(f"{campaign.name}-结果.xlsx", header, rows)


# --- Raters ------------------------------------------------------------------------------------------------
class RateListView(PermissionRequiredMixin, TemplateView):
    """The account's own scoring forms and ballots still to fill in."""

    permission = RATE
    template_name = "evaluation/rate_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        assignments = (
            RaterAssignment.objects.filter(rater=user, group__campaign__status=CampaignStatus.OPEN)
            .select_related("group", "group__campaign", "rater__person__org_unit", "rater__scope_org")
        )
        pending = []
        for assignment in assignments:
            for subject in services.subjects_for(assignment):
                pending.append((assignment, subject, subject.pk in assignment.done_subjects))
        ballots = AppraisalVoter.objects.filter(voter=user, round__status=CampaignStatus.OPEN).select_related("round")
        context.update(title=_("My ratings"), pending=pending, ballots=list(ballots))
        return context


class RateView(PermissionRequiredMixin, TemplateView):
    permission = RATE
    template_name = "evaluation/rate_form.html"

    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def load(self):
        user = self.request.user
        assignment = get_visible_or_404(
            RaterAssignment.objects.filter(rater=user).select_related("group", "group__campaign", "rater__person__org_unit",
                                                                      "rater__scope_org"),
            user, RATE, pk=self.kwargs["pk"],
        )
        subject = next((s for s in services.subjects_for(assignment) if s.pk == self.kwargs["subject"]), None)
        if subject is None:
            raise Http404
        return assignment, subject

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        assignment, subject = self.load()
        campaign = assignment.group.campaign
        context.update(
            title=_("Rate %(unit)s") % {"unit": subject.name}, assignment=assignment, subject=subject, campaign=campaign,
            form=form or ScoreSheetForm(indicators=campaign.indicators.all()),
            done=subject.pk in assignment.done_subjects, is_open=campaign.status == CampaignStatus.OPEN,
        )
        return context

    def post(self, request, *args, **kwargs):
        assignment, subject = self.load()
        form = ScoreSheetForm(request.POST, indicators=assignment.group.campaign.indicators.all())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            services.submit_scores(assignment=assignment, subject=subject, scores=form.scores(),
                                   comment=form.cleaned_data["comment"])
        except services.ServiceError as error:
            form.add_error(None, str(error))
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, _("Thank you: your scores for %(unit)s are in.") % {"unit": subject.name})
        return redirect("evaluation:rate_list")


# --- Democratic appraisal ---------------------------------------------------------------------------------
class AppraisalListView(ObjectListView):
    permission = MANAGE
    queryset = AppraisalRound.objects.select_related("org_unit")
    filterset_class = AppraisalFilterSet
    table_class = AppraisalTable
    create_url_name = "evaluation:appraisal_create"
    export_basename = "appraisals"


class AppraisalEditView(ObjectEditView):
    permission = MANAGE
    queryset = AppraisalRound.objects.select_related("org_unit")
    form_class = AppraisalRoundForm

    def save_form(self, form):
        if not form.instance.pk:
            form.instance.created_by = self.request.user
        return form.save()

    def get_success_url(self):
        return self.object.get_absolute_url()


class AppraisalDetailView(ObjectDetailView):
    permission = MANAGE
    queryset = AppraisalRound.objects.select_related("org_unit")
    template_name = "evaluation/appraisal_detail.html"
    history_related = ("evaluation.AppraisalVoter", "evaluation.AppraisalVote")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        round = self.object
        voters = list(round.voters.select_related("voter", "voter__person"))
        context.update(
            title=round.name,
            tally=selectors.appraisal_tally(round), grades=AppraisalGrade.choices, voters=voters,
            voted=sum(1 for v in voters if v.voted_on), raters_form=RatersForm(user=self.request.user),
            actions=[(a, APPRAISAL_ACTION_LABELS[a]) for a in campaign_actions_from(round.status)],
            grade_form=GradeForm(),
        )
        return context


class AppraisalPartView(PermissionRequiredMixin, View):
    permission = MANAGE

    # Each part posted here and the method that takes it (inside one transaction); a method returns
    # a page, or None to go back to the round.
    parts = {"voters": "voters", "member_voters": "member_voters", "step": "step", "grade": "grade"}

    def post(self, request, pk, part):
        round = get_visible_or_404(AppraisalRound.objects.all(), request.user, MANAGE, pk=pk)
        if part not in self.parts:
            raise Http404
        try:
            with transaction.atomic():
                response = getattr(self, self.parts[part])(request, round)
        except services.ServiceError as error:
            messages.error(request, str(error))
            response = None
        return response or redirect(round)

    def voters(self, request, round):
        form = RatersForm(request.POST, user=request.user)
        if not form.is_valid():
            return detail_with_forms(AppraisalDetailView, request, round, status=400, raters_form=form)
        services.add_voters(round, form.cleaned_data["raters"])

    def member_voters(self, request, round):
        added = services.add_member_voters(round)
        messages.success(request, _("%(n)d voters were added.") % {"n": added})

    def step(self, request, round):
        services.appraisal_transition(round=round, action=request.POST.get("action", ""), by=request.user)

    def grade(self, request, round):
        result = get_visible_or_404(AppraisalResult.objects.filter(round=round), request.user, MANAGE, pk=posted_id(request))
        form = GradeForm(request.POST)
        if not form.is_valid():
            # Only the row that was sent shows the errors and what was typed.
            return detail_with_forms(AppraisalDetailView, request, round, status=400, grade_form=form, grade_result_id=result.pk)
        services.decide_grade(result=result, grade=form.cleaned_data["final_grade"], note=form.cleaned_data["note"], by=request.user)


class AppraisalExportView(PermissionRequiredMixin, View):
    permission = MANAGE

    def get(self, request, pk):
        round = get_visible_or_404(AppraisalRound.objects.all(), request.user, MANAGE, pk=pk)
        labels = dict(AppraisalGrade.choices)
        header = [_("employee number"), _("name"), _("org unit"), *[str(label) for _, label in AppraisalGrade.choices],
                  _("votes"), _("most votes"), _("grade decided"), _("note")]
        rows = [
            [r["result"].person.employee_no, r["result"].person.name, r["result"].person.org_unit.name, *r["votes"],
             r["total"], str(labels.get(r["suggested"], "")), str(labels.get(r["result"].final_grade, "")),
             r["result"].note]
            for r in selectors.appraisal_tally(round)
        ]
        return xlsx_response(f"{round.name}.xlsx", header, rows)


class BallotView(PermissionRequiredMixin, TemplateView):
    permission = RATE
    template_name = "evaluation/ballot.html"

    def load(self):
        user = self.request.user
        voter = get_visible_or_404(AppraisalVoter.objects.filter(voter=user).select_related("round", "voter"),
                                   user, RATE, pk=self.kwargs["pk"])
        people = [r.person for r in voter.round.results.select_related("person", "person__org_unit")
                  .exclude(person_id=user.person_id or 0)]
        return voter, people

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        voter, people = self.load()
        context.update(title=voter.round.name, voter=voter, round=voter.round,
                       form=form or BallotForm(people=people),
                       is_open=voter.round.status == CampaignStatus.OPEN)
        return context

    def post(self, request, *args, **kwargs):
        voter, people = self.load()
        form = BallotForm(request.POST, people=people)
        if not form.is_valid():
            messages.error(request, _("Give every member a grade."))
            return self.render_to_response(self.get_context_data(form=form))
        try:
            services.cast_ballot(voter=voter, grades=form.grades())
        except services.ServiceError as error:
            form.add_error(None, str(error))
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, _("Your ballot is in. Thank you."))
        return redirect("evaluation:rate_list")


