"""Activities (三会一课 and other organisational life), attendance, points rules, activity projects
(项目化管理) and responsibility lists (责任清单). Column names are relied on by the KPI engine."""
from __future__ import annotations

import secrets

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.cached_urls import id_url
from portal.history_links import track_links
from portal.scope import ScopeSpec
from portal.uploads import upload_path, validate_image, validate_upload

from .choices import (
    ActivityStatus, ActivityType, ApprovalState, AttendanceSource, AttendanceStatus, ItemEventKind, ItemStatus,
    ProjectAction, ProjectKind, ProjectStage, RiskLevel,
)

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


def new_ref(prefix: str) -> str:
    """A readable unique reference for records created in the portal (imports bring their own)."""
    return f"{prefix}{timezone.localdate():%Y%m%d}-{secrets.token_hex(3).upper()}"


# --- Activities --------------------------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["updated_at"])
class Activity(models.Model):
    ref = models.CharField(_("reference"), max_length=50, unique=True, blank=True)
    type = models.CharField(_("type"), max_length=30, choices=ActivityType.choices)
    title = models.CharField(_("title"), max_length=200)
    org_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="activities"
    )
    held_at = models.DateTimeField(_("time"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ActivityStatus.choices, default=ActivityStatus.PLANNED)
    minutes = models.TextField(_("minutes"), blank=True)
    notified_at = models.DateTimeField(_("participants notified at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Employees see the activities they are on the list of (invited, checked in or on leave).
    scope = ScopeSpec(org="org_unit", owner="attendances__person")

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-held_at", "-id"]
        indexes = [
            models.Index(fields=["org_unit", "held_at"], name="activity_org_time"),
            models.Index(fields=["type", "status", "held_at"], name="activity_type_status_time"),
            models.Index(fields=["held_at", "id"], name="activity_time"),
            models.Index(fields=["status", "held_at"], name="activity_status_time"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return id_url("activities:activity_detail", self.pk)

    def save(self, *args, **kwargs) -> None:
        if not self.ref:
            self.ref = new_ref("HD")
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.remember_placing()
        return instance

    def remember_placing(self) -> None:
        """Where the stored row sits for the 三会一课 summary (unit, time), so that a change can
        refresh the months and branches it leaves as well as those it enters."""
        self._stored_placing = (self.__dict__.get("org_unit_id"), self.__dict__.get("held_at"))

    @property
    def placings(self) -> set[tuple]:
        return {p for p in (getattr(self, "_stored_placing", None), (self.org_unit_id, self.held_at))
                if p and None not in p}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["updated_at"])
class Attendance(models.Model):
    activity = models.ForeignKey(Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="attendances")
    person = models.ForeignKey(
        "members.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="attendances"
    )
    status = models.CharField(_("attendance"), max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.ABSENT)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=AttendanceSource.choices, default=AttendanceSource.ROSTER)
    leave_reason = models.CharField(_("reason for leave"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="activity__org_unit", owner="person")

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["activity", "person__employee_no"]
        constraints = [models.UniqueConstraint(fields=["activity", "person"], name="attendance_once_per_person")]
        indexes = [models.Index(fields=["person", "status"], name="attendance_person_status")]

    def __str__(self) -> str:
        return f"{self.activity} · {self.person.name} · {self.get_status_display()}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ActivityPhoto(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("photo"), upload_to=upload_path, validators=[validate_image])
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    scope = ScopeSpec(org="activity__org_unit")

    class Meta:
        verbose_name = _("activity photo")
        verbose_name_plural = _("activity photos")
        ordering = ["uploaded_at", "id"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PointsRule(models.Model):
    """Points a person earns for being present at a held activity of this type."""

    type = models.CharField(_("activity type"), max_length=30, choices=ActivityType.choices, unique=True)
    points = models.PositiveSmallIntegerField(_("points for attending"), validators=[MaxValueValidator(100)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["type"]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.points}"


# --- Activity projects (项目化管理) ---------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["updated_at"])
class Project(models.Model):
    ref = models.CharField(_("reference"), max_length=50, unique=True, blank=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=ProjectKind.choices)
    org_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="projects"
    )
    objective = models.TextField(_("objective"))
    scope_text = models.TextField(_("scope of work"), blank=True)
    leader = models.ForeignKey(
        "members.Person", verbose_name=_("project leader"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="led_projects",
    )
    team = models.ManyToManyField("members.Person", verbose_name=_("team"), blank=True, related_name="projects")
    budget = models.DecimalField(_("budget (yuan)"), max_digits=12, decimal_places=2, default=0,
                                 validators=[MinValueValidator(0)])
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    stage = models.CharField(_("stage"), max_length=20, choices=ProjectStage.choices, default=ProjectStage.PROPOSAL)
    approval = models.CharField(_("approval"), max_length=20, choices=ApprovalState.choices, default=ApprovalState.DRAFT)
    evaluation_score = models.PositiveSmallIntegerField(_("evaluation score"), null=True, blank=True, validators=PERCENT)
    evaluation_summary = models.TextField(_("evaluation"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)
    overrun_reason = models.CharField(_("reason for the budget overrun"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="org_unit", owner="leader")

    class Meta:
        verbose_name = _("activity project")
        verbose_name_plural = _("activity projects")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["org_unit", "stage"], name="project_org_stage"),
            models.Index(fields=["stage", "approval"], name="project_stage_approval"),
            models.Index(fields=["kind"], name="project_kind"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return id_url("activities:project_detail", self.pk)

    def save(self, *args, **kwargs) -> None:
        if not self.ref:
            self.ref = new_ref("XM")
        super().save(*args, **kwargs)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)])
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0, validators=PERCENT)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    unfinished_reason = models.CharField(_("reason unfinished"), max_length=500, blank=True)

    scope = ScopeSpec(org="project__org_unit")

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Expense(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="expenses")
    spent_on = models.DateField(_("date"))
    item = models.CharField(_("item"), max_length=200)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    scope = ScopeSpec(org="project__org_unit")

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        ordering = ["spent_on", "id"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Risk(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="risks")
    description = models.CharField(_("risk"), max_length=300)
    level = models.CharField(_("level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    mitigation = models.CharField(_("mitigation"), max_length=300, blank=True)
    is_open = models.BooleanField(_("open"), default=True)
    accepted_reason = models.CharField(_("reason the risk is accepted"), max_length=500, blank=True)

    scope = ScopeSpec(org="project__org_unit")

    class Meta:
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        ordering = ["-is_open", "id"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ProjectApproval(models.Model):
    """The approval trail of a project: every submission, approval and return."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="approvals")
    stage = models.CharField(_("stage"), max_length=20, choices=ProjectStage.choices)
    action = models.CharField(_("action"), max_length=20, choices=ProjectAction.choices)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    scope = ScopeSpec(org="project__org_unit")

    class Meta:
        verbose_name = _("project approval")
        ordering = ["at", "id"]


# --- Responsibility lists (责任清单) ----------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["updated_at"])
class ResponsibilityItem(models.Model):
    ref = models.CharField(_("reference"), max_length=50, unique=True, blank=True)
    title = models.CharField(_("item"), max_length=300)
    requirement = models.TextField(_("requirement"), blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent item"), null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    lead_org_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("lead unit"), on_delete=models.PROTECT, related_name="led_items"
    )
    cooperating_units = models.ManyToManyField(
        "members.OrgUnit", verbose_name=_("cooperating units"), blank=True, related_name="cooperating_items"
    )
    responsible = models.ForeignKey(
        "members.Person", verbose_name=_("responsible person"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="responsibility_items",
    )
    supervising_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("supervising unit"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="supervised_items",
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.IN_PROGRESS)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0, validators=PERCENT)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="lead_org_unit", owner="responsible", assignee="responsible__account")

    class Meta:
        verbose_name = _("responsibility item")
        verbose_name_plural = _("responsibility items")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["lead_org_unit", "deadline"], name="item_org_deadline"),
            models.Index(fields=["status", "deadline"], name="item_status_deadline"),
            models.Index(fields=["responsible", "status"], name="item_responsible_status"),
            models.Index(fields=["deadline", "id"], name="item_deadline"),
            models.Index(fields=["supervising_unit"], name="item_supervisor"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return id_url("activities:item_detail", self.pk)

    def save(self, *args, **kwargs) -> None:
        if not self.ref:
            self.ref = new_ref("ZR")
        super().save(*args, **kwargs)

    @property
    def colour(self) -> str:
        from .workflow import deadline_colour

        return deadline_colour(self.deadline, done=self.status == ItemStatus.APPROVED)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ItemEvent(models.Model):
    """履责记实: progress updates with evidence, submissions, approvals and returns."""

    item = models.ForeignKey(ResponsibilityItem, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(_("kind"), max_length=20, choices=ItemEventKind.choices)
    progress = models.PositiveSmallIntegerField(_("progress %"), null=True, blank=True, validators=PERCENT)
    note = models.TextField(_("note"), blank=True)
    evidence = models.FileField(_("evidence"), upload_to=upload_path, validators=[validate_upload], blank=True)
    evidence_name = models.CharField(_("file name"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    scope = ScopeSpec(org="item__lead_org_unit", owner="item__responsible", assignee="item__responsible__account")

    class Meta:
        verbose_name = _("responsibility record")
        verbose_name_plural = _("responsibility records")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["item", "-at"], name="itemevent_item_time")]


# --- History of many-to-many links (portal/history_links.py) ------------------------------------
track_links(Project.team, "ProjectTeamEvent")
track_links(ResponsibilityItem.cooperating_units, "ItemCooperatingUnitEvent")


# --- 三会一课: the maintained summary ------------------------------------------------------------------
class MeetingMonth(models.Model):
    """Counted 三会一课 meetings (activities.compliance.COUNTED) per branch, local month and type,
    held at the branch or below it. Derived data, kept by activities.meeting_summary (the services
    that record, change and cancel meetings, and the import), rebuilt by `rebuild_meeting_summary`;
    the compliance matrix, the home page and the reminders read it instead of the activities."""

    branch = models.ForeignKey("members.OrgUnit", verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))  # the first day of the local month
    type = models.CharField(_("type"), max_length=30, choices=ActivityType.choices)
    held = models.PositiveIntegerField(_("meetings held"))

    scope = ScopeSpec(org="branch")

    class Meta:
        verbose_name = _("meeting month")
        verbose_name_plural = _("meeting months")
        constraints = [models.UniqueConstraint(fields=["branch", "month", "type"], name="meeting_month_once")]
        indexes = [models.Index(fields=["month", "branch"], name="meeting_month_month")]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.month:%Y-%m} {self.type}: {self.held}"
