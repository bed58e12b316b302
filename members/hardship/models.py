"""The hardship register (困难职工帮扶). Imported into members/models.py, so the models belong to
the members app and their migrations live in members/migrations."""
from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.cached_urls import id_url
from portal.scope import ScopeSpec
from portal.uploads import upload_path, validate_upload

from .choices import Level, MeasureKind, Pack, Reason, ReviewOutcome, Status


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class HardshipHousehold(models.Model):
    """A person's household on the hardship register. A person has at most one household on the
    register at a time; once out of hardship (or removed) the same record is re-registered (返贫),
    so its plan, assistance and reviews stay together."""

    ref = models.CharField(_("reference"), max_length=30, unique=True)
    person = models.ForeignKey(
        "members.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="hardship_households"
    )
    reason = models.CharField(_("cause of hardship"), max_length=20, choices=Reason.choices)
    level = models.CharField(_("hardship level"), max_length=20, choices=Level.choices)
    family_situation = models.TextField(_("family situation"), blank=True)
    family_size = models.PositiveSmallIntegerField(_("household members"), default=1)
    registered_on = models.DateField(_("registered on"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED)
    left_on = models.DateField(_("left the register on"), null=True, blank=True)  # out of hardship or removed
    status_reason = models.CharField(_("reason of the status"), max_length=500, blank=True)
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("liaison"), on_delete=models.PROTECT, related_name="hardship_households"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    last_review_on = models.DateField(_("last review"), null=True, blank=True)
    next_review_on = models.DateField(_("next review due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="person__org_unit", assignee="liaison")

    class Meta:
        verbose_name = _("hardship household")
        verbose_name_plural = _("hardship households")
        ordering = ["-registered_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(status="registered"), name="hardship_one_active_per_person"
            ),
        ]
        indexes = [
            models.Index(fields=["-registered_on", "-id"], name="hardship_registered"),
            models.Index(fields=["status", "level"], name="hardship_status_level"),
            models.Index(fields=["reason"], name="hardship_reason"),
            models.Index(fields=["liaison"], name="hardship_liaison"),
            models.Index(fields=["next_review_on"], name="hardship_review_due", condition=models.Q(status="registered")),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.person.name}"

    def get_absolute_url(self) -> str:
        return id_url("members:hardship_detail", self.pk)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class HouseholdEvent(models.Model):
    """One step of the household's lifecycle (members/hardship/workflow.py), with who and why."""

    household = models.ForeignKey(HardshipHousehold, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("step"), max_length=20)
    on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope = ScopeSpec(org="household__person__org_unit")

    class Meta:
        verbose_name = _("household step")
        verbose_name_plural = _("household steps")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["household", "at"], name="hardship_event_household")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.action} {self.on}"

    @property
    def label(self) -> str:
        from .workflow import EVENT_LABELS

        return str(EVENT_LABELS.get(self.action, self.action))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AssistanceMeasure(models.Model):
    """One measure of the household's plan: of the policy pack (政策包) or the service pack (服务包)."""

    household = models.ForeignKey(HardshipHousehold, verbose_name=_("household"), on_delete=models.CASCADE,
                                  related_name="measures")
    pack = models.CharField(_("pack"), max_length=10, choices=Pack.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=MeasureKind.choices)
    description = models.CharField(pgettext_lazy("assistance measure", "measure"), max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT,
                              related_name="hardship_measures")
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="household__person__org_unit", assignee="owner")

    class Meta:
        verbose_name = _("assistance measure")
        verbose_name_plural = _("assistance measures")
        ordering = ["pack", "due_on", "id"]
        indexes = [models.Index(fields=["household", "pack", "due_on"], name="hardship_measure_household")]

    def __str__(self) -> str:
        return self.description

    @property
    def is_done(self) -> bool:
        return self.done_on is not None


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AssistanceRecord(models.Model):
    """Assistance given: money (amount, Decimal yuan) or a service, on a date, with evidence."""

    ref = models.CharField(_("reference"), max_length=30, unique=True)
    household = models.ForeignKey(HardshipHousehold, verbose_name=_("household"), on_delete=models.PROTECT,
                                  related_name="assistance")
    measure = models.ForeignKey(AssistanceMeasure, verbose_name=_("plan measure"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="assistance")
    given_on = models.DateField(_("given on"))
    kind = models.CharField(_("kind"), max_length=20, choices=MeasureKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    service = models.CharField(_("service given"), max_length=300, blank=True)
    evidence = models.FileField(_("evidence"), upload_to=upload_path, validators=[validate_upload], blank=True)
    evidence_name = models.CharField(_("file name"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="household__person__org_unit")

    class Meta:
        verbose_name = _("assistance record")
        verbose_name_plural = _("assistance records")
        ordering = ["-given_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=False) | ~models.Q(service=""), name="assistance_amount_or_service"
            ),
            models.CheckConstraint(condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0),
                                   name="assistance_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["-given_on", "-id"], name="assistance_given"),
            models.Index(fields=["household", "-given_on"], name="assistance_household"),
            models.Index(fields=["kind"], name="assistance_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.given_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return id_url("members:hardship_detail", self.household_id) + f"#assistance-{self.pk}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class HardshipReview(models.Model):
    """A quarterly review of a household on the register (the next is due a quarter later)."""

    household = models.ForeignKey(HardshipHousehold, verbose_name=_("household"), on_delete=models.CASCADE,
                                  related_name="reviews")
    reviewed_on = models.DateField(_("reviewed on"))
    outcome = models.CharField(pgettext_lazy("hardship review", "outcome"), max_length=20, choices=ReviewOutcome.choices)
    level = models.CharField(_("hardship level"), max_length=20, choices=Level.choices)
    note = models.TextField(_("note"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="household__person__org_unit")

    class Meta:
        verbose_name = _("hardship review")
        verbose_name_plural = _("hardship reviews")
        ordering = ["-reviewed_on", "-id"]
        indexes = [models.Index(fields=["household", "-reviewed_on"], name="hardship_review_household")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.reviewed_on:%Y-%m-%d}"
