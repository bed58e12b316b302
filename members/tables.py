import django_tables2 as tables
from django.utils.html import format_html, format_html_join

from portal.export import readable

from .masking import mask_id_number, mask_phone
from .models import OrgUnit, Person, PointsEntry


class PersonTable(tables.Table):
    employee_no = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    org_unit = tables.Column(order_by=("org_unit__path",))
    phone = tables.Column(orderable=False)
    tags = tables.Column(orderable=False)

    class Meta:
        model = Person
        fields = ["employee_no", "name", "gender", "org_unit", "political_status", "phone", "tags"]
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_phone(self, value):
        return mask_phone(value)

    def value_phone(self, value):
        return mask_phone(value)

    def render_tags(self, value):
        if not value:
            return "—"
        return format_html_join(" ", '<span class="badge text-bg-light border">{}</span>', ((t,) for t in value))

    def value_tags(self, value):
        return ";".join(value)


class OrgUnitTable(tables.Table):
    name = tables.Column(linkify=True, order_by=("path",))
    code = tables.Column()
    parent = tables.Column(order_by=("parent__path",))

    class Meta:
        model = OrgUnit
        fields = ["name", "code", "kind", "parent", "is_active"]
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_name(self, record, value):
        return format_html('<span style="padding-left:{}rem">{}</span>', max(record.depth, 0) * 1.2, value)


class PointsTable(tables.Table):
    person = tables.Column(linkify=True)

    class Meta:
        model = PointsEntry
        fields = ["awarded_on", "person", "points", "reason", "source", "awarded_by"]
        attrs = {"class": "table table-sm"}


# The readable workbook (?export=readable): personal numbers masked as on the people pages, whoever exports.
PERSON_READABLE = (
    readable(Person, "employee_no", width=12),
    readable(Person, "name", width=10),
    readable(Person, "gender", width=6),
    readable(Person, "birth_date", width=12),
    readable(Person, "phone", transform=mask_phone, width=14),
    readable(Person, "id_number", transform=mask_id_number, width=20),
    readable(Person, "org_unit__name", width=20),
    readable(Person, "political_status", width=12),
    readable(Person, "joined_party_on", width=12),
    readable(Person, "tags", width=20),
)
