"""Import kinds `orgunits`, `people` and `accounts` (data-exchange.md). The accounts kind lives here
because it links an account to a unit and a person of this app; passwords are only ever stored hashed."""
from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import dataexchange as dx
from portal.dataexchange import Column, RowError
from portal.models import User
from portal.roles import ROLE_ZH_LABELS, Role

from .choices import (
    GENDER_ZH,
    ORG_KIND_ZH,
    POLITICAL_STATUS_ZH,
    Gender,
    OrgKind,
    PoliticalStatus,
)
from .masking import mask_id_number, mask_phone, people_export_masks
from .models import OrgUnit, Person
from .validators import (
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_phone,
)


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
    example = ["D01", "运行部党支部", "党支部", "C01"]

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


# The optional columns of a people file, with the value an empty cell (or, for a new person, an
# absent column) stands for.
PERSON_DEFAULTS = {"gender": "", "birth_date": None, "phone": "", "id_number": "", "political_status": "masses",
                   "joined_party_on": None, "tags": []}
TAG_MAX_LENGTH = Person._meta.get_field("tags").base_field.max_length


@dx.register
class PersonKind(dx.Kind):
    """People, at HR-ledger size (100,000 rows in well under a minute).

    Lookups are one query each, for the whole file. The rows are copied (COPY) into a temporary
    table; one UPDATE … FROM changes the people whose values differ, one INSERT … SELECT adds the
    new ones. Both fire the history triggers row by row, as any other write of a person does."""

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
    example = ["E0001", "张三", "男", "1990-05-01", "13800000000", "", "D01", "党员", "2015-07-01", "青年;技术骨干"]

    def check(self, rows):
        errors = []
        codes = {r.values["org_unit_code"] for r in rows}
        self._units = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "id"))
        id_numbers: dict[str, int] = {}
        party_members = ("full_member", "probationary_member")
        for row in rows:
            v = row.values
            if v["org_unit_code"] and v["org_unit_code"] not in self._units:
                errors.append(RowError(row.number, "org_unit_code", _("No unit has the code “%(code)s”.") % {"code": v["org_unit_code"]}))
            if v["id_number"]:
                if v["id_number"] in id_numbers:
                    errors.append(RowError(row.number, "id_number", _("The same ID number is on row %(row)d.") % {"row": id_numbers[v["id_number"]]}))
                id_numbers[v["id_number"]] = row.number
            status = v["political_status"]
            if v["joined_party_on"] and status and status not in party_members:
                errors.append(RowError(row.number, "joined_party_on", _("Only party members have a date of joining the party.")))
            if v["tags"] and any(len(tag) > TAG_MAX_LENGTH for tag in v["tags"]):
                errors.append(RowError(row.number, "tags", _("At most %(n)d characters.") % {"n": TAG_MAX_LENGTH}))
        if id_numbers:
            row_by_number = {r.number: r for r in rows}
            with connection.cursor() as cursor:
                cursor.execute("SELECT id_number, employee_no FROM members_person WHERE id_number = ANY(%s)", [list(id_numbers)])
                for id_number, employee_no in cursor.fetchall():
                    row = row_by_number[id_numbers[id_number]]
                    if row.values["employee_no"] != employee_no:
                        errors.append(RowError(row.number, "id_number", _("Person %(no)s already has this ID number.") % {"no": employee_no}))
        return errors

    def _records(self, rows, optional: list[str]):
        """The staging table's records: seq, employee_no, name, org_unit_id, then the optional
        columns the file has (an empty cell read as its default)."""
        units, defaults = self._units, PERSON_DEFAULTS
        for seq, row in enumerate(rows):
            v = row.values
            record = [seq, v["employee_no"], v["name"], units[v["org_unit_code"]]]
            for column in optional:
                value = v[column]
                if value is None:
                    value = defaults[column]
                if column == "tags":
                    value = dx.pg_array(value)
                record.append(value)
            yield record

    def apply(self, rows, result):
        if not rows:
            return
        # Every row has the same set of columns: the file's.
        optional = [column for column in PERSON_DEFAULTS if column in rows[0].present]
        compared = ["name", "org_unit_id", *optional]
        person = Person._meta
        types = {f.column: f.db_type(connection) for f in person.concrete_fields}
        staging = "import_people"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{staging}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {staging} (seq integer, employee_no {types['employee_no']}, "
                + ", ".join(f"{c} {types[c]}" for c in compared) + ") ON COMMIT DROP"
            )
        dx.copy_records(staging, ["seq", "employee_no", *compared], self._records(rows, optional),
                        nullable=[c for c in optional if PERSON_DEFAULTS[c] is None])
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {staging}")
            # Changed people: only the columns the file has, only where a value differs.
            cursor.execute(
                f"UPDATE members_person p SET {', '.join(f'{c} = s.{c}' for c in compared)}, updated_at = %s "
                f"FROM {staging} s WHERE p.employee_no = s.employee_no "
                f"AND ({', '.join(f'p.{c}' for c in compared)}) IS DISTINCT FROM ({', '.join(f's.{c}' for c in compared)})",
                [now],
            )
            result.updated += cursor.rowcount
            # New people, in the order of the file: absent columns take their defaults.
            defaults = {c: v for c, v in PERSON_DEFAULTS.items() if c not in optional}
            defaults.update(dx.literal_defaults(Person, {"employee_no", *compared, *defaults}))
            cursor.execute(
                f"INSERT INTO members_person (employee_no, {', '.join(compared)}, {', '.join(defaults)}) "
                f"SELECT s.employee_no, {', '.join(f's.{c}' for c in compared)}, {', '.join(['%s'] * len(defaults))} "
                f"FROM {staging} s WHERE NOT EXISTS (SELECT FROM members_person p WHERE p.employee_no = s.employee_no) "
                "ORDER BY s.seq",
                list(defaults.values()),
            )
            result.created += cursor.rowcount
            cursor.execute(f"DROP TABLE pg_temp.{staging}")
        dx.refresh_statistics(Person, written=result.created + result.updated)
        result.unchanged += len(rows) - result.created - result.updated

    def export_queryset(self):
        return Person.objects.all()

    def export_rows(self, queryset, user=None, unmasked: bool = False):
        mask = people_export_masks(user, unmasked=unmasked)
        for p in queryset.order_by("employee_no").values_list(
            "employee_no", "name", "gender", "birth_date", "phone", "id_number", "org_unit__code",
            "political_status", "joined_party_on", "tags",
        ).iterator(chunk_size=5000):
            no, name, gender, birth, phone, id_number, unit, status, joined, tags = p
            if mask:
                phone, id_number = mask_phone(phone), mask_id_number(id_number)
            yield [no, name, gender, dx.fmt(birth), phone, id_number, unit, status, dx.fmt(joined), dx.fmt(tags)]


@dx.register
class AccountKind(dx.Kind):
    name = "accounts"
    label = gettext_lazy("Accounts")
    columns = [
        Column("username", ["用户名"], dx.text(150), required=True),
        Column("employee_no", ["工号"], dx.text(30)),
        Column("role", ["角色"], dx.choice(Role.choices, ROLE_ZH_LABELS), required=True),
        Column("scope_org_code", ["管辖组织"], dx.text(50)),
        Column("password", ["初始密码", "密码"], dx.text(128)),
    ]
    example = ["zhangsan", "E0001", "支部书记", "D01", "Change#2026-now"]

    def check(self, rows):
        errors = []
        self._units = dict(OrgUnit.objects.filter(code__in={r.values["scope_org_code"] for r in rows}).values_list("code", "id"))
        self._people = dict(Person.objects.filter(employee_no__in={r.values["employee_no"] for r in rows}).values_list("employee_no", "id"))
        linked = dict(User.objects.filter(person_id__in=self._people.values()).values_list("person_id", "username"))
        # An absent optional column keeps the stored value.
        stored = {
            username: (scope_id, person_id)
            for username, scope_id, person_id in User.objects.filter(
                username__in=[r.values["username"] for r in rows]
            ).values_list("username", "scope_org_id", "person_id")
        }
        employee_rows: dict[str, int] = {}
        for row in rows:
            v = row.values
            if v["scope_org_code"] and v["scope_org_code"] not in self._units:
                errors.append(RowError(row.number, "scope_org_code", _("No unit has the code “%(code)s”.") % {"code": v["scope_org_code"]}))
            has_scope = bool(v["scope_org_code"]) if "scope_org_code" in row.present else bool(stored.get(v["username"], (None, None))[0])
            if not has_scope and v["role"] not in (Role.ADMIN, Role.EMPLOYEE, Role.HANDLER):
                errors.append(RowError(row.number, "scope_org_code", _("This role needs a scope unit.")))
            if v["employee_no"] and v["employee_no"] in employee_rows:
                errors.append(RowError(row.number, "employee_no", _("The same employee number is on row %(row)d.") % {"row": employee_rows[v["employee_no"]]}))
            elif v["employee_no"]:
                employee_rows[v["employee_no"]] = row.number
            if v["employee_no"]:
                if v["employee_no"] not in self._people:
                    errors.append(RowError(row.number, "employee_no", _("No person has the employee number “%(no)s”.") % {"no": v["employee_no"]}))
                else:
                    other = linked.get(self._people[v["employee_no"]])
                    if other and other != v["username"]:
                        errors.append(RowError(row.number, "employee_no", _("This person already has the account “%(user)s”.") % {"user": other}))
            has_person = bool(v["employee_no"]) if "employee_no" in row.present else bool(stored.get(v["username"], (None, None))[1])
            if v["role"] == Role.EMPLOYEE and not has_person:
                errors.append(RowError(row.number, "employee_no", _("An employee account must be linked to a person.")))
            if v["password"]:
                try:
                    validate_password(v["password"])
                except ValidationError as error:
                    errors.append(RowError(row.number, "password", " ".join(error.messages)))
        return errors

    def apply(self, rows, result):
        existing = User.objects.in_bulk([r.values["username"] for r in rows], field_name="username")
        for row in rows:
            v = row.values
            data = {"role": v["role"]}
            if "scope_org_code" in row.present:
                data["scope_org_id"] = self._units.get(v["scope_org_code"]) if v["scope_org_code"] else None
            if "employee_no" in row.present:
                data["person_id"] = self._people.get(v["employee_no"]) if v["employee_no"] else None
            user = existing.get(v["username"])
            if user is None:
                user = User(username=v["username"], **data)
                user.password = make_password(v["password"]) if v["password"] else make_password(None)
                user.save()
                result.created += 1
                continue
            changed = {f: val for f, val in data.items() if getattr(user, f) != val}
            for field, value in changed.items():
                setattr(user, field, value)
            if v["password"] and not check_password(v["password"], user.password):
                user.password = make_password(v["password"])
                changed["password"] = True
            if changed:
                user.save()
                result.updated += 1
            else:
                result.unchanged += 1

    def export_queryset(self):
        return User.objects.all()

    def export_rows(self, queryset, user=None):
        for username, employee_no, role, scope in queryset.order_by("username").values_list(
            "username", "person__employee_no", "role", "scope_org__code"
        ):
            # The password column stays empty: an export never shows a password, and re-importing
            # it keeps the current passwords.
            yield [username, employee_no or "", role, scope or "", ""]
