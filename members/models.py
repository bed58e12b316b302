from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr, Upper
from django.utils.translation import gettext_lazy as _

from portal.cached_urls import id_url
from portal.scope import ScopeSpec, in_subtree, subtree_q

from .choices import DevelopmentStage, DualCultivation, Gender, OrgKind, PointsSource, PoliticalStatus
from .validators import validate_id_number, validate_phone

PATH_SEGMENT_WIDTH = 7  # zero-padded id per level: "0000001/0000005/"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["path", "depth"])
class OrgUnit(models.Model):
    """A node of the one org tree. `path` is a materialised path of ids so a subtree is one prefix
    match on an indexed column (cheap at thousands of units)."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, editable=False, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    scope = ScopeSpec(org="")

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["path"]
        indexes = [
            models.Index(OpClass("path", name="varchar_pattern_ops"), name="orgunit_path_prefix"),
            models.Index(fields=["path"], name="orgunit_path"),
            models.Index(fields=["kind"], name="orgunit_kind"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return id_url("members:orgunit_detail", self.pk)

    @property
    def own_segment(self) -> str:
        return f"{self.pk:0{PATH_SEGMENT_WIDTH}d}/"

    def is_descendant_of(self, other: OrgUnit) -> bool:
        return in_subtree(self, other)

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        self.refresh_path()

    def refresh_path(self) -> None:
        """Recompute this unit's path from its parent and carry the change to every descendant in
        one UPDATE (a move of a unit moves its subtree)."""
        parent_path = OrgUnit.objects.values_list("path", flat=True).get(pk=self.parent_id) if self.parent_id else ""
        new_path = parent_path + self.own_segment
        old_path = OrgUnit.objects.values_list("path", flat=True).get(pk=self.pk)
        if new_path == old_path:
            self.path, self.depth = new_path, new_path.count("/") - 1
            return
        depth_shift = new_path.count("/") - (old_path.count("/") if old_path else 0)
        if old_path:
            OrgUnit.objects.filter(subtree_q(old_path)).update(
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
                depth=F("depth") + depth_shift,
            )
        else:
            OrgUnit.objects.filter(pk=self.pk).update(path=new_path, depth=new_path.count("/") - 1)
        self.path, self.depth = new_path, new_path.count("/") - 1


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Person(models.Model):
    """一人一档: one record per employee, with everything that concerns them on its timeline."""

    employee_no = models.CharField(_("employee number"), max_length=30, unique=True)
    name = models.CharField(_("full name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    id_number = models.CharField(_("ID number"), max_length=18, blank=True, validators=[validate_id_number])
    # Indexed with the id alongside (person_unit_cover below), not by the plain foreign-key index.
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="people",
                                 db_index=False)
    political_status = models.CharField(
        _("political status"), max_length=30, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    joined_party_on = models.DateField(_("joined the party on"), null=True, blank=True)
    tags = ArrayField(models.CharField(max_length=30), verbose_name=_("tags"), default=list, blank=True)
    dual_cultivation = models.CharField(
        _("dual cultivation"), max_length=30, choices=DualCultivation.choices, blank=True, default=""
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    is_active = models.BooleanField(_("employed"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="org_unit", owner="")

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["employee_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=~models.Q(id_number=""), name="person_id_number_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["org_unit", "employee_no"], name="person_org_empno"),
            # The people of a scope's units read from the index alone: a branch's life events, visits
            # or people are reached unit → people → records instead of scanning every life event and
            # joining its person (the due-visits count of a branch: 57 → 9 ms at 100,000 people).
            models.Index(fields=["org_unit"], include=["id"], name="person_unit_cover"),
            models.Index(fields=["political_status", "employee_no"], name="person_status_empno"),
            models.Index(fields=["name"], name="person_name"),
            models.Index(OpClass(Upper("name"), name="varchar_pattern_ops"), name="person_name_prefix"),
            models.Index(fields=["dual_cultivation"], name="person_dual", condition=~models.Q(dual_cultivation="")),
            GinIndex(fields=["tags"], name="person_tags"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.employee_no}）"

    def get_absolute_url(self) -> str:
        return id_url("members:person_detail", self.pk)


class UnitPeopleCount(models.Model):
    """How many active people of each political status a unit has (its own people, not its
    subtree's): a scope's counts are a sum over its units' rows instead of a scan of its people.
    Kept by triggers on members_person (migration 0005_unit_people_count), so every write path —
    forms, services, imports by COPY, bulk updates, raw SQL — keeps it exact; nothing in Python
    writes it. Derived data: no history of its own."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    political_status = models.CharField(max_length=30, choices=PoliticalStatus.choices)
    n = models.IntegerField(default=0)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "political_status"], name="unit_people_count_key"),
        ]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class DevelopmentRecord(models.Model):
    """One stage of party member development reached on a date (rules in members/workflow.py)."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="development")
    stage = models.CharField(_("stage"), max_length=20, choices=DevelopmentStage.choices)
    reached_on = models.DateField(_("reached on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope = ScopeSpec(org="person__org_unit", owner="person")

    class Meta:
        verbose_name = _("development record")
        verbose_name_plural = _("development records")
        ordering = ["person", "reached_on"]
        constraints = [models.UniqueConstraint(fields=["person", "stage"], name="development_one_per_stage")]
        indexes = [models.Index(fields=["stage", "reached_on"], name="development_stage_date")]

    def __str__(self) -> str:
        return f"{self.person.name} {self.get_stage_display()} {self.reached_on}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PointsEntry(models.Model):
    """积分 ledger line. `source_key` makes an award idempotent (e.g. "attendance:123")."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="points")
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("source"), max_length=20, choices=PointsSource.choices, default=PointsSource.MANUAL)
    source_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    awarded_on = models.DateField(_("date"))
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("awarded by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="person__org_unit", owner="person")

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-awarded_on", "-id"]
        indexes = [models.Index(fields=["person", "awarded_on"], name="points_person_date")]

    def __str__(self) -> str:
        return f"{self.person.name} {self.points:+d} {self.reason}"


class RevealLog(models.Model):
    """Every reveal of a masked ID number or phone (PIPL: access is logged)."""

    class Field(models.TextChoices):
        ID_NUMBER = "id_number", _("ID number")
        PHONE = "phone", _("phone")
        EXPORT = "export", _("export with sensitive data")
        API = "api", _("API reveal")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.CASCADE, related_name="reveals")
    field = models.CharField(_("field"), max_length=20, choices=Field.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    # An unmasked export: why, how many people and which ones went out.
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    record_count = models.PositiveIntegerField(_("records"), null=True, blank=True)
    record_ids = ArrayField(models.BigIntegerField(), verbose_name=_("record ids"), default=list, blank=True)

    scope = ScopeSpec(org="person__org_unit")

    class Meta:
        verbose_name = _("sensitive data access")
        verbose_name_plural = _("sensitive data accesses")
        ordering = ["-at"]


# 困难职工帮扶 (members/hardship/): models of the members app kept in their own module.
from .hardship.models import (  # noqa: E402,F401
    AssistanceMeasure, AssistanceRecord, HardshipHousehold, HardshipReview, HouseholdEvent,
)
# Transfers, mobile members and branch terms (members/partyorg/).
from .partyorg.models import BranchTerm, MobileMember, Transfer, TransferLetter, TransferStep  # noqa: E402,F401
