"""Import kinds `activities` (with attendees) and `tasks` (responsibility items), data-exchange.md.
Bulk writes with lookups loaded once, so large files import quickly; all-or-nothing and idempotent."""
from __future__ import annotations

from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import OrgUnit, Person
from portal import dataexchange as dx
from portal.dataexchange import Column, RowError

from . import meeting_summary
from .choices import (
    ACTIVITY_STATUS_ZH, ACTIVITY_TYPE_ZH, ActivityStatus, ActivityType, AttendanceSource, AttendanceStatus, ItemStatus,
)
from .models import Activity, Attendance, ResponsibilityItem
from .services import item_deadline_problem


def _unknown_code(code) -> str:
    return _("No unit has the code “%(code)s”.") % {"code": code}


def _unknown_people(numbers) -> str:
    return _("No person has the employee number(s): %(numbers)s.") % {"numbers": "、".join(numbers)}


def _people_ids(numbers: set[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    numbers = list(numbers)
    for batch in dx.batched(numbers, 20000):
        ids.update(Person.objects.filter(employee_no__in=batch).values_list("employee_no", "id"))
    return ids


@dx.register
class ActivityKind(dx.Kind):
    name = "activities"
    label = gettext_lazy("Activities (with attendees)")
    columns = [
        Column("ref", ["编号"], dx.text(50), required=True),
        Column("type", ["类型"], dx.choice(ActivityType.choices, ACTIVITY_TYPE_ZH), required=True),
        Column("title", ["标题"], dx.text(200), required=True),
        Column("org_unit_code", ["组织单位"], dx.text(50), required=True),
        Column("held_at", ["时间"], dx.aware_datetime, required=True),
        Column("status", ["状态"], dx.choice(ActivityStatus.choices, ACTIVITY_STATUS_ZH)),
        Column("attendees", ["出席人员工号"], dx.str_list()),
    ]
    example = ["M-2026-001", "支部党员大会", "三月支部党员大会", "D01", "2026-03-15 14:30", "计划", "E0001;E0002"]

    def check(self, rows):
        errors = []
        self._units = dict(OrgUnit.objects.filter(code__in={r.values["org_unit_code"] for r in rows}).values_list("code", "id"))
        self._people = _people_ids({n for r in rows for n in (r.values.get("attendees") or [])})
        for row in rows:
            v = row.values
            if v["org_unit_code"] and v["org_unit_code"] not in self._units:
                errors.append(RowError(row.number, "org_unit_code", _unknown_code(v["org_unit_code"])))
            missing = [n for n in (v.get("attendees") or []) if n not in self._people]
            if missing:
                errors.append(RowError(row.number, "attendees", _unknown_people(missing[:10])))
            if v.get("attendees") and v.get("status") == ActivityStatus.CANCELLED:
                errors.append(RowError(row.number, "attendees", _("A cancelled activity has no attendees.")))
            if v.get("status") == ActivityStatus.HELD and v.get("held_at") and v["held_at"] > timezone.now():
                errors.append(RowError(row.number, "status", _("An activity in the future cannot be marked as held.")))
        return errors

    def apply(self, rows, result):
        existing: dict[str, Activity] = {}
        for batch in dx.batched([r.values["ref"] for r in rows], 20000):
            existing.update(Activity.objects.in_bulk(batch, field_name="ref"))
        present_before: dict[int, dict[int, tuple[int, str]]] = defaultdict(dict)
        ids = [a.pk for a in existing.values()]
        for batch in dx.batched(ids, 5000):
            for pk, activity_id, person_id, status in Attendance.objects.filter(activity_id__in=batch).values_list(
                    "pk", "activity_id", "person_id", "status"):
                present_before[activity_id][person_id] = (pk, status)
        to_create, to_update, touched, moved = [], [], set(), []
        for row in rows:
            v = row.values
            activity = existing.get(v["ref"])
            data = {"type": v["type"], "title": v["title"], "org_unit_id": self._units[v["org_unit_code"]], "held_at": v["held_at"]}
            if "status" in row.present or activity is None:
                data["status"] = v.get("status") or ActivityStatus.PLANNED
            if activity is None:
                activity = Activity(ref=v["ref"], **data)
                existing[v["ref"]] = activity
                to_create.append(activity)
                continue
            changes = {f: val for f, val in data.items() if getattr(activity, f) != val}
            if changes:
                moved.append(activity.held_at)
                for field, value in changes.items():
                    setattr(activity, field, value)
                to_update.append(activity)
                touched.add(v["ref"])
        for batch in dx.batched(to_create):
            Activity.objects.bulk_create(batch)
        now = timezone.now()
        for activity in to_update:
            activity.updated_at = now
        Activity.objects.bulk_update(to_update, ["type", "title", "org_unit", "held_at", "status", "updated_at"], batch_size=2000)
        # Bulk writes: the 三会一课 summary of every branch, for the months the rows left and entered.
        meeting_summary.refresh_moments([*moved, *(a.held_at for a in to_create), *(a.held_at for a in to_update)])

        new_rows, changed_rows = [], []
        for row in rows:
            if "attendees" not in row.present:
                continue
            activity = existing[row.values["ref"]]
            wanted = {self._people[n] for n in (row.values.get("attendees") or [])}
            before = present_before.get(activity.pk, {})
            for person_id in wanted:
                if person_id not in before:
                    new_rows.append(Attendance(activity_id=activity.pk, person_id=person_id, status=AttendanceStatus.PRESENT,
                                               source=AttendanceSource.IMPORT, checked_in_at=activity.held_at))
                    touched.add(row.values["ref"])
                elif before[person_id][1] != AttendanceStatus.PRESENT:
                    changed_rows.append(Attendance(pk=before[person_id][0], status=AttendanceStatus.PRESENT, updated_at=now))
                    touched.add(row.values["ref"])
            for person_id, (pk, status) in before.items():
                if status == AttendanceStatus.PRESENT and person_id not in wanted:
                    changed_rows.append(Attendance(pk=pk, status=AttendanceStatus.ABSENT, updated_at=now))
                    touched.add(row.values["ref"])
        for batch in dx.batched(new_rows, 5000):
            Attendance.objects.bulk_create(batch)
        for batch in dx.batched(changed_rows, 5000):
            Attendance.objects.bulk_update(batch, ["status", "updated_at"])
        created_refs = {a.ref for a in to_create}
        result.created += len(created_refs)
        result.updated += len(touched - created_refs)
        result.unchanged += len(rows) - len(created_refs) - len(touched - created_refs)

    def export_queryset(self):
        return Activity.objects.all()

    def export_rows(self, queryset, user=None):
        queryset = queryset.order_by("held_at", "id")
        for chunk_start in range(0, 10**9, 5000):
            chunk = list(queryset.values_list("pk", "ref", "type", "title", "org_unit__code", "held_at", "status")
                         [chunk_start:chunk_start + 5000])
            if not chunk:
                return
            attendees = defaultdict(list)
            for activity_id, number in (
                Attendance.objects.filter(activity_id__in=[c[0] for c in chunk], status=AttendanceStatus.PRESENT)
                .order_by("person__employee_no").values_list("activity_id", "person__employee_no")
            ):
                attendees[activity_id].append(number)
            for pk, ref, type_, title, unit, held_at, status in chunk:
                yield [ref, type_, title, unit, dx.fmt(held_at), status, dx.fmt(attendees.get(pk, []))]


@dx.register
class TaskKind(dx.Kind):
    name = "tasks"
    label = gettext_lazy("Responsibility items")
    columns = [
        Column("ref", ["编号"], dx.text(50), required=True),
        Column("title", ["事项"], dx.text(300), required=True),
        Column("lead_org_unit_code", ["牵头单位"], dx.text(50), required=True),
        Column("cooperating_org_unit_codes", ["配合单位"], dx.str_list()),
        Column("responsible_employee_no", ["责任人工号"], dx.text(30)),
        Column("deadline", ["完成时限"], dx.date),
        Column("completed_at", ["完成时间"], dx.aware_datetime),
    ]
    example = ["T-2026-001", "开展主题党日活动", "D01", "D02;D03", "E0001", "2026-06-30", ""]

    def check(self, rows):
        errors = []
        codes = {r.values["lead_org_unit_code"] for r in rows}
        codes |= {c for r in rows for c in (r.values.get("cooperating_org_unit_codes") or [])}
        self._units = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "id"))
        self._people = _people_ids({r.values["responsible_employee_no"] for r in rows if r.values.get("responsible_employee_no")})
        # The deadline rule of the form and the API (services.item_deadline_problem): a new item, or a
        # deadline the file sets, needs a date not later than the parent's. The file has no parent column.
        stored = {}
        for batch in dx.batched([r.values["ref"] for r in rows], 20000):
            stored.update(ResponsibilityItem.objects.select_related("parent").in_bulk(batch, field_name="ref"))
        for row in rows:
            v = row.values
            item = stored.get(v["ref"])
            if item is None or "deadline" in row.present:
                problem = item_deadline_problem(v.get("deadline"), item.parent if item else None)
                if problem:
                    errors.append(RowError(row.number, "deadline", problem))
            if v["lead_org_unit_code"] and v["lead_org_unit_code"] not in self._units:
                errors.append(RowError(row.number, "lead_org_unit_code", _unknown_code(v["lead_org_unit_code"])))
            unknown = [c for c in (v.get("cooperating_org_unit_codes") or []) if c not in self._units]
            if unknown:
                errors.append(RowError(row.number, "cooperating_org_unit_codes", _unknown_code("、".join(unknown))))
            number = v.get("responsible_employee_no")
            if number and number not in self._people:
                errors.append(RowError(row.number, "responsible_employee_no", _unknown_people([number])))
            if v.get("completed_at") and v["completed_at"] > timezone.now():
                errors.append(RowError(row.number, "completed_at", _("The completion time cannot be in the future.")))
        return errors

    def apply(self, rows, result):
        existing: dict[str, ResponsibilityItem] = {}
        for batch in dx.batched([r.values["ref"] for r in rows], 20000):
            existing.update(ResponsibilityItem.objects.in_bulk(batch, field_name="ref"))
        through = ResponsibilityItem.cooperating_units.through
        coop_before: dict[int, set[int]] = defaultdict(set)
        for batch in dx.batched([i.pk for i in existing.values()], 5000):
            for item_id, unit_id in through.objects.filter(responsibilityitem_id__in=batch).values_list(
                    "responsibilityitem_id", "orgunit_id"):
                coop_before[item_id].add(unit_id)
        to_create, to_update, touched = [], [], set()
        fields = ["title", "lead_org_unit_id", "responsible_id", "deadline", "completed_at", "status", "progress"]
        for row in rows:
            v = row.values
            item = existing.get(v["ref"])
            data = {"title": v["title"], "lead_org_unit_id": self._units[v["lead_org_unit_code"]]}
            for column, field, value in (
                ("responsible_employee_no", "responsible_id", self._people.get(v.get("responsible_employee_no"))),
                ("deadline", "deadline", v.get("deadline")),
                ("completed_at", "completed_at", v.get("completed_at")),
            ):
                if column in row.present or item is None:
                    data[field] = value
            if "completed_at" in row.present or item is None:
                if data["completed_at"]:
                    data["status"], data["progress"] = ItemStatus.APPROVED, 100
                elif item is not None and item.status == ItemStatus.APPROVED:
                    data["status"] = ItemStatus.IN_PROGRESS
            if item is None:
                item = ResponsibilityItem(ref=v["ref"], **data)
                existing[v["ref"]] = item
                to_create.append(item)
                continue
            changes = {f: val for f, val in data.items() if getattr(item, f) != val}
            if changes:
                for field, value in changes.items():
                    setattr(item, field, value)
                to_update.append(item)
                touched.add(v["ref"])
        for batch in dx.batched(to_create):
            ResponsibilityItem.objects.bulk_create(batch)
        now = timezone.now()
        for item in to_update:
            item.updated_at = now
        ResponsibilityItem.objects.bulk_update(to_update, [f.removesuffix("_id") for f in fields] + ["updated_at"], batch_size=2000)
        add, remove = [], []
        for row in rows:
            if "cooperating_org_unit_codes" not in row.present:
                continue
            item = existing[row.values["ref"]]
            wanted = {self._units[c] for c in (row.values.get("cooperating_org_unit_codes") or [])}
            before = coop_before.get(item.pk, set())
            if wanted != before:
                touched.add(row.values["ref"])
                add += [through(responsibilityitem_id=item.pk, orgunit_id=u) for u in wanted - before]
                remove += [(item.pk, u) for u in before - wanted]
        through.objects.bulk_create(add, ignore_conflicts=True, batch_size=5000)
        for item_id, unit_id in remove:
            through.objects.filter(responsibilityitem_id=item_id, orgunit_id=unit_id).delete()
        created_refs = {i.ref for i in to_create}
        result.created += len(created_refs)
        result.updated += len(touched - created_refs)
        result.unchanged += len(rows) - len(created_refs) - len(touched - created_refs)

    def export_queryset(self):
        return ResponsibilityItem.objects.all()

    def export_rows(self, queryset, user=None):
        queryset = queryset.order_by("id")
        through = ResponsibilityItem.cooperating_units.through
        for start in range(0, 10**9, 5000):
            chunk = list(queryset.values_list("pk", "ref", "title", "lead_org_unit__code", "responsible__employee_no",
                                              "deadline", "completed_at")[start:start + 5000])
            if not chunk:
                return
            coop = defaultdict(list)
            for item_id, code in through.objects.filter(responsibilityitem_id__in=[c[0] for c in chunk]).order_by(
                    "orgunit__code").values_list("responsibilityitem_id", "orgunit__code"):
                coop[item_id].append(code)
            for pk, ref, title, lead, responsible, deadline, completed in chunk:
                yield [ref, title, lead, dx.fmt(coop.get(pk, [])), responsible or "", dx.fmt(deadline), dx.fmt(completed)]
