from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext, pgettext, pgettext_lazy

from .history_links import track_links
from .roles import Role
from .scope import ScopeSpec
from .uploads import upload_path


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["password", "last_login"]
)
class User(AbstractUser):
    """An account: one role and one scope org unit (roles.md), optionally linked to a person."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    scope_org = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("scope unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="accounts",
    )
    person = models.OneToOneField(
        "members.Person", verbose_name=_("person"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="account",
    )
    may_view_sensitive = models.BooleanField(
        _("may view ID numbers and phones"), default=False,
        help_text=_("Staff, secretaries and managers with this permission may reveal masked data; each reveal is logged."),
    )

    scope = ScopeSpec(org="scope_org")

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.person_id:
            return self.person.name
        return self.get_full_name() or self.username

    @property
    def scope_org_path(self) -> str:
        return self.scope_org.path if self.scope_org_id else ""

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    def save(self, *args, **kwargs) -> None:
        # The Django admin site is for administrators only.
        self.is_staff = self.role == Role.ADMIN or self.is_superuser
        super().save(*args, **kwargs)


class Notification(models.Model):
    """A message in the portal (and by e-mail). `key` makes sending idempotent: a job that runs
    twice notifies nothing twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    scope = ScopeSpec(assignee="user")

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["rows_done", "rows_total"]
)
class ImportBatch(models.Model):
    """One uploaded import file and its background jobs: a preview (every row checked, nothing
    written), then, when its uploader confirms, the apply. Services in portal/dataexchange/batches.py;
    each step is claimed once by moving `status` from the state it expects."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", pgettext_lazy("import status", "waiting to be checked")
        PREVIEWING = "previewing", pgettext_lazy("import status", "being checked")
        PREVIEWED = "previewed", pgettext_lazy("import status", "checked")
        APPLYING = "applying", pgettext_lazy("import status", "being imported")
        APPLIED = "applied", pgettext_lazy("import status", "imported")
        FAILED = "failed", pgettext_lazy("import status", "failed")

    kind = models.CharField(_("kind"), max_length=30)
    file = models.FileField(upload_to=upload_path)
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT,
                                    related_name="+")
    # The uploader's scope unit when the file came in (the scope the import was made under).
    scope_org = models.ForeignKey("members.OrgUnit", verbose_name=_("scope unit"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # unknown while the file is being read
    # {rows, created, updated, unchanged, error_count, errors: the first PREVIEW_ERRORS {row, column, message}}
    preview = models.JSONField(default=dict, blank=True)
    apply_requested_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)  # the apply's counts (and errors if it failed)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    failure = models.TextField(blank=True)  # why a job stopped without a result (an unexpected error)

    scope = ScopeSpec(assignee="uploaded_by")

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-uploaded_at", "-id"]
        indexes = [
            models.Index(fields=["uploaded_by", "-uploaded_at"], name="importbatch_uploader_recent"),
            models.Index(fields=["status", "-uploaded_at"], name="importbatch_status_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} · {self.original_name}"

    @property
    def running(self) -> bool:
        return self.status in (self.Status.UPLOADED, self.Status.PREVIEWING, self.Status.APPLYING) or (
            self.status == self.Status.PREVIEWED and self.apply_requested_at is not None)

    @property
    def status_label(self) -> str:
        """The status as its uploader needs it: a checked file says whether it has problems (and how
        many) or may be imported, and once its import is confirmed it waits for the job, not "checked"."""
        if self.status != self.Status.PREVIEWED:
            return self.get_status_display()
        if self.apply_requested_at is not None:
            return pgettext("import status", "waiting to be imported")
        errors = (self.preview or {}).get("error_count") or 0
        if errors:
            return npgettext("import status", "checked: %(n)d problem", "checked: %(n)d problems", errors) % {"n": errors}
        return pgettext("import status", "checked: ready to import")

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)


class AccessDenial(models.Model):
    """A request refused by the permission table (403) or the scope layer on a record that exists
    but lies outside the account's scope (404). Written by portal.middleware.AccessDenialMiddleware;
    failed logins are in django-axes' AccessFailureLog. Listed on the audit trail page."""

    class Status(models.IntegerChoices):
        FORBIDDEN = 403, _("no permission (403)")
        OUT_OF_SCOPE = 404, _("outside scope (404)")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(_("user name"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(_("path"), max_length=500)
    status = models.PositiveSmallIntegerField(_("status"), choices=Status.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    scope = ScopeSpec(assignee="user")

    class Meta:
        verbose_name = _("access denial")
        verbose_name_plural = _("access denials")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.status} {self.path}"


# --- Group robots (WeCom / DingTalk) ---------------------------------------------------------------
class RobotPlatform(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")


class RobotKind(models.TextChoices):
    """The notification kinds a unit's group robot may carry (portal.robots.announce)."""

    OVERDUE = "overdue", _("Overdue demands")
    SUPERVISION = "supervision", _("Supervision (督办)")
    MEETING = "meeting", _("Meeting reminders")
    APPROVAL = "approval", _("Approvals")


# The signing secret and the webhook address (its key or access token) are credentials: they are
# kept out of the change history and shown masked.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
                 exclude=["url", "secret", "last_sent_at", "last_failed_at", "last_error", "updated_at"])
class RobotWebhook(models.Model):
    """A group robot of a unit: the chosen kinds of notification about the unit (and, unless
    switched off, its sub-units) are posted into that group chat."""

    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("unit"), on_delete=models.CASCADE,
                                 related_name="robots")
    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=20, choices=RobotPlatform.choices)
    url = models.URLField(_("webhook address"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    kinds = ArrayField(models.CharField(max_length=20, choices=RobotKind.choices), verbose_name=_("notification kinds"),
                       default=list)
    include_subunits = models.BooleanField(_("include sub-units"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    last_failed_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["org_unit__path", "name", "id"]
        indexes = [models.Index(fields=["org_unit"], condition=models.Q(active=True), name="robot_active_unit")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("portal:robot_detail", args=[self.pk])


class RobotDelivery(models.Model):
    """One message to one robot. (robot, key) is unique: an event announced twice is posted once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    robot = models.ForeignKey(RobotWebhook, verbose_name=_("group robot"), on_delete=models.CASCADE,
                              related_name="deliveries")
    kind = models.CharField(_("kind"), max_length=20, choices=RobotKind.choices)
    key = models.CharField(max_length=200)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    scope = ScopeSpec(org="robot__org_unit")

    class Meta:
        verbose_name = _("robot message")
        verbose_name_plural = _("robot messages")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["robot", "key"], name="robot_delivery_once_per_key")]
        indexes = [
            models.Index(fields=["robot", "-created_at"], name="robot_delivery_recent"),
            models.Index(fields=["status", "-created_at"], name="robot_delivery_status"),
        ]

    def __str__(self) -> str:
        return self.title


# --- History of many-to-many links (portal/history_links.py) ------------------------------------
track_links(User.groups, "UserGroupEvent")
track_links(User.user_permissions, "UserPermissionEvent")
