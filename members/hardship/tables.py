import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.numbers import fixed

from .choices import Level, Status
from .models import AssistanceRecord, HardshipHousehold

STATUS_CLASS = {Status.REGISTERED: "text-bg-warning", Status.RELIEVED: "text-bg-success", Status.CANCELLED: "text-bg-secondary"}


def household_status_badge(record) -> str:
    return format_html('<span class="badge {}">{}</span>', STATUS_CLASS.get(record.status, "text-bg-light"),
                       record.get_status_display())


class HouseholdTable(tables.Table):
    ref = tables.Column(linkify=True)
    person = tables.Column(verbose_name=_("person"), order_by=("person__name",))
    unit = tables.Column(verbose_name=_("org unit"), accessor="person__org_unit__name", order_by=("person__org_unit__path",))
    status = tables.Column()
    liaison = tables.Column(verbose_name=_("liaison"), order_by=("liaison__username",))

    class Meta:
        model = HardshipHousehold
        fields = ["ref", "person", "unit", "reason", "level", "registered_on", "status", "next_review_on", "liaison"]
        attrs = {"class": "table table-hover table-sm align-middle table-cards"}

    def render_person(self, record):
        return record.person.name

    def render_status(self, record):
        return household_status_badge(record)

    def render_level(self, record, value):
        if record.level == Level.SEVERE:
            return format_html('<span class="badge text-bg-danger">{}</span>', value)
        return value

    def render_liaison(self, record):
        return record.liaison.display_name


class DueReviewTable(HouseholdTable):
    class Meta(HouseholdTable.Meta):
        fields = ["next_review_on", "ref", "person", "unit", "level", "last_review_on", "liaison"]
        exclude = ["status", "reason", "registered_on"]


class AssistanceTable(tables.Table):
    ref = tables.Column(linkify=True)
    household = tables.Column(verbose_name=_("household"), order_by=("household__ref",))
    unit = tables.Column(verbose_name=_("org unit"), accessor="household__person__org_unit__name",
                         order_by=("household__person__org_unit__path",))
    amount = tables.Column(attrs={"td": {"class": "text-end"}})

    class Meta:
        model = AssistanceRecord
        fields = ["ref", "given_on", "household", "unit", "kind", "amount", "service"]
        attrs = {"class": "table table-hover table-sm align-middle table-cards"}

    def render_household(self, record):
        return f"{record.household.ref} {record.household.person.name}"

    def render_amount(self, value):
        return fixed(value, 2)

    def value_amount(self, value):
        return value
