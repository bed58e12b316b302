"""Transfers, issued letters, mobile member periods and branch committee terms."""
from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.cached_urls import id_url
from portal.scope import ScopeSpec

from ..models import OrgUnit, Person
from .choices import OPEN_TRANSFER_STATUSES, LetterKind, StepAction, TransferKind, TransferStatus


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Transfer(models.Model):
    """A request to move a party member's organisational relationship (组织关系转接): out of the
    enterprise, into it, or between two of its branches. Steps in members/partyorg/workflow.py."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(_("kind of transfer"), max_length=10, choices=TransferKind.choices)
    from_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("from unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="transfers_out",
    )
    to_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("to unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="transfers_in",
    )
    external_org = models.CharField(
        _("external organisation"), max_length=200, blank=True,
        help_text=_("The party organisation outside the enterprise the member goes to or comes from."),
    )
    reason = models.CharField(_("reason"), max_length=500)
    requested_on = models.DateField(_("requested on"))
    report_by = models.DateField(_("report by"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=TransferStatus.choices, default=TransferStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    branch_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by the branch"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    committee_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by the committee"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="from_unit", also_org="to_unit", owner="person")

    class Meta:
        verbose_name = _("membership transfer")
        verbose_name_plural = _("membership transfers")
        ordering = ["-requested_on", "-id"]
        constraints = [
            # No member is on the way to two branches at once.
            models.UniqueConstraint(
                fields=["person"], condition=Q(status__in=OPEN_TRANSFER_STATUSES), name="transfer_one_open_per_person",
            ),
            models.CheckConstraint(
                name="transfer_units_match_kind",
                condition=(
                    Q(kind="out", from_unit__isnull=False, to_unit__isnull=True)
                    | Q(kind="in", from_unit__isnull=True, to_unit__isnull=False)
                    | (Q(kind="within", from_unit__isnull=False, to_unit__isnull=False) & ~Q(from_unit=models.F("to_unit")))
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "requested_on"], name="transfer_status_date"),
            models.Index(fields=["kind", "requested_on"], name="transfer_kind_date"),
            models.Index(fields=["from_unit", "requested_on"], name="transfer_from_date"),
            models.Index(fields=["to_unit", "requested_on"], name="transfer_to_date"),
            models.Index(fields=["person", "requested_on"], name="transfer_person_date"),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} {self.get_kind_display()} {self.requested_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return id_url("members:transfer_detail", self.pk)

    @property
    def deciding_unit(self):
        """The branch that approves first: the one the member leaves, or for a transfer in, the one
        that receives them."""
        return self.to_unit if self.kind == TransferKind.IN else self.from_unit

    @property
    def from_name(self) -> str:
        return self.from_unit.name if self.from_unit_id else self.external_org

    @property
    def to_name(self) -> str:
        return self.to_unit.name if self.to_unit_id else self.external_org


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TransferStep(models.Model):
    """One step of a transfer's workflow: who did what, when, with which comment."""

    transfer = models.ForeignKey(Transfer, verbose_name=_("membership transfer"), on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=30, choices=StepAction.choices)
    status = models.CharField(_("status"), max_length=20, choices=TransferStatus.choices)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(pgettext_lazy("transfer step", "at"), auto_now_add=True)

    scope = ScopeSpec(org="transfer__from_unit", also_org="transfer__to_unit", owner="transfer__person")

    class Meta:
        verbose_name = _("transfer step")
        verbose_name_plural = _("transfer steps")
        ordering = ["at", "id"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TransferLetter(models.Model):
    """A 介绍信 or 回执 as issued: its number (unique per year) and the facts it states, stored at
    issue so that the printed document never changes afterwards, whatever happens to the records."""

    transfer = models.ForeignKey(Transfer, verbose_name=_("membership transfer"), on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(_("kind"), max_length=10, choices=LetterKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=20, unique=True)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True, on_delete=models.SET_NULL, related_name="+",
    )
    facts = models.JSONField(_("facts"), default=dict)

    scope = ScopeSpec(org="transfer__from_unit", also_org="transfer__to_unit", owner="transfer__person")

    class Meta:
        verbose_name = _("transfer letter")
        verbose_name_plural = _("transfer letters")
        ordering = ["-year", "-seq"]
        constraints = [models.UniqueConstraint(fields=["year", "seq"], name="transfer_letter_number_once")]
        # An issued document stays as issued: the database refuses to change it.
        triggers = [pgtrigger.Protect(name="letter_as_issued", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return id_url("members:transfer_letter", self.pk)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MobileMember(models.Model):
    """A period in which a party member works away (流动党员). The member stays in their branch
    (its figures, its notices); the period says where they are and how to reach them."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="mobile_periods")
    work_unit = models.CharField(_("work unit"), max_length=200)
    place = models.CharField(_("place"), max_length=200)
    contact = models.CharField(_("contact"), max_length=100)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="person__org_unit", owner="person")

    class Meta:
        verbose_name = _("mobile member period")
        verbose_name_plural = _("mobile members")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="mobile_period_ordered", condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
            ),
            models.UniqueConstraint(fields=["person", "started_on"], name="mobile_period_once"),
        ]
        indexes = [
            models.Index(fields=["ended_on", "started_on"], name="mobile_period_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} {self.place}"

    def get_absolute_url(self) -> str:
        return id_url("members:mobile_edit", self.pk)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class BranchTerm(models.Model):
    """One term of a branch (or committee) leadership, from its election. Recording the next
    election closes it. The reminders before its end are claimed once each (members.partyorg.tasks)."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="terms")
    elected_on = models.DateField(_("elected on"))
    term_years = models.PositiveSmallIntegerField(_("term length in years"))
    ends_on = models.DateField(_("term ends on"))
    members = models.TextField(_("committee members"), blank=True, help_text=_("One per line: name and post."))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    six_month_reminder_at = models.DateTimeField(_("six-month reminder sent at"), null=True, blank=True)
    one_month_reminder_at = models.DateTimeField(_("one-month reminder sent at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="unit")

    class Meta:
        verbose_name = _("branch term")
        verbose_name_plural = _("branch terms")
        ordering = ["ends_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["unit"], condition=Q(closed_on__isnull=True), name="term_one_open_per_unit"),
            models.UniqueConstraint(fields=["unit", "elected_on"], name="term_once_per_election"),
            models.CheckConstraint(name="term_years_positive", condition=Q(term_years__gte=1) & Q(term_years__lte=10)),
        ]
        indexes = [
            models.Index(fields=["ends_on"], name="term_open_ends", condition=Q(closed_on__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} {self.elected_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return id_url("members:term_detail", self.pk)
