"""Import kinds `transfers`, `mobile_members` and `branch_terms` (docs/members.md).

Imports carry records kept before the portal (or in another system): they are written as they
are, without the workflow's steps and without moving anybody — a completed transfer in a file
records that the move happened; the person's unit comes from the people file."""
from __future__ import annotations

from collections import Counter

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import dataexchange as dx
from portal.dataexchange import Column, RowError

from ..models import OrgUnit, Person
from . import workflow
from .choices import OPEN_TRANSFER_STATUSES, TRANSFER_KIND_ZH, TRANSFER_STATUS_ZH, TransferKind, TransferStatus
from .models import BranchTerm, MobileMember, Transfer, TransferStep
from .selectors import open_transfer_q


def _people(rows, column="employee_no") -> dict[str, int]:
    numbers = {r.values[column] for r in rows if r.values[column]}
    return dict(Person.objects.filter(employee_no__in=numbers).values_list("employee_no", "id"))


def _units(rows, *columns) -> dict[str, OrgUnit]:
    codes = {r.values[c] for r in rows for c in columns if r.values.get(c)}
    return {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}


def _key_errors(rows, key) -> list[RowError]:
    seen: dict = {}
    errors = []
    for row in rows:
        k = key(row.values)
        if k in seen:
            errors.append(RowError(row.number, "", _("Duplicate of row %(row)d.") % {"row": seen[k]}))
        else:
            seen[k] = row.number
    return errors


@dx.register
class TransferKindIO(dx.Kind):
    """One row per transfer, identified by person, kind and date of request."""

    name = "transfers"
    label = gettext_lazy("Membership transfers")
    columns = [
        Column("employee_no", ["工号"], dx.text(30), required=True),
        Column("kind", ["转接类型"], dx.choice(TransferKind.choices, TRANSFER_KIND_ZH), required=True),
        Column("from_unit_code", ["转出组织编码"], dx.text(50)),
        Column("to_unit_code", ["转入组织编码"], dx.text(50)),
        Column("external_org", ["外部党组织"], dx.text(200)),
        Column("reason", ["转接原因"], dx.text(500), required=True),
        Column("requested_on", ["申请日期"], dx.date, required=True),
        Column("report_by", ["报到期限"], dx.date),
        Column("status", ["状态"], dx.choice(TransferStatus.choices, TRANSFER_STATUS_ZH), required=True),
        Column("completed_on", ["办结日期"], dx.date),
    ]
    example = ["E0001", "内部转接", "D01", "D02", "", "工作调动", "2026-03-01", "2026-03-31", "已办结", "2026-03-20"]

    def duplicate_key_errors(self, rows):
        return _key_errors(rows, lambda v: (v["employee_no"], v["kind"], v["requested_on"]))

    def check(self, rows):
        errors = []
        self._people = _people(rows)
        self._units = _units(rows, "from_unit_code", "to_unit_code")
        existing_open = dict(Transfer.objects.filter(open_transfer_q(), person_id__in=self._people.values())
                             .values_list("person_id", "id"))
        existing_keys = {(p, k, d): pk for pk, p, k, d in Transfer.objects.filter(person_id__in=self._people.values())
                         .values_list("id", "person_id", "kind", "requested_on")}
        open_in_file = Counter()
        for row in rows:
            v = row.values
            person_id = self._people.get(v["employee_no"])
            if person_id is None:
                errors.append(RowError(row.number, "employee_no", _("No person has the employee number “%(no)s”.") % {"no": v["employee_no"]}))
                continue
            for column in ("from_unit_code", "to_unit_code"):
                if v[column] and v[column] not in self._units:
                    errors.append(RowError(row.number, column, _("No unit has the code “%(code)s”.") % {"code": v[column]}))
            kind = v["kind"]
            if kind in ("out", "within") and not v["from_unit_code"]:
                errors.append(RowError(row.number, "from_unit_code", _("Choose the branch the member leaves.")))
            if kind in ("in", "within") and not v["to_unit_code"]:
                errors.append(RowError(row.number, "to_unit_code", _("Choose the branch the member joins.")))
            if kind == "in" and v["from_unit_code"]:
                errors.append(RowError(row.number, "from_unit_code", _("A transfer into the enterprise comes from an external organisation, not from a unit.")))
            if kind == "out" and v["to_unit_code"]:
                errors.append(RowError(row.number, "to_unit_code", _("A transfer out of the enterprise goes to an external organisation, not to a unit.")))
            if kind == "within" and v["from_unit_code"] and v["from_unit_code"] == v["to_unit_code"]:
                errors.append(RowError(row.number, "to_unit_code", _("The member cannot be transferred to the branch they leave.")))
            if kind in ("out", "in") and not v["external_org"]:
                errors.append(RowError(row.number, "external_org", _("Name the party organisation outside the enterprise.")))
            if v["status"] == "completed" and not v["completed_on"]:
                errors.append(RowError(row.number, "completed_on", _("A completed transfer needs its date of completion.")))
            if v["status"] in OPEN_TRANSFER_STATUSES:
                open_in_file[person_id] += 1
                other = existing_open.get(person_id)
                if open_in_file[person_id] > 1 or (other and other != existing_keys.get((person_id, kind, v["requested_on"]))):
                    errors.append(RowError(row.number, "status", _("%(name)s already has an open transfer; finish or withdraw it first.") % {"name": v["employee_no"]}))
        self._existing = existing_keys
        return errors

    def apply(self, rows, result):
        for row in rows:
            v = row.values
            person_id = self._people[v["employee_no"]]
            values = dict(
                from_unit=self._units.get(v["from_unit_code"]) if v["from_unit_code"] else None,
                to_unit=self._units.get(v["to_unit_code"]) if v["to_unit_code"] else None,
                external_org=v["external_org"] or "", reason=v["reason"], report_by=v["report_by"],
                status=v["status"], completed_on=v["completed_on"],
            )
            pk = self._existing.get((person_id, v["kind"], v["requested_on"]))
            if pk is None:
                transfer = Transfer.objects.create(person_id=person_id, kind=v["kind"], requested_on=v["requested_on"], **values)
                TransferStep.objects.create(transfer=transfer, action="imported", status=transfer.status)
                result.created += 1
                continue
            transfer = Transfer.objects.get(pk=pk)
            current = {name: getattr(transfer, name) for name in values}
            if current == values:
                result.unchanged += 1
                continue
            for name, value in values.items():
                setattr(transfer, name, value)
            transfer.save()
            result.updated += 1

    def export_queryset(self):
        return Transfer.objects.all()

    def export_rows(self, queryset, user=None):
        for row in queryset.order_by("requested_on", "id").values_list(
            "person__employee_no", "kind", "from_unit__code", "to_unit__code", "external_org", "reason", "requested_on",
            "report_by", "status", "completed_on",
        ).iterator(chunk_size=2000):
            yield [dx.fmt(value) for value in row]


@dx.register
class MobileMemberKindIO(dx.Kind):
    name = "mobile_members"
    label = gettext_lazy("Mobile members")
    columns = [
        Column("employee_no", ["工号"], dx.text(30), required=True),
        Column("work_unit", ["外出工作单位"], dx.text(200), required=True),
        Column("place", ["外出地点"], dx.text(200), required=True),
        Column("contact", ["联系方式"], dx.text(100), required=True),
        Column("started_on", ["外出开始日期"], dx.date, required=True),
        Column("ended_on", ["外出结束日期"], dx.date),
        Column("note", ["备注"], dx.text(500)),
    ]
    example = ["E0001", "某项目部", "新疆哈密", "13800000000", "2026-03-01", "", "援疆项目"]

    def duplicate_key_errors(self, rows):
        return _key_errors(rows, lambda v: (v["employee_no"], v["started_on"]))

    def check(self, rows):
        errors = []
        self._people = _people(rows)
        for row in rows:
            v = row.values
            if v["employee_no"] not in self._people:
                errors.append(RowError(row.number, "employee_no", _("No person has the employee number “%(no)s”.") % {"no": v["employee_no"]}))
            if v["ended_on"] and v["started_on"] and v["ended_on"] < v["started_on"]:
                errors.append(RowError(row.number, "ended_on", _("The end cannot be before the start.")))
        return errors

    def apply(self, rows, result):
        existing = {(p, s): m for m in MobileMember.objects.filter(person_id__in=self._people.values())
                    for p, s in [(m.person_id, m.started_on)]}
        for row in rows:
            v = row.values
            person_id = self._people[v["employee_no"]]
            values = dict(work_unit=v["work_unit"], place=v["place"], contact=v["contact"], ended_on=v["ended_on"],
                          note=v["note"] or "")
            period = existing.get((person_id, v["started_on"]))
            if period is None:
                MobileMember.objects.create(person_id=person_id, started_on=v["started_on"], **values)
                result.created += 1
            elif all(getattr(period, k) == val for k, val in values.items()):
                result.unchanged += 1
            else:
                for k, val in values.items():
                    setattr(period, k, val)
                period.save()
                result.updated += 1

    def export_queryset(self):
        return MobileMember.objects.all()

    def export_rows(self, queryset, user=None):
        for row in queryset.order_by("started_on", "id").values_list(
            "person__employee_no", "work_unit", "place", "contact", "started_on", "ended_on", "note",
        ).iterator(chunk_size=2000):
            yield [dx.fmt(value) for value in row]


@dx.register
class BranchTermKindIO(dx.Kind):
    name = "branch_terms"
    label = gettext_lazy("Branch terms")
    columns = [
        Column("unit_code", ["组织编码"], dx.text(50), required=True),
        Column("elected_on", ["选举日期"], dx.date, required=True),
        Column("term_years", ["任期年限"], dx.integer(1, 10)),
        Column("members", ["班子成员"], dx.text(2000)),
        Column("closed_on", ["换届日期"], dx.date),
    ]
    example = ["D01", "2024-06-28", "3", "张三 书记\n李四 组织委员", ""]

    def duplicate_key_errors(self, rows):
        return _key_errors(rows, lambda v: (v["unit_code"], v["elected_on"]))

    def check(self, rows):
        errors = []
        self._units = _units(rows, "unit_code")
        open_units = Counter()
        keys = {(r.values["unit_code"], r.values["elected_on"]) for r in rows}
        stored_open = {(code, elected) for code, elected in BranchTerm.objects.filter(
            closed_on__isnull=True, unit__code__in=self._units).values_list("unit__code", "elected_on")}
        for row in rows:
            v = row.values
            if v["unit_code"] not in self._units:
                errors.append(RowError(row.number, "unit_code", _("No unit has the code “%(code)s”.") % {"code": v["unit_code"]}))
                continue
            if v["closed_on"] and v["closed_on"] < v["elected_on"]:
                errors.append(RowError(row.number, "closed_on", _("A term cannot close before its election.")))
            if not v["closed_on"]:
                open_units[v["unit_code"]] += 1
                others = {k for k in stored_open if k[0] == v["unit_code"] and k not in keys}
                if open_units[v["unit_code"]] > 1 or others:
                    errors.append(RowError(row.number, "closed_on", _("A unit has one current term; give the earlier term the date it closed.")))
        return errors

    def apply(self, rows, result):
        existing = {(t.unit_id, t.elected_on): t for t in BranchTerm.objects.filter(unit__in=self._units.values())}
        # Terms closing first, so the unit's one open term never meets another.
        for row in sorted(rows, key=lambda r: r.values["closed_on"] is None):
            v = row.values
            unit = self._units[v["unit_code"]]
            years = v["term_years"] or workflow.default_term_years(unit.kind)
            values = dict(term_years=years, ends_on=workflow.term_ends_on(v["elected_on"], years),
                          members=v["members"] or "", closed_on=v["closed_on"])
            term = existing.get((unit.pk, v["elected_on"]))
            if term is None:
                BranchTerm.objects.create(unit=unit, elected_on=v["elected_on"], **values)
                result.created += 1
            elif all(getattr(term, k) == val for k, val in values.items()):
                result.unchanged += 1
            else:
                for k, val in values.items():
                    setattr(term, k, val)
                term.save()
                result.updated += 1

    def export_queryset(self):
        return BranchTerm.objects.all()

    def export_rows(self, queryset, user=None):
        for row in queryset.order_by("unit__code", "elected_on").values_list(
            "unit__code", "elected_on", "term_years", "members", "closed_on",
        ).iterator(chunk_size=2000):
            yield [dx.fmt(value) for value in row]
