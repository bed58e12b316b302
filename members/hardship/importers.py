"""Import/export kinds `hardship_households` and `hardship_assistance` (docs/hardship.md)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import dataexchange as dx
from portal.dataexchange import Column, RowError
from portal.scope import in_subtree

from . import workflow
from .choices import LEVEL_ZH, MEASURE_KIND_ZH, REASON_ZH, STATUS_ZH, Level, MeasureKind, Reason, Status
from .models import AssistanceRecord, HardshipHousehold, HouseholdEvent
from .selectors import MANAGING_ROLES

BATCH = 5000


def money(value: str) -> Decimal:
    """Yuan with at most two decimals, more than zero ("1,200.50" and "¥1200.5" are read too)."""
    cleaned = value.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").replace("元", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise dx.CellError(_("“%(value)s” is not an amount of money.") % {"value": value}) from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2 or amount >= Decimal("1e10"):
        raise dx.CellError(_("An amount is more than zero, in yuan with at most two decimals."))
    return amount.quantize(Decimal("0.01"))


def _lookup(model, field: str, keys, values: tuple[str, ...]) -> dict:
    keys = [k for k in dict.fromkeys(keys) if k]
    found = {}
    for batch in dx.batched(keys, BATCH):
        for row in model.objects.filter(**{f"{field}__in": batch}).values_list(field, *values):
            found[row[0]] = row[1:]
    return found


@dx.register
class HouseholdKind(dx.Kind):
    name = "hardship_households"
    label = gettext_lazy("Hardship households")
    columns = [
        Column("ref", ["编号"], dx.text(30), required=True),
        Column("employee_no", ["工号"], dx.text(30), required=True),
        Column("reason", ["困难原因"], dx.choice(Reason.choices, REASON_ZH), required=True),
        Column("level", ["困难等级"], dx.choice(Level.choices, LEVEL_ZH), required=True),
        Column("family_size", ["家庭人口"], dx.integer(1, 30)),
        Column("family_situation", ["家庭情况"], dx.text(5000)),
        Column("registered_on", ["登记日期"], dx.date, required=True),
        Column("status", ["状态"], dx.choice(Status.choices, STATUS_ZH)),
        Column("left_on", ["脱困或注销日期"], dx.date),
        Column("status_reason", ["脱困或注销原因"], dx.text(500)),
        Column("liaison", ["联系人账号"], dx.text(150), required=True),
        Column("last_review_on", ["上次复核日期"], dx.date),
    ]
    example = ["KN2026-000001", "E0001", "因病", "特困", "3", "配偶长期患病，子女在读", "2026-03-01", "在册", "", "",
               "staff01", "2026-06-01"]

    def _lookups(self, rows):
        from members.models import Person
        from portal.models import User

        people = _lookup(Person, "employee_no", (r.values["employee_no"] for r in rows), ("id", "org_unit__path"))
        users = _lookup(User, "username", (r.values["liaison"] for r in rows), ("id", "role", "is_active", "scope_org__path"))
        return people, users

    def check(self, rows):
        errors = self.duplicate_key_errors(rows)
        people, users = self._lookups(rows)
        active_in_file = {}
        stored_active = {}
        person_ids = [people[r.values["employee_no"]][0] for r in rows if r.values["employee_no"] in people]
        for batch in dx.batched(person_ids, BATCH):
            stored_active.update(dict(HardshipHousehold.objects.filter(person_id__in=batch, status=Status.REGISTERED)
                                      .values_list("person_id", "ref")))
        for row in rows:
            v = row.values
            person = people.get(v["employee_no"])
            if person is None:
                errors.append(RowError(row.number, "employee_no", _("No person has the employee number “%(no)s”.") % {"no": v["employee_no"]}))
            user = users.get(v["liaison"])
            if user is None:
                errors.append(RowError(row.number, "liaison", _("No account has the user name “%(name)s”.") % {"name": v["liaison"]}))
            elif person is not None:
                _id, role, active, path = user
                if not active or role not in MANAGING_ROLES or (role != "admin" and not (path and in_subtree(person[1], path))):
                    errors.append(RowError(row.number, "liaison", _("The liaison must be an account that manages hardship assistance for this person.")))
            status = v.get("status") or Status.REGISTERED
            if status == Status.REGISTERED:
                if v.get("left_on"):
                    errors.append(RowError(row.number, "left_on", _("A household on the register has no date of leaving it.")))
                if person is not None:
                    other = active_in_file.setdefault(person[0], row.number)
                    if other != row.number:
                        errors.append(RowError(row.number, "employee_no", _("This person's household is on the register in row %(row)d too.") % {"row": other}))
                    stored = stored_active.get(person[0])
                    if stored and stored != v["ref"]:
                        errors.append(RowError(row.number, "employee_no", _("This person's household is already on the register (%(ref)s).") % {"ref": stored}))
            elif not (v.get("left_on") and v.get("status_reason")):
                errors.append(RowError(row.number, "left_on", workflow.GUARD_MESSAGES[workflow.DATE_AND_REASON]))
            elif v["left_on"] < v["registered_on"]:
                errors.append(RowError(row.number, "left_on", _("The date is before the household was registered.")))
            if v.get("last_review_on") and v["last_review_on"] < v["registered_on"]:
                errors.append(RowError(row.number, "last_review_on", _("The date is before the household was registered.")))
        return errors

    def apply(self, rows, result):
        people, users = self._lookups(rows)
        existing = dx.existing_by_ref(HardshipHousehold, (r.values["ref"] for r in rows))
        upsert = dx.RefUpsert(HardshipHousehold)
        for row in rows:
            v, current = row.values, existing.get(row.values["ref"])
            status = v.get("status") or (current.status if current and "status" not in row.present else Status.REGISTERED)
            data = {"person_id": people[v["employee_no"]][0], "reason": v["reason"], "level": v["level"],
                    "registered_on": v["registered_on"], "liaison_id": users[v["liaison"]][0], "status": status}
            for column, default in (("family_size", 1), ("family_situation", ""), ("left_on", None),
                                    ("status_reason", ""), ("last_review_on", None)):
                if column in row.present or current is None:
                    value = v.get(column) if column in row.present else default
                    data[column] = default if value in (None, "") else value
            last = data.get("last_review_on", current.last_review_on if current else None)
            if status == Status.REGISTERED:
                data["left_on"] = None
                data["next_review_on"] = workflow.next_review_on(last or v["registered_on"])
            else:
                data["next_review_on"] = None
            upsert.put(v["ref"], current, data)
        # Updates first: a household leaving the register frees its person for a new one in the file.
        upsert.save(result, updates_first=True, after_create=lambda batch: HouseholdEvent.objects.bulk_create(
            HouseholdEvent(household=h, action=workflow.EventKind.IMPORTED, on=h.registered_on) for h in batch))

    def export_queryset(self):
        return HardshipHousehold.objects.all()

    def export_rows(self, queryset, user=None):
        for row in queryset.order_by("ref").values_list(
            "ref", "person__employee_no", "reason", "level", "family_size", "family_situation", "registered_on",
            "status", "left_on", "status_reason", "liaison__username", "last_review_on",
        ).iterator(chunk_size=5000):
            yield [dx.fmt(value) if value is not None else "" for value in row]


@dx.register
class AssistanceKind(dx.Kind):
    name = "hardship_assistance"
    label = gettext_lazy("Hardship assistance given")
    columns = [
        Column("ref", ["编号"], dx.text(30), required=True),
        Column("household_ref", ["困难户编号"], dx.text(30), required=True),
        Column("given_on", ["日期"], dx.date, required=True),
        Column("kind", ["类别"], dx.choice(MeasureKind.choices, MEASURE_KIND_ZH), required=True),
        Column("amount", ["金额（元）", "金额"], money),
        Column("service", ["服务内容"], dx.text(300)),
    ]
    example = ["BF2026-000001", "KN2026-000001", "2026-06-10", "困难补助", "2000.00", ""]

    def check(self, rows):
        errors = self.duplicate_key_errors(rows)
        households = _lookup(HardshipHousehold, "ref", (r.values["household_ref"] for r in rows), ("id", "registered_on"))
        stored = _lookup(AssistanceRecord, "ref", (r.values["ref"] for r in rows), ("amount", "service"))
        for row in rows:
            v = row.values
            household = households.get(v["household_ref"])
            if household is None:
                errors.append(RowError(row.number, "household_ref", _("No hardship household has the reference “%(ref)s”.") % {"ref": v["household_ref"]}))
            elif v["given_on"] < household[1]:
                errors.append(RowError(row.number, "given_on", _("The date is before the household was registered.")))
            kept = stored.get(v["ref"], (None, ""))
            amount = v.get("amount") if "amount" in row.present else kept[0]
            service = v.get("service") if "service" in row.present else kept[1]
            if amount is None and not service:
                errors.append(RowError(row.number, "amount", _("Enter an amount of money or describe the service given.")))
        return errors

    def apply(self, rows, result):
        households = _lookup(HardshipHousehold, "ref", (r.values["household_ref"] for r in rows), ("id",))
        existing = dx.existing_by_ref(AssistanceRecord, (r.values["ref"] for r in rows))
        upsert = dx.RefUpsert(AssistanceRecord)
        for row in rows:
            v, current = row.values, existing.get(row.values["ref"])
            data = {"household_id": households[v["household_ref"]][0], "given_on": v["given_on"], "kind": v["kind"]}
            for column, default in (("amount", None), ("service", "")):
                if column in row.present or current is None:
                    value = v.get(column) if column in row.present else default
                    data[column] = default if value in (None, "") else value
            upsert.put(v["ref"], current, data)
        upsert.save(result)

    def export_queryset(self):
        return AssistanceRecord.objects.all()

    def export_rows(self, queryset, user=None):
        for ref, household, day, kind, amount, service in queryset.order_by("ref").values_list(
            "ref", "household__ref", "given_on", "kind", "amount", "service",
        ).iterator(chunk_size=5000):
            yield [ref, household, dx.fmt(day), kind, "" if amount is None else f"{amount:.2f}", service]
