"""Import kind `accounts` (data-exchange.md). Passwords are only ever stored hashed."""
from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import OrgUnit, Person

from . import dataexchange as dx
from .dataexchange import Column, RowError
from .models import User
from .roles import ROLE_ZH_LABELS, Role


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
