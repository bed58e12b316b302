import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from portal.export import readable

from . import sla
from .choices import Colour
from .models import Demand, DemandCategory, LifeEvent, MediationCase, SlaPolicy, Visit, WorkCalendarDay

STATUS_BADGE = {
    "pending": "text-bg-warning",
    "accepted": "text-bg-info",
    "in_progress": "text-bg-primary",
    "resolved": "text-bg-success",
    "visited": "text-bg-success",
    "closed": "text-bg-secondary",
    "rejected": "text-bg-dark",
    "withdrawn": "text-bg-light border",
}
COLOUR_BADGE = {Colour.RED: "badge-red", Colour.YELLOW: "badge-yellow", Colour.BLUE: "badge-blue"}


def status_badge(record, label: str | None = None) -> str:
    """`label`: the status's label when the caller has it already (a table's cell value)."""
    return format_html(
        '<span class="badge {}" data-testid="status" data-status="{}">{}</span>',
        STATUS_BADGE.get(record.status, "text-bg-light"), record.status, label or record.get_status_display(),
    )


def demand_badges(demand) -> dict:
    """The status and deadline badges of the demand page's header."""
    from .sla import current_thresholds

    return {"status_badge": status_badge(demand), "deadline_badge": deadline_badge(demand, current_thresholds())}


def deadline_badge(record, limits) -> str:
    """The colour of the nearest open deadline, with the deadline itself."""
    colour = sla.colour(record, limits) if limits is not None else Colour.NONE
    deadlines = sla.open_deadlines(record)
    if not deadlines:
        return mark_safe('<span class="text-muted" data-testid="deadline" data-colour="none">—</span>')
    kind, due = min(deadlines, key=lambda d: d[1])
    label = _("response") if kind == "response" else _("resolution")
    badge = format_html(
        '<span class="badge {}" data-testid="deadline" data-colour="{}" title="{}">{}</span> <small class="text-nowrap">{}</small>',
        COLOUR_BADGE.get(colour, "text-bg-light"), colour, Colour(colour).label, label,
        timezone.localtime(due).strftime("%m-%d %H:%M"),
    )
    if getattr(record, "deadline_unconfirmed", False):
        badge += unconfirmed_badge()
    return badge


def unconfirmed_badge() -> str:
    """The deadline was counted on a calendar year not confirmed yet (demands.calendar)."""
    return format_html(
        ' <span class="badge text-bg-warning text-nowrap" data-testid="unconfirmed-calendar" title="{}">'
        '<i class="bi bi-calendar-x"></i> {}</span>',
        _("Computed on a work calendar that is not confirmed yet: next year's official holidays are not loaded."),
        _("Calendar unconfirmed"),
    )


class DemandTable(tables.Table):
    ref = tables.Column(linkify=True, attrs={"td": {"class": "text-nowrap"}})
    title = tables.Column(linkify=True, attrs={"td": {"class": "demand-title"}})
    status = tables.Column()
    deadline = tables.Column(verbose_name=capfirst(_("deadline")), empty_values=(), order_by=("resolution_due_at",))
    category = tables.Column(order_by=("category__sort_order",))
    org_unit = tables.Column(order_by=("org_unit__path",))
    submitter = tables.Column(order_by=("submitter__employee_no",))
    handler = tables.Column(orderable=False)
    received_at = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta:
        model = Demand
        # Reference, title and the deadline colour first: that is what fits on a phone.
        fields = ["ref", "title", "deadline", "status", "category", "urgency", "org_unit", "submitter", "handler", "received_at"]
        attrs = {"class": "table table-hover table-sm align-middle", "data-testid": "demand-table"}
        row_attrs = {"data-ref": lambda record: record.ref}

    def __init__(self, *args, limits=None, **kwargs):
        self.limits = limits
        super().__init__(*args, **kwargs)

    def render_status(self, value, record):
        return status_badge(record, value)

    def render_deadline(self, record):
        return deadline_badge(record, self.limits)

    def value_deadline(self, record):
        deadlines = sla.open_deadlines(record)
        return timezone.localtime(min(d[1] for d in deadlines)).strftime("%Y-%m-%d %H:%M") if deadlines else ""

    def render_submitter(self, record):
        return record.submitter.name if record.submitter_id else _("Anonymous")

    def value_submitter(self, record):
        return record.submitter.name if record.submitter_id else _("Anonymous")

    def render_handler(self, record):
        return record.handler.display_name if record.handler_id else "—"


class MediationTable(tables.Table):
    ref = tables.Column(linkify=True)
    title = tables.Column(linkify=True)
    org_unit = tables.Column(order_by=("org_unit__path",))
    opened_at = tables.DateTimeColumn(format="Y-m-d")
    concluded_at = tables.DateTimeColumn(format="Y-m-d")

    class Meta:
        model = MediationCase
        fields = ["ref", "title", "org_unit", "opened_at", "concluded_at", "outcome"]
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_outcome(self, record):
        if not record.outcome:
            return format_html('<span class="badge text-bg-warning">{}</span>', _("Open"))
        css = {"success": "text-bg-success", "failed": "text-bg-danger"}.get(record.outcome, "text-bg-secondary")
        return format_html('<span class="badge {}">{}</span>', css, record.get_outcome_display())


class VisitTable(tables.Table):
    ref = tables.Column(linkify=True)
    person = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("person__employee_no",))
    visitor = tables.Column(order_by=("visitor__employee_no",))
    visited_on = tables.DateColumn(format="Y-m-d")
    org_unit = tables.Column(verbose_name=capfirst(_("org unit")), accessor="person__org_unit", order_by=("person__org_unit__path",))

    class Meta:
        model = Visit
        fields = ["ref", "visited_on", "person", "org_unit", "kind", "visitor"]
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_person(self, record):
        return record.person.name

    def render_visitor(self, record):
        return record.visitor.name


class LifeEventTable(tables.Table):
    ref = tables.Column(linkify=True)
    person = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("person__employee_no",))
    org_unit = tables.Column(verbose_name=capfirst(_("org unit")), accessor="person__org_unit", order_by=("person__org_unit__path",))
    event_date = tables.DateColumn(format="Y-m-d")
    visit_due_on = tables.DateColumn(format="Y-m-d")
    visited = tables.Column(verbose_name=capfirst(_("visited")), accessor="visited_on", empty_values=(), orderable=False)

    class Meta:
        model = LifeEvent
        fields = ["ref", "person", "org_unit", "kind", "event_date", "visit_due_on", "visited"]
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_person(self, record):
        return record.person.name

    def render_visited(self, record, value):
        if value:
            return format_html('<span class="badge text-bg-success">{}</span>', _("visited"))
        today = timezone.localdate()
        if record.visit_due_on < today:
            return format_html('<span class="badge badge-red" data-colour="red">{}</span>', _("overdue"))
        if (record.visit_due_on - today).days <= 2:
            return format_html('<span class="badge badge-yellow" data-colour="yellow">{}</span>', _("due soon"))
        return format_html('<span class="badge badge-blue" data-colour="blue">{}</span>', _("to visit"))

    def value_visited(self, record, value):
        return "yes" if value else "no"


class CategoryTable(tables.Table):
    code = tables.Column(linkify=("demands:category_edit", {"pk": tables.A("pk")}))

    class Meta:
        model = DemandCategory
        fields = ["code", "name", "sort_order", "is_active"]
        attrs = {"class": "table table-hover table-sm align-middle"}


class SlaPolicyTable(tables.Table):
    category = tables.Column(linkify=("demands:slapolicy_edit", {"pk": tables.A("pk")}), default=_("all categories"),
                             order_by=("category__sort_order",))

    class Meta:
        model = SlaPolicy
        fields = ["category", "urgency", "response_hours", "resolution_days"]
        attrs = {"class": "table table-hover table-sm align-middle"}


class WorkCalendarDayTable(tables.Table):
    date = tables.DateColumn(format="Y-m-d", linkify=("demands:calendar_edit", {"pk": tables.A("pk")}))
    delete = tables.LinkColumn("demands:calendar_delete", args=[tables.A("pk")], text="×", orderable=False, verbose_name="")

    class Meta:
        model = WorkCalendarDay
        fields = ["date", "is_workday", "note"]
        attrs = {"class": "table table-hover table-sm align-middle"}


# --- Readable workbooks (?export=readable) -------------------------------------------------------------
def _name(value):
    return getattr(value, "display_name", None) or getattr(value, "name", None) or value


DEMAND_READABLE = (
    readable(Demand, "ref", width=16),
    readable(Demand, "title", width=30),
    readable(Demand, "status", width=10),
    readable(Demand, "category__name"),
    readable(Demand, "urgency", width=10),
    readable(Demand, "channel"),
    readable(Demand, "org_unit__name", width=20),
    readable(Demand, "submitter__name", transform=lambda name: name or _("anonymous"), width=10),
    readable(Demand, "received_at", width=17),
    readable(Demand, "response_due_at", width=17),
    readable(Demand, "first_response_at", width=17),
    readable(Demand, "resolution_due_at", width=17),
    readable(Demand, "resolved_at", width=17),
    readable(Demand, "lead_unit__name", width=20),
    readable(Demand, "handler", transform=_name, related=("handler__person",), width=10),
    readable(Demand, "rating", width=8),
    readable(Demand, "merged_count", width=8),
)

VISIT_READABLE = (
    readable(Visit, "ref", width=16),
    readable(Visit, "visited_on", width=12),
    readable(Visit, "kind", width=10),
    readable(Visit, "person__name", width=10),
    readable(Visit, "person__employee_no", _("employee number"), width=12),
    readable(Visit, "person__org_unit__name", _("org unit"), width=20),
    readable(Visit, "visitor__name", width=10),
    readable(Visit, "life_event", transform=lambda event: event.get_kind_display() if event else None),
    readable(Visit, "notes", width=40),
)
