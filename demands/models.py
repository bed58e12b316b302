"""Demands (诉求) and their tamper-evident timeline, SLA policies and the work calendar, dispute
mediation, visits (走访 / 民情日记) and life events (五必访 triggers).

The KPI engine computes directly on the columns of Demand, MediationCase, LifeEvent and Visit named
in data-exchange.md: do not rename them. All datetimes are timezone-aware.
"""
from __future__ import annotations

import datetime

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.cached_urls import id_url
from portal.history_links import track_links
from portal.scope import ScopeSpec
from portal.uploads import is_image, upload_path, validate_upload

from .choices import (
    MUST_VISIT_DAYS, OPEN_STATUSES, Channel, Fulfilment, LifeEventKind, MediationOutcome, SlaFlag, Status, Urgency,
    VisitKind,
)

OPEN = Q(status__in=OPEN_STATUSES)


class TitleBigrams(models.Func):
    """The title's two-character pieces (SQL function demand_title_bigrams, migration 0016).

    A two-character Chinese word (工资, 宿舍) has no trigram, so pg_trgm's index cannot answer
    `title LIKE '%工资%'` and the similar-demands query read every open demand's title. A title
    containing a word contains the word's first two characters, so `TitleBigrams && [w[:2], …]`
    narrows the rows through this GIN index before the LIKE rechecks them."""

    function = "demand_title_bigrams"
    output_field = ArrayField(models.TextField())


# --- Reference data (administrators) -----------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class DemandCategory(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    # Reference data: administrators only (no scope reaches it).
    scope = ScopeSpec()

    class Meta:
        verbose_name = _("demand category")
        verbose_name_plural = _("demand categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SlaPolicy(models.Model):
    """Deadlines for a category × urgency. A policy without a category applies to every category
    that has none of its own; without any policy the defaults of demands/sla.py apply."""

    category = models.ForeignKey(
        DemandCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="sla_policies", help_text=_("Empty: the default for every category."),
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    response_hours = models.PositiveSmallIntegerField(
        _("response within (working hours)"), validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    resolution_days = models.PositiveSmallIntegerField(
        _("resolution within (working days)"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )

    # Reference data: administrators only (no scope reaches it).
    scope = ScopeSpec()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["category__sort_order", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency"], name="sla_policy_once"),
            models.UniqueConstraint(fields=["urgency"], condition=Q(category__isnull=True), name="sla_policy_default_once"),
        ]

    def __str__(self) -> str:
        return f"{self.category or _('all categories')} · {self.get_urgency_display()}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class WorkCalendarDay(models.Model):
    """An administrator's correction of the official work calendar for one date."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    # Reference data: administrators only (no scope reaches it).
    scope = ScopeSpec()

    class Meta:
        verbose_name = _("work calendar override")
        verbose_name_plural = _("work calendar overrides")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {_('working day') if self.is_workday else _('holiday')}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class WorkCalendarYear(models.Model):
    """A year whose official work calendar (holidays and 调休 days, as WorkCalendarDay rows) the
    portal has loaded: deadlines counted through it are confirmed."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("loaded by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )

    # Reference data: administrators only (no scope reaches it).
    scope = ScopeSpec()

    class Meta:
        verbose_name = _("loaded calendar year")
        verbose_name_plural = _("loaded calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class RefCounter(models.Model):
    """Numbers for human-readable references such as SQ2026-000123 (one row per prefix and year)."""

    prefix = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="ref_counter_once")]


# --- Demands ---------------------------------------------------------------------------------------
@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["rating_nonce", "tracking_code", "chain_head"],
    # Not "DemandEvent": that name is the demand's own tamper-evident timeline below.
    model_name="DemandHistory", obj_field=pghistory.ObjForeignKey(related_name="history"),
)
class Demand(models.Model):
    ref = models.CharField(_("reference"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    category = models.ForeignKey(
        DemandCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="demands", db_index=False
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.STAFF_ENTRY)
    service_group = models.CharField(_("service group"), max_length=30, blank=True)
    org_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="demands", db_index=False
    )
    submitter = models.ForeignKey(
        "members.Person", verbose_name=_("submitter"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="demands", db_index=False, help_text=_("Empty for an anonymous demand."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    received_at = models.DateTimeField(_("received at"))
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    return_visit_at = models.DateTimeField(_("return visit at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.TextField(_("rating comment"), blank=True)
    resolution = models.TextField(_("result"), blank=True)

    # Assignment (资源适配).
    lead_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("lead unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="led_demands", db_index=False,
    )
    cooperating_units = models.ManyToManyField(
        "members.OrgUnit", verbose_name=_("cooperating units"), blank=True, related_name="cooperating_demands"
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("handler"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="assigned_demands", db_index=False,
    )

    visit = models.ForeignKey(
        "Visit", verbose_name=_("from visit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="demands",
        db_index=False,
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates",
        db_index=False,
    )
    # Anonymous submitters look the status up with this code (no personal data is shown).
    tracking_code = models.CharField(_("tracking code"), max_length=16, null=True, blank=True)
    # The one-time rating link carries this nonce; it is cleared when the link is used.
    rating_nonce = models.CharField(max_length=32, blank=True, default="")
    rating_link_issued_at = models.DateTimeField(null=True, blank=True)

    # What the SLA sweep has marked (so that it notifies once per deadline and level).
    response_flag = models.CharField(max_length=10, choices=SlaFlag.choices, blank=True, default="")
    resolution_flag = models.CharField(max_length=10, choices=SlaFlag.choices, blank=True, default="")
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # The deadlines were counted through a year whose official calendar is not confirmed yet
    # (calendar.is_unconfirmed); cleared when that year is loaded and the deadlines recomputed.
    deadline_unconfirmed = models.BooleanField(_("deadline on an unconfirmed calendar"), default=False)
    # How many duplicates were merged into this demand (kept by demand_merge): a repeat count.
    merged_count = models.PositiveIntegerField(_("duplicates merged in"), default=0)
    # The hash of the latest timeline event: removing events from the end of the chain shows.
    chain_head = models.CharField(max_length=64, blank=True, default="", editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope = ScopeSpec(org="org_unit", owner="submitter", assignee="handler")

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="demand_rating_1_5"),
            # Imported demands have no tracking code: partial, so a million of them cost nothing.
            models.UniqueConstraint(fields=["tracking_code"], condition=Q(tracking_code__isnull=False), name="demand_tracking_code"),
        ]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="demand_received"),
            models.Index(fields=["org_unit", "-received_at"], name="demand_org_received"),
            models.Index(fields=["status", "-received_at"], name="demand_status_received"),
            models.Index(fields=["category", "-received_at"], name="demand_category_received"),
            models.Index(fields=["urgency", "-received_at"], name="demand_urgency_received"),
            models.Index(fields=["channel", "-received_at"], name="demand_channel_received"),
            models.Index(fields=["submitter", "-received_at"], name="demand_submitter_received"),
            models.Index(fields=["handler", "-received_at"], condition=Q(handler__isnull=False), name="demand_handler_received"),
            models.Index(fields=["resolution_due_at"], name="demand_resolution_due"),
            models.Index(fields=["response_due_at"], name="demand_response_due"),
            # Work queues: only open demands, small and hot.
            models.Index(fields=["handler", "resolution_due_at"], condition=OPEN, name="demand_open_handler_due"),
            # Also covers what counting the open demands of a scope by deadline reads (超期, 即将到期:
            # the home's tiles, the queues), so the count reads this index only, not the scattered rows.
            models.Index(fields=["resolution_due_at"], include=["org_unit", "handler", "response_due_at", "first_response_at"],
                         condition=OPEN, name="demand_open_due_covering"),
            models.Index(
                fields=["response_due_at"], condition=OPEN & Q(first_response_at__isnull=True),
                name="demand_open_response_due",
            ),
            # Mostly empty foreign keys: only the rows that have one are indexed.
            models.Index(fields=["lead_unit"], condition=Q(lead_unit__isnull=False), name="demand_lead_unit"),
            models.Index(fields=["visit"], condition=Q(visit__isnull=False), name="demand_visit"),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="demand_merged_into"),
            models.Index(fields=["resolved_at"], condition=Q(status="resolved"), name="demand_awaiting_visit"),
            # Title search in the ledger, and similar open demands at intake (pg_trgm).
            GinIndex(OpClass("title", name="gin_trgm_ops"), name="demand_title_trgm"),
            GinIndex(OpClass("title", name="gin_trgm_ops"), condition=OPEN, name="demand_open_title_trgm"),
            GinIndex(TitleBigrams("title"), condition=OPEN, name="demand_open_title_bigrams"),
            # Counting a status in a scope (the 待受理 queue, the status filter) reads this index only.
            models.Index(fields=["status", "org_unit"], name="demand_status_org"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    def get_status_display(self) -> str:
        """As Django's get_FOO_display, which translates every status label on each call (65 µs;
        a person page shows fifty demands): only this one."""
        try:
            return str(Status(self.status).label)
        except ValueError:
            return self.status

    def get_absolute_url(self) -> str:
        return id_url("demands:demand_detail", self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_anonymous(self) -> bool:
        return self.submitter_id is None


class DemandUnitCount(models.Model):
    """How many demands a unit has (its own, not its subtree's): the size of a scope's ledger is a
    sum over its units' rows, not a count of a million demands or the planner's guess. Kept by
    triggers on demands_demand (migration 0018_demand_unit_count), so every write path — services,
    imports by COPY, bulk updates, raw SQL — keeps it exact; nothing in Python writes it. Derived
    data: no history of its own."""

    org_unit = models.OneToOneField("members.OrgUnit", on_delete=models.CASCADE, related_name="+")
    n = models.IntegerField(default=0)

    scope = ScopeSpec(org="org_unit")


class DemandEvent(models.Model):
    """One step of a demand's timeline. `hash` = sha256(prev_hash + canonical JSON of the fields),
    so changing, removing or inserting an event breaks the chain (verify_demand_chains)."""

    demand = models.ForeignKey(Demand, verbose_name=_("demand"), on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("number"))
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    # Who acted when there is no account: "submitter" (rating link, anonymous form), "system", "import".
    actor_label = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    scope = ScopeSpec(org="demand__org_unit", owner="demand__submitter", assignee="demand__handler")

    class Meta:
        verbose_name = _("demand event")
        verbose_name_plural = _("demand events")
        ordering = ["demand", "seq"]
        constraints = [models.UniqueConstraint(fields=["demand", "seq"], name="demand_event_seq")]
        indexes = [models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="demand_event_actor")]
        triggers = [
            # The timeline is append-only: the database itself refuses UPDATE and DELETE. (The
            # database owner can still bypass this; the hash chain then shows the change.)
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.demand_id}#{self.seq} {self.action}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class DemandAttachment(models.Model):
    """Photos and documents given at intake, and evidence attached to a reply or a resolution
    (served only through a scope check)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(DemandEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(_("file"), upload_to=upload_path, validators=[validate_upload])
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    scope = ScopeSpec(org="demand__org_unit", owner="demand__submitter", assignee="demand__handler")
    # The demand's change history names the file; where it is stored and which timeline step it
    # belongs to (the timeline shows that) say nothing more (portal.audit.history_for).
    history_hidden_fields = ("file", "size", "event", "uploaded_at")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return is_image(self.original_name)

    def get_absolute_url(self) -> str:
        return reverse("demands:demand_attachment", args=[self.demand_id, self.pk])


# --- Dispute mediation ---------------------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MediationCase(models.Model):
    """矛盾纠纷调解: parties, mediators, sessions, outcome and agreement, follow-up of fulfilment."""

    ref = models.CharField(_("reference"), max_length=30, unique=True)
    title = models.CharField(_("subject"), max_length=200, blank=True)
    demand = models.ForeignKey(
        Demand, verbose_name=_("demand"), null=True, blank=True, on_delete=models.SET_NULL, related_name="mediations"
    )
    org_unit = models.ForeignKey(
        "members.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="mediations", db_index=False
    )
    opened_at = models.DateTimeField(_("opened at"))
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=MediationOutcome.choices, blank=True, default="")
    description = models.TextField(_("description of the dispute"), blank=True)
    parties = models.ManyToManyField("members.Person", verbose_name=_("parties"), blank=True, related_name="mediation_parties")
    other_parties = models.CharField(
        _("other parties"), max_length=300, blank=True, help_text=_("Parties who are not in the people records.")
    )
    mediators = models.ManyToManyField("members.Person", verbose_name=_("mediators"), blank=True, related_name="mediations_led")
    agreement = models.TextField(_("agreement"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("mediation case")
        verbose_name_plural = _("mediation cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(concluded_at__isnull=True, outcome="") | (Q(concluded_at__isnull=False) & ~Q(outcome="")),
                name="mediation_outcome_iff_concluded",
            ),
        ]
        indexes = [
            models.Index(fields=["org_unit", "-opened_at"], name="mediation_org_opened"),
            models.Index(fields=["-opened_at", "-id"], name="mediation_opened"),
            models.Index(fields=["concluded_at"], name="mediation_concluded"),
            models.Index(fields=["outcome", "-opened_at"], name="mediation_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}".strip()

    def get_absolute_url(self) -> str:
        return id_url("demands:mediation_detail", self.pk)

    @property
    def is_open(self) -> bool:
        return self.concluded_at is None


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MediationSession(models.Model):
    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    notes = models.TextField(_("notes"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    scope = ScopeSpec(org="case__org_unit")

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["held_at", "id"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MediationFollowUp(models.Model):
    """Follow-up of the agreement's fulfilment (回访履约)."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="follow_ups")
    checked_on = models.DateField(_("checked on"))
    fulfilment = models.CharField(_("fulfilment"), max_length=20, choices=Fulfilment.choices)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    scope = ScopeSpec(org="case__org_unit")

    class Meta:
        verbose_name = _("fulfilment follow-up")
        verbose_name_plural = _("fulfilment follow-ups")
        ordering = ["checked_on", "id"]


# --- Life events and visits -------------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), model_name="LifeEventHistory")
class LifeEvent(models.Model):
    """五必访 trigger: the person must be visited by `visit_due_on` (event_date + 7 days)."""

    ref = models.CharField(_("reference"), max_length=30, unique=True)
    person = models.ForeignKey("members.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="life_events")
    kind = models.CharField(_("kind"), max_length=20, choices=LifeEventKind.choices)
    event_date = models.DateField(_("date"))
    visit_due_on = models.DateField(_("visit due by"), editable=False)
    # The first visit's date, empty until someone visits. Kept by the trigger on the visits'
    # table (migration 0021), whichever way a visit is written: the due-visit lists and counts
    # then read the few events not visited through a partial index instead of looking for a
    # visit of every event in scope.
    visited_on = models.DateField(_("first visited on"), null=True, blank=True, editable=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="person__org_unit", owner="person")

    class Meta:
        verbose_name = _("life event")
        verbose_name_plural = _("life events")
        ordering = ["-event_date", "-id"]
        indexes = [
            models.Index(fields=["person", "-event_date"], name="life_event_person_date"),
            models.Index(fields=["-event_date", "-id"], name="life_event_date"),
            models.Index(fields=["visit_due_on"], name="life_event_visit_due"),
            models.Index(fields=["visit_due_on"], name="life_event_not_visited", condition=Q(visited_on__isnull=True)),
            models.Index(fields=["kind", "-event_date"], name="life_event_kind_date"),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} {self.get_kind_display()} {self.event_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return id_url("demands:lifeevent_detail", self.pk)

    @staticmethod
    def due_on(event_date: datetime.date) -> datetime.date:
        return event_date + datetime.timedelta(days=MUST_VISIT_DAYS)

    def save(self, *args, **kwargs) -> None:
        self.visit_due_on = self.due_on(self.event_date)
        if kwargs.get("update_fields") is not None and "event_date" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "visit_due_on"}
        super().save(*args, **kwargs)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Visit(models.Model):
    """走访 / 民情日记: who visited whom, when, why, what was heard."""

    ref = models.CharField(_("reference"), max_length=30, unique=True)
    person = models.ForeignKey("members.Person", verbose_name=_("person visited"), on_delete=models.PROTECT, related_name="visits")
    visitor = models.ForeignKey("members.Person", verbose_name=_("visitor"), on_delete=models.PROTECT, related_name="visits_made")
    visited_on = models.DateField(_("visited on"))
    kind = models.CharField(_("kind"), max_length=20, choices=VisitKind.choices, default=VisitKind.ROUTINE)
    life_event = models.ForeignKey(
        LifeEvent, verbose_name=_("life event"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    notes = models.TextField(_("notes"), blank=True)
    # A hardship visit (困难帮扶走访) belongs to the household it was made for (members/hardship/).
    hardship_household = models.ForeignKey(
        "members.HardshipHousehold", verbose_name=_("hardship household"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="visits",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope = ScopeSpec(org="person__org_unit")

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["person", "-visited_on"], name="visit_person_date"),
            models.Index(fields=["-visited_on", "-id"], name="visit_date"),
            models.Index(fields=["visitor", "-visited_on"], name="visit_visitor_date"),
            models.Index(fields=["kind", "-visited_on"], name="visit_kind_date"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.person.name} {self.visited_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return id_url("demands:visit_detail", self.pk)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class VisitPhoto(models.Model):
    """A photo or document of a visit (served only through a scope check)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=upload_path, validators=[validate_upload])
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    scope = ScopeSpec(org="visit__person__org_unit")

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return is_image(self.original_name)

    def get_absolute_url(self) -> str:
        return reverse("demands:visit_photo", args=[self.visit_id, self.pk])

class ChainCheckpoint(models.Model):
    """A signed statement "on `signed_at`, event #`seq` of this demand had hash `head`", written
    daily (demands.tasks.sign_chain_checkpoints) for every demand whose chain grew. The HMAC uses
    CHAIN_SIGNING_KEY, which is not in the database: someone who rewrites events and recomputes
    the unkeyed chain cannot write a matching checkpoint (demands.chain.verify_checkpoints)."""

    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="+", db_index=False)
    seq = models.PositiveIntegerField()
    head = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    signature = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("chain checkpoint")
        constraints = [models.UniqueConstraint(fields=["demand", "seq"], name="chain_checkpoint_once")]

    def __str__(self) -> str:
        return f"{self.demand_id}#{self.seq} {self.signed_at:%Y-%m-%d}"


# --- History of many-to-many links (portal/history_links.py) ------------------------------------
track_links(Demand.cooperating_units, "DemandCooperatingUnitEvent")
track_links(MediationCase.parties, "MediationPartyEvent")
track_links(MediationCase.mediators, "MediationMediatorEvent")


# --- Text model (suggested category, urgency, lead unit) -------------------------------------------
class TextModelSource(models.TextChoices):
    CORPUS = "corpus", _("cold-start corpus shipped with the portal")
    HISTORY = "history", _("this deployment's classified demands")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["blob"])
class DemandTextModel(models.Model):
    """One trained version of the demand text model (demands/textmodel.py), with how it scored on
    its held-out split. Exactly one version is current; a retrain that scores worse than the
    current version on the same held-out split is kept for the record but not promoted."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    source = models.CharField(_("trained on"), max_length=10, choices=TextModelSource.choices)
    trained_at = models.DateTimeField(_("trained at"))
    training_size = models.PositiveIntegerField(_("training size"))
    heldout_size = models.PositiveIntegerField(_("held-out size"))
    accuracy = models.FloatField(_("held-out accuracy"))
    macro_f1 = models.FloatField(_("held-out macro-F1"))
    previous_macro_f1 = models.FloatField(
        _("current version's macro-F1 on the same split"), null=True, blank=True,
    )
    lead_unit_size = models.PositiveIntegerField(_("demands with a lead unit"), default=0)
    duration_ms = models.PositiveIntegerField(_("training time (ms)"), default=0)
    is_current = models.BooleanField(_("current"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The pickled demands.textmodel.TextModel; only ever written by the training service.
    blob = models.BinaryField(editable=False)

    # Reference data: administrators only (no scope reaches it).
    scope = ScopeSpec()

    class Meta:
        verbose_name = _("demand text model")
        verbose_name_plural = _("demand text models")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="text_model_one_current")]

    def __str__(self) -> str:
        return f"v{self.version} ({self.get_source_display()})"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PriorityWeights(models.Model):
    """The weights of the service priority list (服务优先级清单), set by administrators. One row;
    demands/priority.py holds the formula."""

    urgency = models.PositiveSmallIntegerField(_("weight of urgency"), default=30, validators=[MaxValueValidator(100)])
    tone = models.PositiveSmallIntegerField(_("weight of tone"), default=20, validators=[MaxValueValidator(100)])
    repeats = models.PositiveSmallIntegerField(_("weight of repeats"), default=20, validators=[MaxValueValidator(100)])
    deadline = models.PositiveSmallIntegerField(_("weight of SLA time left"), default=20, validators=[MaxValueValidator(100)])
    vulnerable = models.PositiveSmallIntegerField(_("weight of vulnerable groups"), default=10, validators=[MaxValueValidator(100)])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Reference data: administrators only (no scope reaches it).
    scope = ScopeSpec()

    class Meta:
        verbose_name = _("priority weights")
        verbose_name_plural = _("priority weights")

    def __str__(self) -> str:
        return str(_("priority weights"))

    @classmethod
    def load(cls) -> PriorityWeights:
        return cls.objects.order_by("pk").first() or cls()


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class HotTopic(models.Model):
    """热点诉求: a cluster of similar demands of one unit (with its sub-units) in one month, with its
    key words, size and the size of the same topic the month before. Computed by the beat
    (demands/hot_topics.py), never on page load."""

    period = models.CharField(_("period"), max_length=7)  # YYYY-MM
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(_("rank"))
    key_words = models.JSONField(_("key words"), default=list)
    size = models.PositiveIntegerField(_("demands"))
    previous_size = models.PositiveIntegerField(_("demands the month before"))
    demand_ids = models.JSONField(default=list)  # the cluster's demands, for the drill-down
    computed_at = models.DateTimeField(_("computed at"))

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("hot topic")
        verbose_name_plural = _("hot topics")
        ordering = ["-period", "org_unit", "rank"]
        constraints = [models.UniqueConstraint(fields=["period", "org_unit", "rank"], name="hot_topic_once")]

    def __str__(self) -> str:
        return f"{self.period} {'、'.join(self.key_words[:3])}"

    @property
    def growth(self) -> float | None:
        """Relative growth against the month before; None when the topic is new."""
        return (self.size - self.previous_size) / self.previous_size if self.previous_size else None


class SuggestionStage(models.TextChoices):
    INTAKE = "intake", _("at intake")
    ACCEPT = "accept", _("at acceptance")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class DemandSuggestion(models.Model):
    """What the text model suggested for a demand at one stage (the intake form, the acceptance)
    and whether the human took each part. The human's choice is what the demand holds; this only
    records the suggestion beside it (text_services.record_suggestion)."""

    demand = models.ForeignKey(Demand, verbose_name=_("demand"), on_delete=models.CASCADE, related_name="suggestions")
    stage = models.CharField(_("stage"), max_length=10, choices=SuggestionStage.choices)
    model_version = models.PositiveIntegerField(_("model version"))
    category = models.ForeignKey(DemandCategory, verbose_name=_("suggested category"), on_delete=models.SET_NULL,
                                 null=True, related_name="+")
    category_confidence = models.FloatField(_("confidence"))
    urgency = models.CharField(_("suggested urgency"), max_length=10, choices=Urgency.choices)
    tone = models.CharField(_("tone"), max_length=20)
    lead_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("suggested lead unit"), on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    lead_unit_confidence = models.FloatField(_("lead unit confidence"), null=True, blank=True)
    category_taken = models.BooleanField(_("category taken"))
    urgency_taken = models.BooleanField(_("urgency taken"))
    # None: no lead unit was suggested (or none is chosen at this stage).
    lead_unit_taken = models.BooleanField(_("lead unit taken"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    scope = ScopeSpec(org="demand__org_unit", owner="demand__submitter", assignee="demand__handler")

    class Meta:
        verbose_name = _("demand suggestion")
        verbose_name_plural = _("demand suggestions")
        ordering = ["demand", "recorded_at"]
        constraints = [models.UniqueConstraint(fields=["demand", "stage"], name="demand_suggestion_once_per_stage")]
        indexes = [models.Index(fields=["stage", "model_version"], name="demand_suggestion_stage")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.stage} v{self.model_version}"


class DemandPriority(models.Model):
    """服务优先级清单 as last computed (demands/priority.py, by the beat and after a change of the
    weights): one row per ranked open demand. Derived from tracked records and recomputed whole,
    so it has no history of its own."""

    demand = models.OneToOneField(Demand, verbose_name=_("demand"), on_delete=models.CASCADE, primary_key=True,
                                  related_name="priority")
    score = models.FloatField(_("score"))
    factors = models.JSONField(_("factors"), default=dict)
    tone = models.CharField(_("tone"), max_length=20)
    repeats = models.PositiveIntegerField(_("repeats"))
    vulnerable = models.BooleanField(_("vulnerable group"))
    computed_at = models.DateTimeField(_("computed at"))

    scope = ScopeSpec(org="demand__org_unit", owner="demand__submitter", assignee="demand__handler")

    class Meta:
        verbose_name = _("demand priority")
        verbose_name_plural = _("demand priorities")
        indexes = [models.Index(fields=["-score"], name="demand_priority_score")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.score}"


class VisitHeatCell(models.Model):
    """需求热力图 as last computed (demands/heatmap.py, by the beat): visits of one month whose person
    belongs to `org_unit`, in one category (None: all the unit's counted visits). Pages add the
    cells of a row's sub-units up. Derived and recomputed whole, so it has no history of its own."""

    period = models.CharField(_("period"), max_length=7)  # YYYY-MM
    org_unit = models.ForeignKey("members.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(DemandCategory, verbose_name=_("category"), on_delete=models.CASCADE, null=True,
                                 related_name="+")
    visits = models.PositiveIntegerField(_("visits"))
    # Of those, visits counted in the category the text model read in their notes (no demand recorded).
    classified = models.PositiveIntegerField(_("classified by the text model"))
    computed_at = models.DateTimeField(_("computed at"))

    scope = ScopeSpec(org="org_unit")

    class Meta:
        verbose_name = _("heat map cell")
        verbose_name_plural = _("heat map cells")
        indexes = [models.Index(fields=["period", "org_unit"], name="visit_heat_period_unit")]

    def __str__(self) -> str:
        return f"{self.period} {self.org_unit_id} {self.category_id}: {self.visits}"
