"""The KPI catalogue, targets, manual values and snapshots; evaluation campaigns and democratic
appraisal; PDCA improvement actions; monthly diagnostic reports."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.cached_urls import id_url
from portal.history_links import track_links
from portal.scope import ScopeSpec
from portal.uploads import upload_path

from .choices import (
    ActionSource, ActionStatus, AppraisalGrade, CampaignStatus, Direction, KpiKind, RaterGroupKind, ReportStatus,
    RunTrigger, ValueFormat,
)

PERIOD_MAX_LENGTH = 7  # "2026-03", "2026-Q1", "2026"


# --- Catalogue -----------------------------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class KpiDefinition(models.Model):
    """One KPI of the catalogue. Computed KPIs (kpis.md) are kept in step with evaluation.kpis by
    the engine; their names and definitions come from the code, so they are translated. Manual KPIs
    are defined here and their values are entered per unit and period."""

    code = models.CharField(_("code"), max_length=40, primary_key=True, db_collation="C")
    kind = models.CharField(_("kind"), max_length=10, choices=KpiKind.choices, default=KpiKind.MANUAL)
    name = models.CharField(_("name"), max_length=100)
    definition = models.TextField(_("definition"), blank=True)
    value_format = models.CharField(_("format"), max_length=10, choices=ValueFormat.choices, default=ValueFormat.NUMBER)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    weight = models.DecimalField(
        _("weight"), max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(0)],
        help_text=_("Default weight of the KPI in a unit's overall score; a target may override it."),
    )
    sort_order = models.IntegerField(_("sort order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    # One catalogue for the whole enterprise: not attached to a unit.
    scope = ScopeSpec()

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPI catalogue")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def spec(self):
        from .kpis import REGISTRY

        return REGISTRY.get(self.code) if self.kind == KpiKind.COMPUTED else None

    @property
    def display_name(self):
        spec = self.spec
        return spec.name if spec else self.name

    @property
    def display_definition(self):
        spec = self.spec
        return spec.definition if spec else self.definition

    @property
    def is_rate(self) -> bool:
        return self.value_format == ValueFormat.RATE


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class KpiTarget(models.Model):
    """The target of a KPI for a unit and year, with its weight and traffic-light thresholds.
    A unit without a target of its own uses the nearest ancestor's. Rates are stored as fractions
    (0.95), like the snapshots."""

    kpi = models.ForeignKey(KpiDefinition, verbose_name=_("KPI"), on_delete=models.CASCADE, related_name="targets")
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2999)])
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=6)
    green_from = models.DecimalField(
        _("green from"), max_digits=14, decimal_places=6, null=True, blank=True,
        help_text=_("Empty: the target itself."),
    )
    amber_from = models.DecimalField(
        _("amber from"), max_digits=14, decimal_places=6, null=True, blank=True,
        help_text=_("Below this (above, if lower is better) the figure is red. Empty: no amber band."),
    )
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(0)], help_text=_("Empty: the KPI's default weight."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        ordering = ["year", "kpi__sort_order", "org_unit__path"]
        constraints = [models.UniqueConstraint(fields=["kpi", "org_unit", "year"], name="kpi_target_once")]
        indexes = [models.Index(fields=["year", "org_unit"], name="kpi_target_year_unit")]

    def __str__(self) -> str:
        return f"{self.kpi} · {self.org_unit} · {self.year}"

    def get_absolute_url(self) -> str:
        return id_url("evaluation:target_edit", self.pk)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ManualKpiValue(models.Model):
    """A value of a manual KPI entered for a unit and period (mirrored into the snapshots)."""

    kpi = models.ForeignKey(KpiDefinition, verbose_name=_("KPI"), on_delete=models.CASCADE, related_name="manual_values",
                            limit_choices_to={"kind": KpiKind.MANUAL})
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=PERIOD_MAX_LENGTH)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=6)
    note = models.CharField(_("note"), max_length=300, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("manual KPI value")
        verbose_name_plural = _("manual KPI values")
        ordering = ["-period", "kpi__sort_order", "org_unit__path"]
        constraints = [models.UniqueConstraint(fields=["kpi", "org_unit", "period"], name="manual_kpi_value_once")]
        indexes = [models.Index(fields=["period", "kpi"], name="manual_value_period_kpi")]

    def __str__(self) -> str:
        return f"{self.kpi} · {self.org_unit} · {self.period}"


class KpiSnapshot(models.Model):
    """A KPI figure of one org unit and period, as the engine computed it (kpis.md "Snapshots").

    The primary key is (period, kpi, org_unit): it is the uniqueness rule and the one index every
    dashboard read uses (a unit's cards, a KPI's ranking, a trend over periods). Foreign keys are
    not enforced by the database so that a full recompute writes about a million rows quickly;
    the engine writes only rows of existing units and KPIs. Dashboards, exports and the API read
    only these rows and never recompute."""

    pk = models.CompositePrimaryKey("period", "kpi_id", "org_unit_id")
    period = models.CharField(_("period"), max_length=PERIOD_MAX_LENGTH, db_collation="C")
    kpi = models.ForeignKey(KpiDefinition, verbose_name=_("KPI"), on_delete=models.DO_NOTHING, db_constraint=False,
                            db_index=False, related_name="+")
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.DO_NOTHING,
                                 db_constraint=False, db_index=False, related_name="+")
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=6, null=True, blank=True)
    numerator = models.BigIntegerField(_("numerator"), null=True, blank=True)
    denominator = models.BigIntegerField(_("denominator"), null=True, blank=True)
    as_of = models.DateTimeField(_("as of"))
    computed_at = models.DateTimeField(_("computed at"))

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")

    def __str__(self) -> str:
        return f"{self.period} {self.kpi_id} {self.org_unit_id} = {self.value}"


class DemandCategorySnapshot(models.Model):
    """Demands received in a period per category, for one org unit and its descendants: the
    heat map of the dashboard (`counts` maps category id → count). Written with the KPIs."""

    pk = models.CompositePrimaryKey("period", "org_unit_id")
    period = models.CharField(_("period"), max_length=PERIOD_MAX_LENGTH, db_collation="C")
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.DO_NOTHING,
                                 db_constraint=False, db_index=False, related_name="+")
    counts = models.JSONField(default=dict)
    as_of = models.DateTimeField(_("as of"))
    computed_at = models.DateTimeField(_("computed at"))

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("demand category snapshot")
        verbose_name_plural = _("demand category snapshots")


class KpiRun(models.Model):
    """One computation of snapshots (the beat, a data change, the command or a manager)."""

    trigger = models.CharField(_("trigger"), max_length=10, choices=RunTrigger.choices)
    periods = ArrayField(models.CharField(max_length=PERIOD_MAX_LENGTH), verbose_name=_("periods"))
    as_of = models.DateTimeField(_("as of"))
    explicit_as_of = models.BooleanField(default=False)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("KPI computation")
        verbose_name_plural = _("KPI computations")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="kpi_run_started")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {','.join(self.periods)}"


# --- Evaluation campaigns (考核评价) -----------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    org_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+",
        help_text=_("The campaign belongs to this unit; the units evaluated are in its subtree."),
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2999)])
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    opens_on = models.DateField(_("opens on"), null=True, blank=True)
    closes_on = models.DateField(_("closes on"), null=True, blank=True)
    subjects = models.ManyToManyField("members.OrgUnit", verbose_name=_("units evaluated"), related_name="+", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("evaluation campaign")
        verbose_name_plural = _("evaluation campaigns")
        ordering = ["-year", "-created_at", "-id"]
        indexes = [models.Index(fields=["org_unit", "-year"], name="campaign_org_year")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return id_url("evaluation:campaign_detail", self.pk)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Indicator(models.Model):
    """A line of the scoring form (考核指标) with its maximum score."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("indicator"), max_length=200)
    description = models.CharField(_("scoring guidance"), max_length=500, blank=True)
    max_score = models.DecimalField(_("maximum score"), max_digits=6, decimal_places=2,
                                    validators=[MinValueValidator(Decimal("0.01"))])
    sort_order = models.IntegerField(_("sort order"), default=0)

    scope = ScopeSpec(org="campaign__org_unit")

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class RaterGroup(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="groups")
    kind = models.CharField(_("rater group"), max_length=20, choices=RaterGroupKind.choices)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2,
                                 validators=[MinValueValidator(0), MaxValueValidator(100)])
    anonymous = models.BooleanField(_("anonymous"), default=False,
                                    help_text=_("Sheets of anonymous raters are stored without the rater."))

    scope = ScopeSpec(org="campaign__org_unit")

    class Meta:
        verbose_name = _("rater group")
        verbose_name_plural = _("rater groups")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "kind"], name="rater_group_once")]

    def __str__(self) -> str:
        return self.get_kind_display()


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class RaterAssignment(models.Model):
    """A rater asked to rate in a group. `done_subjects` records which units they have rated
    (never the sheet itself, so anonymous sheets cannot be traced back)."""

    group = models.ForeignKey(RaterGroup, on_delete=models.CASCADE, related_name="assignments")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rater"), on_delete=models.CASCADE,
                              related_name="rater_assignments")
    done_subjects = ArrayField(models.BigIntegerField(), default=list, blank=True)

    scope = ScopeSpec(org="group__campaign__org_unit", assignee="rater")

    class Meta:
        verbose_name = _("rater")
        verbose_name_plural = _("raters")
        ordering = ["group", "rater__username"]
        constraints = [models.UniqueConstraint(fields=["group", "rater"], name="rater_assignment_once")]
        indexes = [models.Index(fields=["rater"], name="rater_assignment_rater")]


# Ballots stay anonymous in the audit trail too: the events of score sheets, scores and appraisal
# votes keep no acting account (no context) and no link to the ballot row (no obj field), and
# store only what says *that* a ballot was cast, changed or withdrawn -- never the rater, the
# value or the grade. (With either link, an event stamped with the voter's account at the same
# moment as their AppraisalVoter/RaterAssignment event would lead to what they chose.)
def _ballot_history(*fields: str, changes: tuple[str, ...], name: str):
    return pghistory.track(
        pghistory.InsertEvent("cast"),
        pghistory.UpdateEvent("changed", condition=pghistory.AnyChange(*changes)),
        pghistory.DeleteEvent("withdrawn"),
        fields=list(fields), context_field=None, obj_field=None, model_name=name,
    )


@_ballot_history("group", "subject", "submitted_on", changes=("comment", "submitted_on", "rater"), name="ScoreSheetEvent")
class ScoreSheet(models.Model):
    """One rater's scores for one unit. Anonymous groups store no rater and only the date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(RaterGroup, on_delete=models.CASCADE, related_name="sheets")
    subject = models.ForeignKey("members.OrgUnit", on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    submitted_on = models.DateField(_("submitted on"))

    scope = ScopeSpec(org="group__campaign__org_unit")

    class Meta:
        verbose_name = _("score sheet")
        indexes = [models.Index(fields=["group", "subject"], name="score_sheet_group_subject")]


@_ballot_history("indicator", changes=("value",), name="ScoreEvent")
class Score(models.Model):
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="scores")
    value = models.DecimalField(_("score"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("score")
        constraints = [models.UniqueConstraint(fields=["sheet", "indicator"], name="score_once")]


# --- Democratic appraisal of members (民主评议党员) -------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AppraisalRound(models.Model):
    name = models.CharField(_("name"), max_length=200)
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("party organisation"), on_delete=models.PROTECT,
                                 related_name="+")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2999)])
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    closes_on = models.DateField(_("closes on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("democratic appraisal")
        verbose_name_plural = _("democratic appraisals")
        ordering = ["-year", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return id_url("evaluation:appraisal_detail", self.pk)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AppraisalVoter(models.Model):
    """A voter of a round; `voted_on` is set once their (anonymous) ballot is in."""

    round = models.ForeignKey(AppraisalRound, on_delete=models.CASCADE, related_name="voters")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appraisal_ballots")
    voted_on = models.DateField(_("voted on"), null=True, blank=True)

    scope = ScopeSpec(org="round__org_unit", assignee="voter")

    class Meta:
        verbose_name = _("appraisal voter")
        constraints = [models.UniqueConstraint(fields=["round", "voter"], name="appraisal_voter_once")]
        indexes = [models.Index(fields=["voter"], name="appraisal_voter_user")]


@_ballot_history("round", changes=("grade",), name="AppraisalVoteEvent")
class AppraisalVote(models.Model):
    """One grade given to one member; stored without the voter."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(AppraisalRound, on_delete=models.CASCADE, related_name="votes")
    person = models.ForeignKey("members.Person", on_delete=models.CASCADE, related_name="+")
    grade = models.CharField(_("grade"), max_length=12, choices=AppraisalGrade.choices)

    class Meta:
        verbose_name = _("appraisal vote")
        indexes = [models.Index(fields=["round", "person"], name="appraisal_vote_round_person")]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AppraisalResult(models.Model):
    """A member on the round's roster (frozen when the round opens) and the grade decided."""

    round = models.ForeignKey(AppraisalRound, on_delete=models.CASCADE, related_name="results")
    person = models.ForeignKey("members.Person", verbose_name=_("member"), on_delete=models.CASCADE, related_name="+")
    final_grade = models.CharField(_("grade decided"), max_length=12, choices=AppraisalGrade.choices, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    scope = ScopeSpec(org="round__org_unit")

    class Meta:
        verbose_name = _("appraisal result")
        ordering = ["person__employee_no"]
        constraints = [models.UniqueConstraint(fields=["round", "person"], name="appraisal_result_once")]


# --- PDCA ---------------------------------------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ImprovementAction(models.Model):
    """整改措施 raised from a low KPI or a campaign result, followed plan → do → check → act."""

    title = models.CharField(_("title"), max_length=200)
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("raised from"), max_length=10, choices=ActionSource.choices, default=ActionSource.KPI)
    kpi = models.ForeignKey(KpiDefinition, verbose_name=_("KPI"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    period = models.CharField(_("period"), max_length=PERIOD_MAX_LENGTH, blank=True)
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="actions")
    problem = models.TextField(_("problem"))
    root_cause = models.TextField(_("root cause"), blank=True)
    measure = models.TextField(_("measure"), blank=True)
    owner = models.ForeignKey("members.Person", verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.PLAN)
    verification = models.TextField(_("verification"), blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="org_unit", owner="owner")

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="action_status_deadline"),
            models.Index(fields=["org_unit", "status"], name="action_org_status"),
            models.Index(fields=["owner", "status"], name="action_owner_status"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return id_url("evaluation:action_detail", self.pk)


# --- Monthly diagnostic report (运行诊断报告) ----------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MonthlyReport(models.Model):
    """One issued version of a unit's report for a month. Its figures and lists are frozen in
    `content` when it is generated; the page and the workbook both render that content, so they
    agree and never change. Generating again makes a new version; the old one stays."""

    period = models.CharField(_("month"), max_length=PERIOD_MAX_LENGTH)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    file = models.FileField(_("workbook"), upload_to=upload_path, blank=True)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    error = models.TextField(_("error"), blank=True)
    as_of = models.DateTimeField(_("figures as of"), null=True, blank=True)
    content = models.JSONField(_("content"), null=True, blank=True, editable=False)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("monthly diagnostic report")
        verbose_name_plural = _("monthly diagnostic reports")
        ordering = ["-period", "org_unit__path", "-version"]
        constraints = [models.UniqueConstraint(fields=["period", "org_unit", "version"], name="monthly_report_version")]

    def __str__(self) -> str:
        return f"{self.period} {self.org_unit}"

    def get_absolute_url(self) -> str:
        return id_url("evaluation:report_print", self.pk)

    @property
    def download_name(self) -> str:
        suffix = f"-v{self.version}" if self.version > 1 else ""
        return f"运行诊断报告-{self.org_unit.code}-{self.period}{suffix}.xlsx"


# --- History of many-to-many links (portal/history_links.py) ------------------------------------
track_links(Campaign.subjects, "CampaignSubjectEvent")
