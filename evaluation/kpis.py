"""The computed KPIs of kpis.md, declared once.

Each KPI names its records, how they attach to the org tree, the period window, the conditions of
its denominator and numerator. The same declaration produces

* the Django `Q` filters of the drill-down lists (`denominator_q`, `numerator_q`), and
* the SQL of the engine (evaluation/engine.py), which compiles the same `Q` objects through the ORM,

so the figures and the lists behind them cannot drift apart.

Conventions (kpis.md "Common rules"): periods start and end at 00:00 Asia/Shanghai; `as_of` is
min(end, moment); anything stamped at or after as_of has not happened yet; a date-only deadline d
falls due at 00:00 local on d + 1; a missing timestamp is late; withdrawn and rejected demands
count only in demand_intake.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.apps import apps
from django.db.models import DateField, DateTimeField, Exists, F, Func, Min, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from activities.choices import EDUCATION_TYPES, ActivityStatus, AttendanceStatus
from demands.choices import MUST_VISIT_DAYS, MediationOutcome, Status as DemandStatus
from members.choices import PARTY_MEMBER_STATUSES, OrgKind
from portal.scope import subtree_q

from .choices import Direction, ValueFormat
from .periods import LOCAL_TZ, local_date

RATE, MEAN, COUNT = "rate", "mean", "count"

# The codes of other apps the definitions rely on come from their choices classes (kpis.md).
CLOSED_OUT_STATUSES = (DemandStatus.WITHDRAWN, DemandStatus.REJECTED)  # count only in demand_intake
MEDIATION_OUTCOMES = (MediationOutcome.SUCCESS, MediationOutcome.FAILED, MediationOutcome.REFERRED)


@dataclass(frozen=True)
class Bounds:
    """The moments of one period computed at one moment: [start, end) and as_of = min(end, moment)."""

    start: datetime.datetime
    end: datetime.datetime
    as_of: datetime.datetime

    @classmethod
    def of(cls, period, as_of: datetime.datetime) -> Bounds:
        return cls(period.start, period.end, period.as_of(as_of))

    @property
    def start_date(self) -> datetime.date:
        return local_date(self.start)

    @property
    def end_date(self) -> datetime.date:
        return local_date(self.end)

    @property
    def as_of_date(self) -> datetime.date:
        """The local date of as_of: its 00:00 is the last midnight at or before as_of."""
        return local_date(self.as_of)

    @property
    def year_start(self) -> datetime.datetime:
        local = self.start.astimezone(LOCAL_TZ)
        return datetime.datetime(local.year, 1, 1, tzinfo=LOCAL_TZ)


# --- SQL helpers shared by the filters and the engine ------------------------------------------------
class AddDays(Func):
    """date + n days (a date)."""

    template = "(%(expressions)s + %(days)d)"
    output_field = DateField()

    def __init__(self, expression, days: int, **extra):
        super().__init__(expression, days=int(days), **extra)


class LocalMidnight(Func):
    """00:00 Asia/Shanghai on (date + n days), as a moment: when a date deadline falls due."""

    template = "((%(expressions)s + %(days)d)::timestamp AT TIME ZONE 'Asia/Shanghai')"
    output_field = DateTimeField()

    def __init__(self, expression, days: int = 0, **extra):
        super().__init__(expression, days=int(days), **extra)


# --- Windows: which records of a period --------------------------------------------------------------
@dataclass(frozen=True)
class MomentWindow:
    """Records whose timestamp `field` lies in [start(P), as_of(P))."""

    field: str

    def q(self, b: Bounds) -> Q:
        return Q(**{f"{self.field}__gte": b.start, f"{self.field}__lt": b.as_of})


@dataclass(frozen=True)
class DateWindow:
    """Records whose date `field` lies in P and whose deadline (`field` + `deadline_days`, a date
    deadline, due at 00:00 local the day after) is due before or at as_of."""

    field: str
    deadline_days: int = 0

    @property
    def due_offset(self) -> int:
        """Days from `field` to the due moment's date: due = 00:00 on field + due_offset."""
        return self.deadline_days + 1

    def q(self, b: Bounds) -> Q:
        # 00:00 on (d + due_offset) ≤ as_of  ⇔  d + due_offset ≤ local date of as_of
        last = b.as_of_date - datetime.timedelta(days=self.due_offset)
        return Q(**{f"{self.field}__gte": b.start_date, f"{self.field}__lt": b.end_date, f"{self.field}__lte": last})


# --- KPIs over records ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordKpi:
    code: str
    name: str
    definition: str
    model: str  # "app_label.Model"
    org: str  # lookup of the record's OrgUnit (kpis.md "Scope")
    window: MomentWindow | DateWindow
    base: Q = field(default_factory=Q)  # period-independent conditions of the denominator
    # Period-independent conditions of the numerator (a callable when it needs other models).
    numerator: Q | Callable[[], Q] | None = None
    before: tuple[str, ...] = ()  # numerator timestamps that count only if before as_of
    measure: str = RATE
    mean_of: str | None = None
    value_format: str = ValueFormat.RATE
    direction: str = Direction.HIGHER
    sort_order: int = 100
    numerator_label: str = _("numerator")
    denominator_label: str = _("denominator")
    # Columns shown by the drill-down list, in order.
    columns: tuple[str, ...] = ()

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def denominator_q(self, b: Bounds) -> Q:
        return self.window.q(b) & self.base

    @property
    def numerator_condition(self) -> Q | None:
        return self.numerator() if callable(self.numerator) else self.numerator

    def numerator_q(self, b: Bounds) -> Q:
        q = self.denominator_q(b)
        if self.numerator is not None:
            q &= self.numerator_condition
        for name in self.before:
            q &= Q(**{f"{name}__lt": b.as_of})
        return q

    def unit_q(self, unit) -> Q:
        """Records attached to `unit` or any descendant (materialised path prefix)."""
        return subtree_q(unit, self.org)

    @property
    def has_numerator(self) -> bool:
        return self.measure != COUNT

    cumulative = False  # a change counts in the periods of its moments only

    @property
    def moments(self) -> dict[str, tuple[str, ...]]:
        """model label → the timestamp/date fields that place its records in periods."""
        return {self.model: (self.window.field, *self.before)}


# --- KPIs that are not a filter over one table ------------------------------------------------------
def education_attendance(*, since: datetime.datetime, before: datetime.datetime):
    """Attendance that counts for education coverage: present at a held education activity with
    held_at in [since, before)."""
    Attendance = apps.get_model("activities", "Attendance")
    return Attendance.objects.filter(
        status=AttendanceStatus.PRESENT, activity__status=ActivityStatus.HELD, activity__type__in=EDUCATION_TYPES,
        activity__held_at__gte=since, activity__held_at__lt=before,
    )


@dataclass(frozen=True)
class EducationKpi:
    """Party members in scope (denominator, no period) and those who attended at least one held
    education activity from 1 January of P's year to as_of (numerator)."""

    code: str
    name: str
    definition: str
    model: str = "members.Person"
    org: str = "org_unit"
    measure: str = RATE
    value_format: str = ValueFormat.RATE
    direction: str = Direction.HIGHER
    sort_order: int = 100
    numerator_label: str = _("members who attended")
    denominator_label: str = _("party members")
    columns: tuple[str, ...] = ()
    has_numerator: bool = True

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def denominator_q(self, b: Bounds) -> Q:
        return Q(political_status__in=PARTY_MEMBER_STATUSES)

    def numerator_q(self, b: Bounds) -> Q:
        attended = education_attendance(since=b.year_start, before=b.as_of).filter(person=OuterRef("pk"))
        return self.denominator_q(b) & Q(Exists(attended))

    def unit_q(self, unit) -> Q:
        return subtree_q(unit, "org_unit")

    # An attendance counts from its activity's time to the end of the year (the numerator runs
    # from 1 January to as_of).
    cumulative = True
    moments = {"activities.Activity": ("held_at",)}

    @staticmethod
    def first_attendance(*, since, before):
        """Per person, the first counting attendance in [since, before) (the engine's input)."""
        return (
            education_attendance(since=since, before=before)
            .values("person_id").annotate(first=Min("activity__held_at")).order_by()
        )


@dataclass(frozen=True)
class MeetingKpi:
    """三会一课 windows per branch in scope (kpis.md "Meeting windows"): denominator the windows
    that end inside P and have ended by as_of, numerator those with a held meeting of the type."""

    code: str
    name: str
    definition: str
    model: str = "members.OrgUnit"
    measure: str = RATE
    value_format: str = ValueFormat.RATE
    direction: str = Direction.HIGHER
    sort_order: int = 100
    numerator_label: str = _("windows met")
    denominator_label: str = _("required windows")
    columns: tuple[str, ...] = ()
    has_numerator: bool = True

    cumulative = False
    moments = {"activities.Activity": ("held_at",)}

    @staticmethod
    def windows(b: Bounds):
        """The counting windows of one branch (activities.compliance, the rule kpis.md states)."""
        from activities.compliance import counting_windows

        return counting_windows(b.start, b.end, b.as_of)

    @staticmethod
    def branches_q(unit) -> Q:
        return subtree_q(unit) & Q(kind=OrgKind.BRANCH)


# --- The catalogue of kpis.md ----------------------------------------------------------------------------
NOT_CLOSED_OUT = ~Q(status__in=CLOSED_OUT_STATUSES)

COMPUTED_KPIS: list = [
    RecordKpi(
        code="demand_intake",
        name=_("Demands received"),
        definition=_("Demands with received_at in [start of period, as of), whatever their status "
                     "(withdrawn and not-accepted demands count here only)."),
        model="demands.Demand", org="org_unit",
        window=MomentWindow("received_at"),
        measure=COUNT, value_format=ValueFormat.COUNT, sort_order=10,
        denominator_label=_("demands received"),
        columns=("ref", "title", "org_unit", "category", "status", "received_at"),
    ),
    RecordKpi(
        code="response_on_time_rate",
        name=_("On-time response rate"),
        definition=_("Of the demands whose response deadline falls in [start of period, as of) "
                     "(not withdrawn or rejected), the share first answered before as of and no later "
                     "than the deadline. Never answered counts as late."),
        model="demands.Demand", org="org_unit",
        window=MomentWindow("response_due_at"), base=NOT_CLOSED_OUT,
        numerator=Q(first_response_at__lte=F("response_due_at")), before=("first_response_at",),
        sort_order=20,
        numerator_label=_("answered on time"), denominator_label=_("response deadlines due"),
        columns=("ref", "title", "org_unit", "status", "response_due_at", "first_response_at"),
    ),
    RecordKpi(
        code="resolution_on_time_rate",
        name=_("On-time resolution rate"),
        definition=_("Of the demands whose resolution deadline falls in [start of period, as of) "
                     "(not withdrawn or rejected), the share resolved before as of and no later than "
                     "the deadline. Never resolved counts as late."),
        model="demands.Demand", org="org_unit",
        window=MomentWindow("resolution_due_at"), base=NOT_CLOSED_OUT,
        numerator=Q(resolved_at__lte=F("resolution_due_at")), before=("resolved_at",),
        sort_order=30,
        numerator_label=_("resolved on time"), denominator_label=_("resolution deadlines due"),
        columns=("ref", "title", "org_unit", "status", "resolution_due_at", "resolved_at"),
    ),
    RecordKpi(
        code="satisfaction_rate",
        name=_("Satisfaction rate"),
        definition=_("Of the rated demands whose return visit falls in [start of period, as of) "
                     "(not withdrawn or rejected), the share rated 4 or 5."),
        model="demands.Demand", org="org_unit",
        window=MomentWindow("return_visit_at"), base=NOT_CLOSED_OUT & Q(rating__isnull=False),
        numerator=Q(rating__gte=4),
        sort_order=40,
        numerator_label=_("rated 4 or 5"), denominator_label=_("rated demands"),
        columns=("ref", "title", "org_unit", "status", "return_visit_at", "rating"),
    ),
    RecordKpi(
        code="satisfaction_mean",
        name=_("Mean satisfaction"),
        definition=_("The mean rating (1–5) of the rated demands whose return visit falls in "
                     "[start of period, as of) (not withdrawn or rejected). Numerator: the sum of ratings."),
        model="demands.Demand", org="org_unit",
        window=MomentWindow("return_visit_at"), base=NOT_CLOSED_OUT & Q(rating__isnull=False),
        measure=MEAN, mean_of="rating", value_format=ValueFormat.SCORE, sort_order=50,
        numerator_label=_("sum of ratings"), denominator_label=_("rated demands"),
        columns=("ref", "title", "org_unit", "status", "return_visit_at", "rating"),
    ),
    RecordKpi(
        code="return_visit_rate",
        name=_("Return visit rate"),
        definition=_("Of the demands resolved in [start of period, as of) (not withdrawn or rejected), "
                     "the share with a return visit before as of."),
        model="demands.Demand", org="org_unit",
        window=MomentWindow("resolved_at"), base=NOT_CLOSED_OUT, before=("return_visit_at",),
        sort_order=60,
        numerator_label=_("visited again"), denominator_label=_("demands resolved"),
        columns=("ref", "title", "org_unit", "status", "resolved_at", "return_visit_at"),
    ),
    RecordKpi(
        code="mediation_success_rate",
        name=_("Mediation success rate"),
        definition=_("Of the mediation cases concluded in [start of period, as of) with an outcome "
                     "(settled, not settled, referred), the share settled."),
        model="demands.MediationCase", org="org_unit",
        window=MomentWindow("concluded_at"), base=Q(outcome__in=MEDIATION_OUTCOMES),
        numerator=Q(outcome=MediationOutcome.SUCCESS),
        sort_order=70,
        numerator_label=_("settled"), denominator_label=_("cases concluded"),
        columns=("ref", "title", "org_unit", "opened_at", "concluded_at", "outcome"),
    ),
    MeetingKpi(
        code="meeting_compliance_rate",
        name=_("三会一课 compliance rate"),
        definition=_("Per branch in scope: one window per month for branch committee and party group "
                     "meetings, one per quarter for the general assembly and the party lecture. A window "
                     "counts when it ends inside the period and has ended by as of; it is met by a held "
                     "meeting of its type in the window at the branch or below it."),
        sort_order=80,
    ),
    EducationKpi(
        code="education_coverage_rate",
        name=_("Party education coverage"),
        definition=_("Of the full and probationary party members in scope, the share present at least "
                     "once at a held party lecture, theme party day or study session from 1 January of "
                     "the period's year to as of."),
        sort_order=90,
        columns=("employee_no", "name", "org_unit", "political_status"),
    ),
    RecordKpi(
        code="task_on_time_rate",
        name=_("Responsibility items on time"),
        definition=_("Of the responsibility items whose deadline date lies in the period and is due "
                     "(00:00 the day after the deadline) by as of, the share completed before it was due."),
        model="activities.ResponsibilityItem", org="lead_org_unit",
        window=DateWindow("deadline"),
        numerator=Q(completed_at__lt=LocalMidnight(F("deadline"), 1)),
        sort_order=100,
        numerator_label=_("completed on time"), denominator_label=_("items due"),
        columns=("ref", "title", "lead_org_unit", "deadline", "completed_at", "status"),
    ),
    RecordKpi(
        code="must_visit_on_time_rate",
        name=_("Must-visit on time"),
        definition=_("Of the life events dated in the period whose visit deadline (the date + 7 days) "
                     "is due by as of, the share with a linked visit on or before the date + 7 days."),
        model="demands.LifeEvent", org="person__org_unit",
        window=DateWindow("event_date", MUST_VISIT_DAYS),
        numerator=lambda: Q(Exists(apps.get_model("demands", "Visit").objects.filter(
            life_event=OuterRef("pk"), visited_on__lte=AddDays(OuterRef("event_date"), MUST_VISIT_DAYS),
        ))),
        sort_order=110,
        numerator_label=_("visited in time"), denominator_label=_("visits due"),
        columns=("ref", "person", "kind", "event_date", "visit_due_on"),
    ),
]


class Registry(dict):
    """code → KPI declaration, in catalogue order."""

    @cached_property
    def ordered(self) -> list:
        return sorted(self.values(), key=lambda k: k.sort_order)


REGISTRY = Registry((kpi.code, kpi) for kpi in COMPUTED_KPIS)


def watched_moments(kpis=None) -> dict[str, tuple[tuple[str, ...], bool]]:
    """model label → (the fields whose values place its records in periods, does a change count
    through the end of the year?), derived from the declarations: what evaluation.signals watches."""
    watched: dict[str, tuple[tuple[str, ...], bool]] = {}
    for kpi in COMPUTED_KPIS if kpis is None else kpis:
        for label, fields in kpi.moments.items():
            known, cumulative = watched.get(label, ((), False))
            watched[label] = (tuple(dict.fromkeys((*known, *fields))), cumulative or kpi.cumulative)
    return watched


def get(code: str):
    return REGISTRY[code]


def all_kpis() -> list:
    return REGISTRY.ordered
