import django_tables2 as tables
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from members.models import PointsEntry

from .models import Activity, Project, ResponsibilityItem

COLOUR_BADGES = {"blue": "text-bg-primary", "yellow": "text-bg-warning", "red": "text-bg-danger", "done": "text-bg-success"}


def colour_badge(item) -> str:
    colour = item.colour
    from .choices import Colour

    return format_html('<span class="badge {}" data-colour="{}">{}</span>', COLOUR_BADGES[colour], colour,
                       Colour(colour).label)


def progress_bar(value: int) -> str:
    return format_html(
        '<div class="progress" role="progressbar" style="height:.9rem;min-width:4rem" aria-valuenow="{0}">'
        '<div class="progress-bar bg-danger" style="width:{0}%">{0}%</div></div>', value,
    )


class ActivityTable(tables.Table):
    held_at = tables.DateTimeColumn(format="Y-m-d H:i")
    title = tables.Column(linkify=True)
    org_unit = tables.Column(order_by=("org_unit__path",))
    present = tables.Column(verbose_name=capfirst(_("present")), orderable=False, empty_values=())

    class Meta:
        model = Activity
        fields = ["held_at", "type", "title", "org_unit", "status", "present"]
        attrs = {"class": "table table-hover table-sm align-middle"}
        order_by = ("-held_at",)

    def render_status(self, record, value):
        css = {"planned": "text-bg-info", "held": "text-bg-success", "cancelled": "text-bg-secondary"}[record.status]
        return format_html('<span class="badge {}">{}</span>', css, value)

    def render_present(self, record):
        return f"{getattr(record, 'present_count', 0)}/{getattr(record, 'invited_count', 0)}"

    def value_present(self, record):
        return getattr(record, "present_count", 0)


class ItemTable(tables.Table):
    colour = tables.Column(verbose_name=capfirst(_("colour")), orderable=False, empty_values=())
    ref = tables.Column(linkify=True)
    title = tables.Column(linkify=True)
    lead_org_unit = tables.Column(order_by=("lead_org_unit__path",))
    progress = tables.Column()

    class Meta:
        model = ResponsibilityItem
        fields = ["colour", "ref", "title", "lead_org_unit", "responsible", "deadline", "status", "progress"]
        attrs = {"class": "table table-hover table-sm align-middle"}
        row_attrs = {"data-item": lambda record: record.pk}

    def render_colour(self, record):
        return colour_badge(record)

    def value_colour(self, record):
        return str(record.colour)

    def render_title(self, record, value):
        indent = "↳ " if record.parent_id else ""
        return format_html("{}{}", indent, value)

    def render_progress(self, value):
        return progress_bar(value)

    def value_progress(self, value):
        return value


class ProjectTable(tables.Table):
    name = tables.Column(linkify=True)
    org_unit = tables.Column(order_by=("org_unit__path",))

    class Meta:
        model = Project
        fields = ["ref", "name", "kind", "org_unit", "leader", "stage", "approval", "budget"]
        attrs = {"class": "table table-hover table-sm align-middle"}


class LedgerTable(tables.Table):
    person = tables.Column(linkify=True, order_by=("person__employee_no",))
    org_unit = tables.Column(accessor="person__org_unit__name", verbose_name=capfirst(_("org unit")), orderable=False)

    class Meta:
        model = PointsEntry
        fields = ["awarded_on", "person", "org_unit", "points", "reason", "source", "awarded_by"]
        attrs = {"class": "table table-hover table-sm align-middle"}
        order_by = ("-awarded_on",)

    def render_points(self, value):
        return format_html('<strong class="{}">{}</strong>', "text-danger" if value > 0 else "text-secondary", f"{value:+d}")

    def value_points(self, value):
        return value
