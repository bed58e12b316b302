"""Import kinds `orgunits` and `people` (data-exchange.md)."""
from __future__ import annotations

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import dataexchange as dx
from portal.dataexchange import Column, RowError

from .choices import GENDER_ZH, ORG_KIND_ZH, POLITICAL_STATUS_ZH, Gender, OrgKind, PoliticalStatus
from .masking import mask_id_number, mask_phone, may_reveal_any
from .models import OrgUnit, Person
from .validators import normalize_id_number, normalize_phone, validate_id_number, validate_phone


def rebuild_org_paths() -> None:
    """Recompute every unit's materialised path and depth from the parent links in one statement."""
    width = 7
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE tree(id, path, depth) AS (
                SELECT id, lpad(id::text, {width}, '0') || '/', 0 FROM members_orgunit WHERE parent_id IS NULL
                UNION ALL
                SELECT c.id, tree.path || lpad(c.id::text, {width}, '0') || '/', tree.depth + 1
                FROM members_orgunit c JOIN tree ON c.parent_id = tree.id
            )
            UPDATE members_orgunit o SET path = tree.path, depth = tree.depth
            FROM tree WHERE o.id = tree.id AND (o.path <> tree.path OR o.depth <> tree.depth)
            """
        )


@dx.register
class OrgUnitKind(dx.Kind):
    name = "orgunits"
    label = gettext_lazy("Org units")
    columns = [
        Column("code", ["编码"], dx.text(50), required=True),
        Column("name", ["名称"], dx.text(100), required=True),
        Column("kind", ["类型"], dx.choice(OrgKind.choices, ORG_KIND_ZH), required=True),
        Column("parent_code", ["上级编码"], dx.text(50), optional_column=False),
    ]

    def check(self, rows):
        errors = []
        existing = dict(OrgUnit.objects.values_list("code", "parent__code"))
        parents = dict(existing)
        parents.update({r.values["code"]: r.values["parent_code"] for r in rows})
        for row in rows:
            code, parent = row.values["code"], row.values["parent_code"]
            if parent and parent not in parents:
                errors.append(RowError(row.number, "parent_code", _("No unit has the code “%(code)s”.") % {"code": parent}))
                continue
            # Walk up: a unit may not be its own ancestor.
            seen, current = {code}, parent
            while current:
                if current in seen:
                    errors.append(RowError(row.number, "parent_code", _("The parent links form a cycle.")))
                    break
                seen.add(current)
                current = parents.get(current)
        roots = [code for code, parent in parents.items() if not parent]
        if len(roots) > 1:
            file_roots = [r for r in rows if not r.values["parent_code"]]
            for row in file_roots or rows[:1]:
                errors.append(RowError(row.number, "parent_code", _("There can be only one root unit; found: %(codes)s.") % {"codes": "、".join(roots)}))
        return errors

    def apply(self, rows, result):
        units = {u.code: u for u in OrgUnit.objects.all()}
        created = []
        for row in rows:
            v = row.values
            if v["code"] not in units:
                unit = OrgUnit(code=v["code"], name=v["name"], kind=v["kind"])
                units[v["code"]] = unit
                created.append(unit)
        OrgUnit.objects.bulk_create(created)
        created_codes = {u.code for u in created}
        changed = []
        for row in rows:
            v = row.values
            unit = units[v["code"]]
            parent_id = units[v["parent_code"]].pk if v["parent_code"] else None
            if (unit.name, unit.kind, unit.parent_id) != (v["name"], v["kind"], parent_id):
                unit.name, unit.kind, unit.parent_id = v["name"], v["kind"], parent_id
                changed.append(unit)
            if v["code"] in created_codes:
                result.created += 1
            elif unit in changed:
                result.updated += 1
            else:
                result.unchanged += 1
        OrgUnit.objects.bulk_update(changed, ["name", "kind", "parent"], batch_size=1000)
        if created or changed:
            rebuild_org_paths()

    def export_queryset(self):
        return OrgUnit.objects.all()

    def export_rows(self, queryset, user=None):
        for code, name, kind, parent_code in queryset.order_by("path").values_list("code", "name", "kind", "parent__code"):
            yield [code, name, kind, parent_code or ""]


PERSON_FIELDS = ["name", "gender", "birth_date", "phone", "id_number", "org_unit_id", "political_status",
                 "joined_party_on", "tags"]


@dx.register
class PersonKind(dx.Kind):
    name = "people"
    label = gettext_lazy("People")
    columns = [
        Column("employee_no", ["工号"], dx.text(30), required=True),
        Column("name", ["姓名"], dx.text(50), required=True),
        Column("gender", ["性别"], dx.choice(Gender.choices, GENDER_ZH)),
        Column("birth_date", ["出生日期"], dx.date),
        Column("phone", ["手机号", "电话"], dx.validator(validate_phone, normalize_phone)),
        Column("id_number", ["身份证号"], dx.validator(validate_id_number, normalize_id_number)),
        Column("org_unit_code", ["所属组织"], dx.text(50), required=True),
        Column("political_status", ["政治面貌"], dx.choice(PoliticalStatus.choices, POLITICAL_STATUS_ZH)),
        Column("joined_party_on", ["入党日期"], dx.date),
        Column("tags", ["标签"], dx.str_list()),
    ]

    def check(self, rows):
        errors = []
        codes = {r.values["org_unit_code"] for r in rows}
        self._units = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "id"))
        id_numbers: dict[str, int] = {}
        for row in rows:
            v = row.values
            if v["org_unit_code"] and v["org_unit_code"] not in self._units:
                errors.append(RowError(row.number, "org_unit_code", _("No unit has the code “%(code)s”.") % {"code": v["org_unit_code"]}))
            if v.get("id_number"):
                if v["id_number"] in id_numbers:
                    errors.append(RowError(row.number, "id_number", _("The same ID number is on row %(row)d.") % {"row": id_numbers[v["id_number"]]}))
                id_numbers[v["id_number"]] = row.number
            status = v.get("political_status")
            if v.get("joined_party_on") and status and status not in ("full_member", "probationary_member"):
                errors.append(RowError(row.number, "joined_party_on", _("Only party members have a date of joining the party.")))
        if id_numbers:
            taken = Person.objects.filter(id_number__in=list(id_numbers)).values_list("id_number", "employee_no")
            row_by_number = {r.number: r for r in rows}
            for id_number, employee_no in taken:
                row = row_by_number[id_numbers[id_number]]
                if row.values["employee_no"] != employee_no:
                    errors.append(RowError(row.number, "id_number", _("Person %(no)s already has this ID number.") % {"no": employee_no}))
        return errors

    def _incoming(self, row, person: Person | None) -> dict:
        v = row.values
        data = {
            "name": v["name"],
            "org_unit_id": self._units[v["org_unit_code"]],
        }
        defaults = {"gender": "", "birth_date": None, "phone": "", "id_number": "", "political_status": "masses",
                    "joined_party_on": None, "tags": []}
        for field, default in defaults.items():
            if field in row.present:
                value = v.get(field)
                data[field] = default if value is None else value
            elif person is None:
                data[field] = default
        return data

    def apply(self, rows, result):
        existing = Person.objects.in_bulk([r.values["employee_no"] for r in rows], field_name="employee_no")
        to_create, to_update, update_fields = [], [], set()
        for row in rows:
            person = existing.get(row.values["employee_no"])
            data = self._incoming(row, person)
            if person is None:
                to_create.append(Person(employee_no=row.values["employee_no"], **data))
                continue
            changes = {f: val for f, val in data.items() if getattr(person, f) != val}
            if changes:
                for field, value in changes.items():
                    setattr(person, field, value)
                update_fields.update(changes)
                to_update.append(person)
            else:
                result.unchanged += 1
        for batch in dx.batched(to_create):
            Person.objects.bulk_create(batch)
        if to_update:
            fields = sorted(update_fields | {"updated_at"})
            from django.utils import timezone

            now = timezone.now()
            for person in to_update:
                person.updated_at = now
            Person.objects.bulk_update(to_update, fields, batch_size=2000)
        result.created += len(to_create)
        result.updated += len(to_update)

    def export_queryset(self):
        return Person.objects.all()

    def export_rows(self, queryset, user=None):
        reveal = user is None or may_reveal_any(user)
        for p in queryset.order_by("employee_no").values_list(
            "employee_no", "name", "gender", "birth_date", "phone", "id_number", "org_unit__code",
            "political_status", "joined_party_on", "tags",
        ).iterator(chunk_size=5000):
            no, name, gender, birth, phone, id_number, unit, status, joined, tags = p
            if not reveal:
                phone, id_number = mask_phone(phone), mask_id_number(id_number)
            yield [no, name, gender, dx.fmt(birth), phone, id_number, unit, status, dx.fmt(joined), dx.fmt(tags)]
