"""Import kinds `demands`, `mediations`, `life_events` and `visits` (data-exchange.md).

All or nothing (portal.dataexchange runs `apply` in one transaction; any problem rejects the file),
idempotent (the first column is the natural key; an unchanged row is counted as unchanged and not
written), and bulk: lookups are loaded once per file (or per batch of keys), writes are
bulk_create / bulk_update in batches, never one query per row.

Demands: empty due columns are computed from the SLA policy; the status is optional — withdrawn,
rejected, pending and closed are taken as given (when consistent), everything else is derived from
the timestamps. Every created demand gets one "imported" timeline event, every updated one an
"import_updated" event, both hash-chained like any other event.
"""
from __future__ import annotations

import contextlib
import hashlib
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass

import pgtrigger
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.hardship.models import HardshipHousehold
from members.models import OrgUnit, Person
from portal import dataexchange as dx
from portal.dataexchange import Column, RejectFile, RowError

from . import chain, services, workflow
from .choices import (
    CALENDAR_DAY_ZH,
    CHANNEL_ZH,
    EXPLICIT_STATUSES,
    LIFE_EVENT_ZH,
    OUTCOME_ZH,
    STATUS_ZH,
    URGENCY_ZH,
    VISIT_KIND_ZH,
    CalendarDayKind,
    Channel,
    LifeEventKind,
    MediationOutcome,
    Status,
    Urgency,
    VisitKind,
)
from .models import Demand, DemandCategory, DemandEvent, LifeEvent, MediationCase, Visit, WorkCalendarDay
from .sla import Sla

BATCH = 5000
# An import that writes this many demands queues a retraining of the demand text model.
RETRAIN_AFTER_IMPORT_ROWS = 1000


def _in_batches(model, field: str, keys: Iterable, values: tuple[str, ...]) -> dict:
    """{key: row} for the keys that exist, loaded in batches (bounded IN lists)."""
    keys = [k for k in dict.fromkeys(keys) if k]
    found = {}
    for batch in dx.batched(keys, BATCH):
        for row in model.objects.filter(**{f"{field}__in": batch}).values_list(field, *values):
            found[row[0]] = row[1:] if len(values) > 1 else row[1]
    return found


@contextlib.contextmanager
def _history_triggers_off(*uris: str):
    """Skip the given pgtrigger triggers (pghistory) for the rest of this transaction: one
    set_config, instead of pgtrigger.ignore()'s rewriting of every statement."""
    ignored = []
    for model, trigger in pgtrigger.registered(*uris):
        pgid = trigger.get_pgid(model)
        ignored += [f"{model._meta.db_table}:{pgid}", pgid]
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(ignored) + "}"])
        # Let the title's trigram index (GIN) collect new entries in a bigger pending list.
        cursor.execute("SELECT set_config('gin_pending_list_limit', '65536', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


class _ImportedSeal:
    """The "imported" first event of a new demand: its hash and its COPY line. The canonical
    JSON is assembled from a template (a million json.dumps calls would cost a minute) and
    checked against chain.canonical() once for every status."""

    def __init__(self, at):
        self.at = at
        self.at_text = at.isoformat()
        self.at_hashed = chain._moment(at)
        self.checked: set[str] = set()

    def __call__(self, demand_id: int, status: str) -> tuple[str, str]:
        text = ('{"action":"imported","actor_id":null,"actor_label":"import","at":"%s","data":{"status":"%s"},'
                '"demand_id":%d,"from_status":"","note":"","seq":1,"to_status":"%s"}') % (self.at_hashed, status, demand_id, status)
        if status not in self.checked:
            payload = {"demand_id": demand_id, "seq": 1, "action": workflow.EventKind.IMPORTED, "from_status": "",
                       "to_status": status, "actor_id": None, "actor_label": "import", "at": self.at, "note": "",
                       "data": {"status": status}}
            if chain.canonical(payload) != text:
                raise AssertionError("the imported event template does not match chain.canonical()")
            self.checked.add(status)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        # demand_id, seq, action, from_status, to_status, actor_id, actor_label, at, note, data, prev_hash, hash
        line = '%d,1,"imported","","%s",,"import","%s","","{""status"":""%s""}","","%s"' % (
            demand_id, status, self.at_text, status, digest)
        return digest, line


def _unit_ids(codes) -> dict[str, int]:
    return _in_batches(OrgUnit, "code", codes, ("id",))


def _person_ids(numbers) -> dict[str, int]:
    return _in_batches(Person, "employee_no", numbers, ("id",))


def _unknown(row, column: str, message: str) -> RowError:
    return RowError(row.number, column, message)


# --- Demands ---------------------------------------------------------------------------------------------
DEMAND_FIELDS = [
    "title", "content", "category_id", "urgency", "channel", "org_unit_id", "submitter_id", "status", "received_at",
    "response_due_at", "first_response_at", "resolution_due_at", "resolved_at", "return_visit_at", "rating",
]
TIMESTAMPS = ["received_at", "response_due_at", "first_response_at", "resolution_due_at", "resolved_at", "return_visit_at"]
# A stored demand as an import compares it (a tuple: a re-import reads a million of them).
_StoredDemand = namedtuple("_StoredDemand", ["id", "ref", *DEMAND_FIELDS])
# Fields of the optional columns a file may leave out, with the value of an empty cell (and of an
# absent column for a new demand); an absent column keeps the stored value of an existing demand.
OPTIONAL_DEFAULTS = {
    "content": "", "urgency": Urgency.NORMAL, "channel": Channel.STAFF_ENTRY, "rating": None,
    "first_response_at": None, "resolved_at": None, "return_visit_at": None,
}
# The columns of a new demand that come from its row (COPY writes them in this order).
NEW_DEMAND_COLUMNS = ["ref", *DEMAND_FIELDS]


def _shown(field: str, value, ctx) -> str | int | None:
    """A value as the timeline shows it: codes instead of ids, ISO times."""
    if value is None:
        return None
    if field == "category_id":
        return ctx.categories.code_of.get(value, value)
    if field == "org_unit_id":
        return ctx.unit_codes.get(value, value)
    if field == "submitter_id":
        return ctx.employee_nos.get(value, value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass
class _Categories:
    by_key: dict[str, int]
    code_of: dict[int, str]

    @classmethod
    def load(cls) -> _Categories:
        by_key, code_of = {}, {}
        for pk, code, name in DemandCategory.objects.values_list("pk", "code", "name"):
            by_key[code.lower()] = by_key[name.lower()] = pk
            code_of[pk] = code
        return cls(by_key, code_of)

    def get(self, value: str | None) -> int | None:
        return self.by_key.get((value or "").strip().lower())


def status_problem(status: str, values: dict) -> str | None:
    """Why an explicit status does not fit the timestamps (None when it fits)."""
    derived = workflow.derive_status(values["first_response_at"], values["resolved_at"], values["return_visit_at"])
    if status in (Status.WITHDRAWN, Status.REJECTED):
        return None
    if status == Status.CLOSED:
        return None if values["resolved_at"] else _("A closed demand needs its resolved_at time.")
    if status == Status.PENDING:
        if values["first_response_at"] or values["resolved_at"] or values["return_visit_at"]:
            return _("A demand awaiting acceptance has no response, resolution or return visit yet.")
        return None
    if status != derived:
        return _("The status “%(status)s” does not fit the times, which say “%(derived)s”.") % {
            "status": Status(status).label, "derived": Status(derived).label}
    return None


@dx.register
class DemandKind(dx.Kind):
    name = "demands"
    label = gettext_lazy("Demands")
    columns = [
        Column("ref", ["编号"], dx.text(30), required=True),
        Column("title", ["标题"], dx.text(200), required=True),
        Column("content", ["内容"], dx.text(5000)),
        Column("category", ["类别"], dx.text(50), required=True),
        Column("urgency", ["紧急程度"], dx.choice(Urgency.choices, URGENCY_ZH)),
        Column("channel", ["渠道"], dx.choice(Channel.choices, CHANNEL_ZH)),
        Column("org_unit_code", ["所属组织"], dx.text(50), required=True),
        Column("submitter_employee_no", ["提出人工号"], dx.text(30)),
        Column("status", ["状态"], dx.choice(Status.choices, STATUS_ZH)),
        Column("received_at", ["受理时间"], dx.aware_datetime, required=True),
        Column("response_due_at", ["响应时限"], dx.aware_datetime),
        Column("first_response_at", ["首次响应时间"], dx.aware_datetime),
        Column("resolution_due_at", ["办结时限"], dx.aware_datetime),
        Column("resolved_at", ["办结时间"], dx.aware_datetime),
        Column("return_visit_at", ["回访时间"], dx.aware_datetime),
        Column("rating", ["满意度"], dx.integer(1, 5)),
    ]
    example = ["D-2026-0001", "食堂晚餐供应时间太短", "夜班职工下班后食堂已关门", "后勤保障", "一般", "工作人员代录", "D01", "E0001", "待受理", "2026-03-01 09:30", "", "", "", "", "", ""]

    def check(self, rows):
        errors = []
        categories = _Categories.load()
        units = _unit_ids(r.values["org_unit_code"] for r in rows)
        people = _person_ids(r.values.get("submitter_employee_no") for r in rows)
        for row in rows:
            v = row.values
            if v["category"] and categories.get(v["category"]) is None:
                errors.append(_unknown(row, "category", _("No category has the code or name “%(value)s”.") % {"value": v["category"]}))
            if v["org_unit_code"] and v["org_unit_code"] not in units:
                errors.append(_unknown(row, "org_unit_code", _("No unit has the code “%(code)s”.") % {"code": v["org_unit_code"]}))
            number = v.get("submitter_employee_no")
            if number and number not in people:
                errors.append(_unknown(row, "submitter_employee_no", _("No person has the employee number “%(no)s”.") % {"no": number}))
        return errors

    def _incoming(self, v: dict, current, ctx) -> dict:
        """The demand a row describes: its values, the stored ones of the columns the file leaves
        out (or their defaults for a new demand), and due dates from the SLA policy when empty."""
        data = {
            "title": v["title"],
            "category_id": ctx.categories.get(v["category"]),
            "org_unit_id": ctx.units[v["org_unit_code"]],
            "received_at": v["received_at"],
        }
        for field, default in ctx.given:
            value = v[field]
            data[field] = default if value is None else value
        for field, default in ctx.absent:
            data[field] = getattr(current, field) if current is not None else default
        if ctx.has_submitter:
            number = v["submitter_employee_no"]
            data["submitter_id"] = ctx.people.get(number) if number else None
        else:
            data["submitter_id"] = current.submitter_id if current is not None else None
        # Due dates: given, kept (column absent), or computed from the SLA policy.
        for field, given, compute in ctx.due:
            value = v[field] if given else (getattr(current, field) if current is not None else None)
            if value is None:
                value = compute(data["category_id"], data["urgency"], data["received_at"])
            data[field] = value
        return data

    def _problems(self, row, data: dict) -> list[RowError]:
        problems = []
        received = data["received_at"]
        for field in ("first_response_at", "resolved_at", "response_due_at", "resolution_due_at"):
            if data[field] and data[field] < received:
                problems.append(RowError(row.number, field, _("This time is before received_at.")))
        if data["return_visit_at"]:
            if not data["resolved_at"]:
                problems.append(RowError(row.number, "return_visit_at", _("A return visit needs the resolved_at time.")))
            elif data["return_visit_at"] < data["resolved_at"]:
                problems.append(RowError(row.number, "return_visit_at", _("The return visit is before the resolution.")))
        if data["rating"] is not None and not data["return_visit_at"]:
            problems.append(RowError(row.number, "rating", _("A rating needs the return_visit_at time.")))
        return problems

    def _context(self, rows):
        ctx = type("Ctx", (), {})()
        ctx.categories, ctx.sla = _Categories.load(), Sla.load()
        ctx.units = _unit_ids(r.values["org_unit_code"] for r in rows)
        ctx.people = _person_ids(r.values["submitter_employee_no"] for r in rows)
        received = [r.values["received_at"] for r in rows if r.values["received_at"]]
        if len(received) > 100:
            ctx.sla.prepare(min(received), max(received))
        ctx.unit_codes = {pk: code for code, pk in ctx.units.items()}
        ctx.employee_nos = {pk: number for number, pk in ctx.people.items()}
        # Every row has the columns of the file: which optional ones it gives, which it leaves out.
        present = rows[0].present
        ctx.given = [(field, default) for field, default in OPTIONAL_DEFAULTS.items() if field in present]
        ctx.absent = [(field, default) for field, default in OPTIONAL_DEFAULTS.items() if field not in present]
        ctx.has_submitter = "submitter_employee_no" in present
        ctx.has_status = "status" in present
        ctx.due = [("response_due_at", "response_due_at" in present, ctx.sla.response_due),
                   ("resolution_due_at", "resolution_due_at" in present, ctx.sla.resolution_due)]
        return ctx

    def _stored(self, refs: list[str], ctx) -> dict[str, _StoredDemand]:
        """The stored demands of these refs (tuples, not model instances: a re-import of a million
        rows reads a million), with the codes of their units and submitters for the timeline."""
        stored = {}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(_StoredDemand._fields)} FROM demands_demand WHERE ref = ANY(%s)", [refs])
            for values in cursor.fetchall():
                stored[values[1]] = _StoredDemand(*values)
        # Codes of the values being replaced (stored units and submitters the file does not name).
        units = {d.org_unit_id for d in stored.values()} - set(ctx.unit_codes)
        people = {d.submitter_id for d in stored.values() if d.submitter_id} - set(ctx.employee_nos)
        if units:
            ctx.unit_codes.update(OrgUnit.objects.filter(pk__in=units).values_list("pk", "code"))
        if people:
            ctx.employee_nos.update(Person.objects.filter(pk__in=people).values_list("pk", "employee_no"))
        return stored

    def apply(self, rows, result):
        if not rows:
            return
        ctx = self._context(rows)
        errors, to_create, to_update, changed_fields = [], [], [], {}
        # A chunk of rows at a time: the stored demands of a chunk are read in one query.
        for chunk in dx.batched(rows, 50_000):
            stored = self._stored([row.values["ref"] for row in chunk], ctx)
            for row in chunk:
                v = row.values
                current = stored.get(v["ref"])
                data = self._incoming(v, current, ctx)
                problems = self._problems(row, data)
                explicit = v["status"] if ctx.has_status else None
                if explicit:
                    problem = status_problem(explicit, data)
                    if problem:
                        problems.append(RowError(row.number, "status", problem))
                    data["status"] = explicit
                elif current is not None and current.status in EXPLICIT_STATUSES and status_problem(current.status, data) is None:
                    data["status"] = current.status
                else:
                    data["status"] = workflow.derive_status(data["first_response_at"], data["resolved_at"], data["return_visit_at"])
                if problems:
                    errors.extend(problems)
                    continue
                if current is None:
                    # The COPY values of the new demand, in the order of NEW_DEMAND_COLUMNS.
                    to_create.append([v["ref"], *map(data.__getitem__, NEW_DEMAND_COLUMNS[1:])])
                    continue
                changes = [f for f, value in data.items() if getattr(current, f) != value]
                if changes:
                    # Before and after of every changed field go into the timeline event.
                    changed_fields[current.id] = {f: [_shown(f, getattr(current, f), ctx), _shown(f, data[f], ctx)] for f in changes}
                    demand = Demand(**current._asdict())
                    for field in changes:
                        setattr(demand, field, data[field])
                    to_update.append(demand)
                else:
                    result.unchanged += 1
        if errors:
            raise RejectFile(sorted(errors, key=lambda e: (e.row, e.column)))
        # What is written is in to_create and to_update now: the rows (half a gigabyte for a
        # million) can go before the writes.
        del chunk
        rows.clear()

        now = timezone.now().replace(microsecond=0)
        # The timeline's "imported" / "import_updated" events (hash-chained, with before and after
        # of every changed field) are the audit record of an import; the row-by-row history
        # triggers would cost more than the import itself at a million rows.
        with _history_triggers_off("demands.Demand:insert_insert", "demands.Demand:update_update"):
            self._create(to_create, now)
            self._update(to_update, changed_fields, now)
        dx.refresh_statistics(Demand, DemandEvent, written=len(to_create) + len(to_update))
        result.created += len(to_create)
        result.updated += len(to_update)
        if len(to_create) + len(to_update) >= RETRAIN_AFTER_IMPORT_ROWS:
            # A large import changes what the text model should learn: retrain in the background.
            from .tasks import train_demand_model

            transaction.on_commit(lambda: train_demand_model.delay("import"))

    def _create(self, to_create: list[list], now) -> None:
        """New demands go in with COPY (the ORM's bulk_create spends most of a million-row import
        preparing parameters), each with its "imported" event. Ids come first from the sequence,
        so that each demand is written with its first event's hash as its chain head."""
        if not to_create:
            return
        constants = dx.literal_defaults(Demand, {*NEW_DEMAND_COLUMNS, "id", "chain_head"})
        constants.update(created_at=now, updated_at=now)
        columns = [*NEW_DEMAND_COLUMNS, "id", "chain_head", *constants]
        nullable = [f.column for f in Demand._meta.concrete_fields if f.null and f.column in columns]
        event_columns = ["demand_id", *[c for c in chain.HASHED_FIELDS if c != "demand_id"], "prev_hash", "hash"]
        sealed = _ImportedSeal(now)
        status_at = NEW_DEMAND_COLUMNS.index("status")
        # In order of receipt: the indexes led by received_at then grow at one end.
        received_at = NEW_DEMAND_COLUMNS.index("received_at")
        to_create.sort(key=lambda values: values[received_at])
        ids = iter(dx.allocate_ids(Demand, len(to_create)))
        event_sql = dx.copy_sql(DemandEvent._meta.db_table, event_columns, nullable=["actor_id"])
        for batch in dx.batched(to_create, 20_000):
            records, event_lines = [], []
            for values, pk in zip(batch, ids):
                digest, event_line = sealed(pk, values[status_at])
                values += (pk, digest)
                records.append(values)
                event_lines.append(event_line)
            dx.copy_records(Demand._meta.db_table, columns, records, nullable=nullable, tail=list(constants.values()),
                            chunk=len(records))
            dx.copy_text(event_sql, "\n".join(event_lines) + "\n")

    def _update(self, to_update: list[Demand], changed_fields: dict, now) -> None:
        for batch in dx.batched(to_update, 2000):
            last = {
                demand_id: (seq, digest)
                for demand_id, seq, digest in DemandEvent.objects.filter(demand_id__in=[d.pk for d in batch])
                .order_by("demand_id", "-seq").distinct("demand_id").values_list("demand_id", "seq", "hash")
            }
            events = []
            for demand in batch:
                seq, prev_hash = last.get(demand.pk, (0, ""))
                changes = changed_fields[demand.pk]
                event = self._event(demand, seq + 1, prev_hash, workflow.EventKind.IMPORT_UPDATED, now, {
                    "changed": sorted(f.removesuffix("_id") for f in changes), "status": demand.status,
                    "changes": {f.removesuffix("_id"): values for f, values in changes.items()},
                })
                demand.chain_head, demand.updated_at = event.hash, now
                events.append(event)
            fields = sorted({f for d in batch for f in changed_fields[d.pk]} | {"updated_at", "chain_head"})
            Demand.objects.bulk_update(batch, fields)
            DemandEvent.objects.bulk_create(events)

    @staticmethod
    def _event(demand: Demand, seq: int, prev_hash: str, action: str, at, data: dict) -> DemandEvent:
        event = DemandEvent(demand_id=demand.pk, seq=seq, action=action, from_status="", to_status=demand.status,
                            actor_label="import", at=at, data=data)
        chain.seal(event, prev_hash)
        return event

    def export_queryset(self):
        return Demand.objects.all()

    def export_rows(self, queryset, user=None):
        fmt = dx.fmt
        for row in queryset.order_by("ref").values_list(
            "ref", "title", "content", "category__code", "urgency", "channel", "org_unit__code", "submitter__employee_no",
            "status", *TIMESTAMPS, "rating",
        ).iterator(chunk_size=5000):
            ref, title, content, category, urgency, channel, unit, submitter, status, *times, rating = row
            yield [ref, title, content, category, urgency, channel, unit, submitter or "", status,
                   *[fmt(t) for t in times], "" if rating is None else rating]


# --- Mediation cases -------------------------------------------------------------------------------------
@dx.register
class MediationKind(dx.Kind):
    name = "mediations"
    label = gettext_lazy("Mediation cases")
    columns = [
        Column("ref", ["编号"], dx.text(30), required=True),
        Column("demand_ref", ["关联诉求"], dx.text(30)),
        Column("org_unit_code", ["所属组织"], dx.text(50), required=True),
        Column("opened_at", ["受理时间"], dx.aware_datetime, required=True),
        Column("concluded_at", ["结案时间"], dx.aware_datetime),
        Column("outcome", ["结果"], dx.choice([c for c in MediationOutcome.choices if c[0]], OUTCOME_ZH)),
    ]
    example = ["M-2026-0001", "", "D01", "2026-03-02 10:00", "", ""]

    def _lookups(self, rows):
        return (_unit_ids(r.values["org_unit_code"] for r in rows),
                _in_batches(Demand, "ref", (r.values.get("demand_ref") for r in rows), ("id",)))

    def check(self, rows):
        errors = []
        units, demands = self._lookups(rows)
        for row in rows:
            v = row.values
            if v["org_unit_code"] and v["org_unit_code"] not in units:
                errors.append(_unknown(row, "org_unit_code", _("No unit has the code “%(code)s”.") % {"code": v["org_unit_code"]}))
            if v.get("demand_ref") and v["demand_ref"] not in demands:
                errors.append(_unknown(row, "demand_ref", _("No demand has the reference “%(ref)s”.") % {"ref": v["demand_ref"]}))
            concluded, outcome = v.get("concluded_at"), v.get("outcome")
            if concluded and not outcome:
                errors.append(RowError(row.number, "outcome", _("A concluded case needs its outcome.")))
            if outcome and not concluded:
                errors.append(RowError(row.number, "concluded_at", _("A case with an outcome needs its concluded_at time.")))
            if concluded and v.get("opened_at") and concluded < v["opened_at"]:
                errors.append(RowError(row.number, "concluded_at", _("The case cannot be concluded before it was opened.")))
        return errors

    def apply(self, rows, result):
        units, demands = self._lookups(rows)
        fields = ["demand_id", "org_unit_id", "opened_at", "concluded_at", "outcome"]
        existing = dx.existing_by_ref(MediationCase, (r.values["ref"] for r in rows), only=fields)
        upsert, errors = dx.RefUpsert(MediationCase), []
        for row in rows:
            v, current = row.values, existing.get(row.values["ref"])
            data = {"org_unit_id": units[v["org_unit_code"]], "opened_at": v["opened_at"]}
            for column, default in (("concluded_at", None), ("outcome", "")):
                if column in row.present or current is None:
                    data[column] = v.get(column) or default
            if "demand_ref" in row.present or current is None:
                data["demand_id"] = demands.get(v.get("demand_ref")) if v.get("demand_ref") else None
            concluded = data["concluded_at"] if "concluded_at" in data else current.concluded_at
            outcome = data["outcome"] if "outcome" in data else current.outcome
            if (concluded is None) != (outcome == ""):
                errors.append(RowError(row.number, "outcome", _("A case has an outcome exactly when it is concluded.")))
                continue
            upsert.put(v["ref"], current, data)
        if errors:
            raise RejectFile(errors)
        upsert.save(result)

    def export_queryset(self):
        return MediationCase.objects.all()

    def export_rows(self, queryset, user=None):
        for ref, demand_ref, unit, opened, concluded, outcome in queryset.order_by("ref").values_list(
            "ref", "demand__ref", "org_unit__code", "opened_at", "concluded_at", "outcome"
        ).iterator(chunk_size=5000):
            yield [ref, demand_ref or "", unit, dx.fmt(opened), dx.fmt(concluded), outcome]


# --- Life events ------------------------------------------------------------------------------------------
@dx.register
class LifeEventImportKind(dx.Kind):
    name = "life_events"
    label = gettext_lazy("Life events")
    columns = [
        Column("ref", ["编号"], dx.text(30), required=True),
        Column("employee_no", ["工号"], dx.text(30), required=True),
        Column("kind", ["事由"], dx.choice(LifeEventKind.choices, LIFE_EVENT_ZH), required=True),
        Column("event_date", ["日期"], dx.date, required=True),
    ]
    example = ["L-2026-0001", "E0001", "住院", "2026-03-05"]

    def check(self, rows):
        people = _person_ids(r.values["employee_no"] for r in rows)
        return [
            _unknown(row, "employee_no", _("No person has the employee number “%(no)s”.") % {"no": row.values["employee_no"]})
            for row in rows if row.values["employee_no"] and row.values["employee_no"] not in people
        ]

    def apply(self, rows, result):
        people = _person_ids(r.values["employee_no"] for r in rows)
        fields = ["person_id", "kind", "event_date", "visit_due_on"]
        existing = dx.existing_by_ref(LifeEvent, (r.values["ref"] for r in rows), only=fields)
        upsert = dx.RefUpsert(LifeEvent)
        for row in rows:
            v, current = row.values, existing.get(row.values["ref"])
            data = {"person_id": people[v["employee_no"]], "kind": v["kind"], "event_date": v["event_date"],
                    "visit_due_on": LifeEvent.due_on(v["event_date"])}
            upsert.put(v["ref"], current, data)
        upsert.save(result)

    def export_queryset(self):
        return LifeEvent.objects.all()

    def export_rows(self, queryset, user=None):
        for ref, number, kind, day in queryset.order_by("ref").values_list(
            "ref", "person__employee_no", "kind", "event_date"
        ).iterator(chunk_size=5000):
            yield [ref, number, kind, dx.fmt(day)]


# --- Visits ------------------------------------------------------------------------------------------------
@dx.register
class VisitImportKind(dx.Kind):
    name = "visits"
    label = gettext_lazy("Visits")
    columns = [
        Column("ref", ["编号"], dx.text(30), required=True),
        Column("employee_no", ["被走访人工号"], dx.text(30), required=True),
        Column("visitor_employee_no", ["走访人工号"], dx.text(30), required=True),
        Column("visited_on", ["走访日期"], dx.date, required=True),
        Column("kind", ["类型"], dx.choice(VisitKind.choices, VISIT_KIND_ZH)),
        Column("life_event_ref", ["关联事由"], dx.text(30)),
        Column("notes", ["记录"], dx.text(10000)),
        Column("hardship_household_ref", ["关联困难户"], dx.text(30)),
    ]
    example = ["V-2026-0001", "E0001", "E0002", "2026-03-06", "五必访", "L-2026-0001", "到医院看望，转达组织关心", ""]
    # services.visit_problems names the form's fields; a file names its columns.
    PROBLEM_COLUMNS = {"visited_on": "visited_on", "life_event": "life_event_ref", "hardship_household": "hardship_household_ref"}

    def _lookups(self, rows):
        people = _person_ids([r.values["employee_no"] for r in rows] + [r.values["visitor_employee_no"] for r in rows])
        events = _in_batches(LifeEvent, "ref", (r.values.get("life_event_ref") for r in rows), ("id", "person_id"))
        households = _in_batches(HardshipHousehold, "ref", (r.values.get("hardship_household_ref") for r in rows),
                                 ("id", "person_id"))
        return people, events, households

    def check(self, rows):
        errors = []
        people, events, households = self._lookups(rows)
        for row in rows:
            v = row.values
            for column in ("employee_no", "visitor_employee_no"):
                if v[column] and v[column] not in people:
                    errors.append(_unknown(row, column, _("No person has the employee number “%(no)s”.") % {"no": v[column]}))
            event, household = v.get("life_event_ref"), v.get("hardship_household_ref")
            if event and event not in events:
                errors.append(_unknown(row, "life_event_ref", _("No life event has the reference “%(ref)s”.") % {"ref": event}))
            if household and household not in households:
                errors.append(_unknown(row, "hardship_household_ref",
                                       _("No hardship household has the reference “%(ref)s”.") % {"ref": household}))
            problems = services.visit_problems(
                person_id=people.get(v["employee_no"]), visited_on=v.get("visited_on"),
                life_event_person_id=events[event][1] if event in events else None,
                household_person_id=households[household][1] if household in households else None,
            )
            errors += [RowError(row.number, self.PROBLEM_COLUMNS[field], message) for field, message in problems.items()]
        return errors

    def apply(self, rows, result):
        people, events, households = self._lookups(rows)
        fields = ["person_id", "visitor_id", "visited_on", "kind", "life_event_id", "hardship_household_id", "notes"]
        existing = dx.existing_by_ref(Visit, (r.values["ref"] for r in rows), only=fields)
        upsert = dx.RefUpsert(Visit)
        for row in rows:
            v, current = row.values, existing.get(row.values["ref"])
            life_event_id = events[v["life_event_ref"]][0] if v.get("life_event_ref") else None
            household_id = households[v["hardship_household_ref"]][0] if v.get("hardship_household_ref") else None
            kind = services.visit_kind(v.get("kind"), life_event_id=life_event_id, household_id=household_id)
            data = {"person_id": people[v["employee_no"]], "visitor_id": people[v["visitor_employee_no"]],
                    "visited_on": v["visited_on"]}
            for column, field, value, default in (
                ("kind", "kind", kind, kind),
                ("life_event_ref", "life_event_id", life_event_id, None),
                ("hardship_household_ref", "hardship_household_id", household_id, None),
                ("notes", "notes", v.get("notes") or "", ""),
            ):
                if column in row.present or current is None:
                    data[field] = value if column in row.present else default
            upsert.put(v["ref"], current, data)
        upsert.save(result)

    def export_queryset(self):
        return Visit.objects.all()

    def export_rows(self, queryset, user=None):
        for ref, number, visitor, day, kind, event_ref, notes, household_ref in queryset.order_by("ref").values_list(
            "ref", "person__employee_no", "visitor__employee_no", "visited_on", "kind", "life_event__ref", "notes",
            "hardship_household__ref",
        ).iterator(chunk_size=5000):
            yield [ref, number, visitor, dx.fmt(day), kind, event_ref or "", notes, household_ref or ""]



# --- The official work calendar ---------------------------------------------------------------------------
@dx.register
class CalendarImportKind(dx.Kind):
    """The official calendar of one or more years: the listed days replace the year's stored ones,
    the years become confirmed and open demands' deadlines are recomputed (demands.workcalendar)."""

    name = "calendar"
    label = gettext_lazy("Official work calendar")
    columns = [
        Column("date", ["日期"], dx.date, required=True),
        Column("kind", ["类型"], dx.choice(CalendarDayKind.choices, CALENDAR_DAY_ZH), required=True),
        Column("name", ["名称"], dx.text(100)),
    ]
    example = ["2027-01-01", "放假", "元旦"]

    def apply(self, rows, result):
        from .workcalendar import OfficialDay, load_calendar_years

        loaded = load_calendar_years(OfficialDay(
            r.values["date"], r.values["kind"] == CalendarDayKind.WORKDAY, r.values.get("name") or "") for r in rows)
        result.created += loaded.created
        result.updated += loaded.updated
        result.unchanged += loaded.unchanged

    def export_queryset(self):
        return WorkCalendarDay.objects.all()

    def export_rows(self, queryset, user=None):
        for day, is_workday, note in queryset.order_by("date").values_list("date", "is_workday", "note"):
            yield [dx.fmt(day), CalendarDayKind.WORKDAY if is_workday else CalendarDayKind.HOLIDAY, note]
