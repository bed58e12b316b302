import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import BranchTerm, MobileMember, Transfer


class TransferTable(tables.Table):
    person = tables.Column(verbose_name=_("person"), linkify=lambda record: record.get_absolute_url(),
                           order_by=("person__employee_no",))
    kind = tables.Column(verbose_name=_("kind of transfer"))
    from_name = tables.Column(verbose_name=_("from"), accessor="from_name", orderable=False)
    to_name = tables.Column(verbose_name=_("to"), accessor="to_name", orderable=False)
    requested_on = tables.DateColumn(verbose_name=_("requested on"), format="Y-m-d")
    status = tables.Column(verbose_name=_("status"))

    class Meta:
        model = Transfer
        fields = ["person", "kind", "from_name", "to_name", "requested_on", "status"]
        order_by = ("-requested_on",)
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_person(self, record):
        return record.person.name

    def value_person(self, record):
        return record.person.employee_no


class MobileMemberTable(tables.Table):
    person = tables.Column(verbose_name=_("person"), linkify=lambda record: record.get_absolute_url(),
                           order_by=("person__employee_no",))
    branch = tables.Column(verbose_name=_("branch"), accessor="person__org_unit__name", order_by=("person__org_unit__path",))
    work_unit = tables.Column(verbose_name=_("work unit"))
    place = tables.Column(verbose_name=_("place"))
    contact = tables.Column(verbose_name=_("contact"), orderable=False)
    started_on = tables.DateColumn(verbose_name=_("from"), format="Y-m-d")
    ended_on = tables.DateColumn(verbose_name=_("until"), format="Y-m-d", default="—")

    class Meta:
        model = MobileMember
        fields = ["person", "branch", "work_unit", "place", "contact", "started_on", "ended_on"]
        order_by = ("-started_on",)
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_person(self, record):
        return record.person.name


class BranchTermTable(tables.Table):
    unit = tables.Column(verbose_name=_("org unit"), linkify=lambda record: record.get_absolute_url(), order_by=("unit__path",))
    elected_on = tables.DateColumn(verbose_name=_("elected on"), format="Y-m-d")
    term_years = tables.Column(verbose_name=_("term length in years"))
    ends_on = tables.DateColumn(verbose_name=_("term ends on"), format="Y-m-d")
    closed_on = tables.DateColumn(verbose_name=_("closed on"), format="Y-m-d", default="—")

    class Meta:
        model = BranchTerm
        fields = ["unit", "elected_on", "term_years", "ends_on", "closed_on"]
        order_by = ("ends_on",)
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_unit(self, record):
        return record.unit.name
