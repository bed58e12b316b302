"""Organisational life of the scale data: 三会一课 and theme party days per branch and party group
(held, a few cancelled or never updated, the next month's planned), the attendance of the party
members on each roster, points for attending, and responsibility lists (责任清单) with their
履责记实 records."""
from __future__ import annotations

import datetime

from activities.models import Activity, Attendance, ItemEvent, ResponsibilityItem
from ..copypump import CopyPump

from . import texts
from .bulk import (
    NULL,
    Clock,
    Writer,
    allocate_ids,
    insert_select,
    local_midnight,
    opt,
    text,
)
from .org import Org
from .plan import Plan

HOUR, DAY = 3600, 86400
COMMITTEE_SIZE = 5  # members of a branch committee (支委)
EXTRA_TYPES = ["study_session", "volunteer_service", "competition", "culture_sports"]
POINTS_MONTHS = 6  # the points ledger was introduced this many months before `until`


def _months(first: datetime.date, last: datetime.date) -> list[tuple[int, int]]:
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    day = min(day, 28)
    return local_midnight(datetime.date(year, month, day)) + hour * HOUR + minute * 60


def _select(rows: list, wanted: int, rng) -> list:
    """Exactly min(wanted, len(rows)) of the rows, in their order (selection sampling)."""
    chosen, left = [], len(rows)
    for row in rows:
        if rng.random() * left < wanted - len(chosen):
            chosen.append(row)
        left -= 1
    return chosen


class Rosters:
    """The party members of each branch and party group (people in a branch's groups)."""

    def __init__(self, org: Org):
        self.branch: list[list[int]] = [[] for _ in org.branches]
        self.unit: dict[int, list[int]] = {}
        for i, b in enumerate(org.person_branch):
            if b >= 0 and org.person_member[i]:
                self.branch[b].append(org.person_id[i])
                self.unit.setdefault(org.person_unit[i], []).append(org.person_id[i])

    def of(self, type_: str, branch: int, unit: int) -> list[int]:
        if type_ == "party_group":
            return self.unit.get(unit, [])
        if type_ == "branch_committee":
            return self.branch[branch][:COMMITTEE_SIZE]
        return self.branch[branch]


def activities(plan: Plan, org: Org, steps) -> None:
    rng, clock = plan.rng("activities"), Clock()
    until = plan.until_s
    first_day, last_day = clock.local_date(plan.start_s), clock.local_date(until + 31 * DAY)
    groups_of: list[list[int]] = [[] for _ in org.branches]
    for g, b in enumerate(org.group_branch):
        groups_of[b].append(org.groups[g])
    slots = []  # (held_at, type, branch, unit)
    for year, month in _months(first_day, last_day):
        for b, unit in enumerate(org.branches):
            slots.append((_at(year, month, 3 + (b + month) % 8, 14, 30), "branch_committee", b, unit))
            groups = groups_of[b]
            slots.append((_at(year, month, 10 + (b * 7 + month) % 10, 16), "party_group", b, groups[(b + month) % len(groups)]))
            slots.append((_at(year, month, 15 + (b + month * 3) % 11, 14), "theme_party_day", b, unit))
            if month % 3 == 2:  # the middle month of a quarter
                slots.append((_at(year, month, 18 + b % 8, 9), "general_assembly", b, unit))
                slots.append((_at(year, month, 22 + (b * 3) % 6, 15), "party_lecture", b, unit))
    slots = [s for s in slots if plan.start_s <= s[0] <= until + 31 * DAY]
    wanted = plan.sizes.activities
    chosen = _select(slots, wanted, rng)
    span = max(1, until - plan.start_s)
    while len(chosen) < wanted:  # more than the schedule: study sessions, volunteering, competitions
        b = rng.randrange(len(org.branches))
        chosen.append((plan.start_s + rng.randrange(span), EXTRA_TYPES[rng.randrange(4)], b, org.branches[b]))
    chosen.sort()

    rosters = Rosters(org)
    ids = allocate_ids("activities.Activity", len(chosen))
    writer = Writer(Activity, ["id", "ref", "type", "title", "org_unit_id", "held_at", "location", "agenda", "status",
                               "minutes", "notified_at", "created_by_id", "created_at", "updated_at"])
    attendance_rows = []  # (activity id, roster, status kind, held_at)
    for n, (pk, (held, type_, b, unit)) in enumerate(zip(ids, chosen), 1):
        if held > until:
            status = "planned"
        else:
            u = rng.random()
            status = "held" if u < 0.95 else "cancelled" if u < 0.98 else "planned"
        day = clock.local_date(held)
        name = texts.ACTIVITY_TITLES[type_]
        if type_ in ("theme_party_day", "party_lecture", "study_session"):
            title = f"{name}：{texts.ACTIVITY_THEMES[rng.randrange(len(texts.ACTIVITY_THEMES))]}"
        else:
            title = f"{day.year}年{day.month}月{name}"
        created = min(held - 10 * DAY, until)
        notified = held - 3 * DAY if held - 3 * DAY <= until else None
        writer.add(",".join((
            str(pk), text(f"HD{day:%Y%m%d}-{plan.namespace}-{n:06d}"), type_, text(title), str(unit), clock.copy(held),
            text(texts.LOCATIONS[rng.randrange(len(texts.LOCATIONS))]), text(texts.AGENDAS[rng.randrange(len(texts.AGENDAS))]),
            status, text(texts.MINUTES[rng.randrange(2)] if status == "held" else ""), clock.copy(notified),
            str(org.secretary[b].id), clock.copy(created), clock.copy(min(held + DAY, until) if held <= until else created),
        )))
        if status != "cancelled":
            attendance_rows.append((pk, rosters.of(type_, b, unit), status, held))
    writer.flush()
    steps.done("activities", writer.count)
    steps.done("attendance", _attendance(plan, attendance_rows, rng, clock))


def _attendance(plan: Plan, rows, rng, clock) -> int:
    """Exactly sizes.attendance roster lines (or every candidate when there are fewer), drawn
    evenly; present, on leave or absent at held activities, not yet recorded at planned ones."""
    with CopyPump() as pump:
        return _attendance_lines(plan, rows, rng, clock, pump)


def _attendance_lines(plan: Plan, rows, rng, clock, pump) -> int:
    until = plan.until_s
    candidates = sum(len(roster) for _pk, roster, _status, _held in rows)
    wanted, left = min(plan.sizes.attendance, candidates), candidates
    writer = Writer(Attendance, ["activity_id", "person_id", "status", "checked_in_at", "source", "leave_reason", "updated_at"],
                    batch=100_000, pump=pump)
    random = rng.random
    for pk, roster, status, held in rows:
        updated = clock.copy(min(held + DAY, until) if held <= until else until)
        for person in roster:
            if random() * left < wanted - writer.count - len(writer.lines):
                if status == "held":
                    u = random()
                    if u < 0.86:
                        qr = u < 0.35
                        line = (f"{pk},{person},present,{clock.copy(held + int(u * 3000) - 600) if qr else NULL},"
                                f"{'qr' if qr else 'roster'},\"\",{updated}")
                    elif u < 0.93:
                        line = f"{pk},{person},leave,{NULL},roster,{text(texts.LEAVE_REASONS[int(u * 1000) % 5])},{updated}"
                    else:
                        line = f"{pk},{person},absent,{NULL},roster,\"\",{updated}"
                else:
                    line = f"{pk},{person},absent,{NULL},roster,\"\",{updated}"
                writer.add(line)
            left -= 1
    writer.flush()
    return writer.count


def points(plan: Plan, cursor, steps) -> None:
    """积分 for being present at held activities, as activities.services.award_points_for_activity
    awards them (the type's points rule, source_key "attendance:<id>"), for the last months."""
    since = plan.until - datetime.timedelta(days=30 * POINTS_MONTHS)
    count = insert_select(cursor, "members.PointsEntry", {
        "person_id": "t.person_id", "points": "r.points", "reason": "left('参加活动：' || a.title, 200)",
        "source": "'attendance'", "source_key": "'attendance:' || t.id",
        "awarded_on": "(a.held_at AT TIME ZONE 'Asia/Shanghai')::date",
        "created_at": "least(a.held_at + interval '1 day', %s)",
    }, f"{Attendance._meta.db_table} t JOIN {Activity._meta.db_table} a ON a.id = t.activity_id "
       "JOIN activities_pointsrule r ON r.type = a.type AND r.is_active AND r.points > 0 "
       "WHERE t.status = 'present' AND a.status = 'held' AND a.held_at >= %s AND a.held_at <= %s AND a.ref LIKE %s "
       "ORDER BY t.id", [plan.until], [since, plan.until, f"HD________-{plan.namespace}-%"], moment=plan.until)
    steps.done("points entries", count)


# --- Responsibility lists ------------------------------------------------------------------------------
def responsibility_items(plan: Plan, org: Org, steps) -> None:
    """Per year: the group company's list (items of its departments, each broken down to every
    general branch) and every branch's own list, due at month and quarter ends; past ones mostly
    approved (some late, some awaiting approval, returned or overdue), current ones in progress."""
    rng, clock = plan.rng("items"), Clock()
    until = plan.until_s
    until_day = clock.local_date(until)
    first_day = clock.local_date(plan.start_s)
    years = list(range(first_day.year, clock.local_date(until - 1).year + 1))  # a window may end at 1 January 00:00
    weights = []
    for year in years:
        begin = max(first_day, datetime.date(year, 1, 1))
        end = min(until_day, datetime.date(year, 12, 31))
        weights.append(max(1, (end - begin).days + 1))
    total, wanted = sum(weights), plan.sizes.items
    quotas = [wanted * w // total for w in weights]
    quotas[-1] += wanted - sum(quotas)
    rosters = Rosters(org)
    n_gb = len(org.general_branches)
    rows = []  # dicts, parents before children
    for year, quota in zip(years, quotas):
        tops = max(1, round(quota * 0.06 / (1 + n_gb))) if quota >= 2 + n_gb else 0
        for k in range(tops):
            top = dict(year=year, level="top", lead=org.root_departments[k % len(org.root_departments)], branch=-1,
                       gb=-1, title=texts.ITEM_TITLES[k % len(texts.ITEM_TITLES)], children=[])
            rows.append(top)
            for gb, unit in enumerate(org.general_branches):
                child = dict(year=year, level="gb", lead=unit, branch=-1, gb=gb, title=top["title"], parent=top)
                top["children"].append(child)
                rows.append(child)
        left = quota - tops * (1 + n_gb)
        for k in range(max(0, left)):
            b = k % len(org.branches)
            rows.append(dict(year=year, level="branch", lead=org.branches[b], branch=b, gb=org.branch_gb[b],
                             title=texts.ITEM_TITLES[(k // len(org.branches) + b) % len(texts.ITEM_TITLES)]))
    ids = allocate_ids("activities.ResponsibilityItem", len(rows))
    for pk, row in zip(ids, rows):
        row["id"], row["first"] = pk, first_day
        _item_state(row, rng, until, until_day, org, rosters)
    for row in rows:
        if row["level"] == "top":
            children = row["children"]
            total_progress = sum(c["progress"] for c in children)
            row["progress"] = (total_progress * 2 + len(children)) // (len(children) * 2)  # workflow.rollup_progress
            done = all(c["status"] == "approved" for c in children)
            row["status"] = "approved" if done else "in_progress"
            row["completed"] = max(c["completed"] for c in children) if done else None
    items = Writer(ResponsibilityItem, ["id", "ref", "title", "requirement", "parent_id", "lead_org_unit_id", "responsible_id",
                                        "supervising_unit_id", "deadline", "completed_at", "status", "progress",
                                        "copied_from_id", "created_at", "updated_at"])
    records = Writer(ItemEvent, ["item_id", "kind", "progress", "note", "evidence", "evidence_name", "by_id", "at"])
    for n, row in enumerate(rows, 1):
        parent = row.get("parent")
        supervising = org.root if row["level"] != "branch" else org.general_branches[row["gb"]]
        items.add(",".join((
            str(row["id"]), text(f"ZR{clock.local_date(row['created']):%Y%m%d}-{plan.namespace}-{n:06d}"),
            text(row["title"]), text(texts.ITEM_REQUIREMENTS[n % len(texts.ITEM_REQUIREMENTS)]),
            opt(parent["id"] if parent else None), str(row["lead"]), opt(row.get("responsible")), str(supervising),
            row["deadline"].isoformat(), clock.copy(row["completed"]), row["status"], str(row["progress"]), NULL,
            clock.copy(row["created"]), clock.copy(row["updated"]),
        )))
        for kind, progress, note, by, at in row.get("records", ()):
            records.add(f"{row['id']},{kind},{opt(progress)},{text(note)},\"\",\"\",{opt(by)},{clock.copy(at)}")
    items.flush()
    records.flush()
    steps.done("responsibility items", items.count)
    steps.done("responsibility records", records.count)


def _item_state(row: dict, rng, until: int, until_day: datetime.date, org: Org, rosters: Rosters) -> None:
    """Deadline, status, progress, completion and the 履责记实 records of one item."""
    year, first = row["year"], row["first"]
    months = [m for m in (3, 6, 6, 9, 12, 12, 4, 5, 7, 8, 10, 11) if (year, m) > (first.year, first.month)] or [12]
    month = months[rng.randrange(len(months))]
    deadline = datetime.date(year, month, 28) + datetime.timedelta(days=4)
    deadline = deadline.replace(day=1) - datetime.timedelta(days=1)  # the month's last day
    opened = max(local_midnight(datetime.date(year, 1, 1)), local_midnight(first))  # the list of the year is made
    created = min(opened + rng.randint(2, 20) * DAY + 9 * HOUR, until - HOUR)
    due = local_midnight(deadline + datetime.timedelta(days=1))  # 00:00 the day after the deadline
    row.update(deadline=deadline, created=created, completed=None, records=[])
    if row["level"] == "top":
        row["responsible"] = org.manager.person if org.manager else None
        row["updated"] = created
        return
    if row["level"] == "gb":
        secretary = org.gb_secretary[row["gb"]]
        doer, approver = secretary, org.manager
    else:
        b = row["branch"]
        secretary = org.secretary[row["branch"]]
        members = rosters.branch[b]
        if members and rng.random() < 0.6:
            responsible = members[rng.randrange(len(members))]
        else:
            responsible = secretary.person
        doer = secretary  # updates progress in the branch's scope
        # Nobody approves their own item: the general branch's secretary approves the secretary's.
        approver = org.gb_secretary[row["gb"]] if responsible == secretary.person else secretary
        row["responsible"] = responsible
    if row["level"] == "gb":
        row["responsible"] = secretary.person
    u = rng.random()
    if due <= until:
        if u < 0.80:
            status, completed = "approved", due - rng.randint(1, 40) * DAY + rng.randint(9, 17) * HOUR
        elif u < 0.88:
            status, completed = "approved", due + rng.randint(1, 15) * DAY + rng.randint(9, 17) * HOUR
        elif u < 0.92:
            status, completed = "submitted", None
        elif u < 0.94:
            status, completed = "returned", None
        else:
            status, completed = "in_progress", None
    else:
        if u < 0.25:
            status, completed = "approved", None
        elif u < 0.3:
            status, completed = "submitted", None
        else:
            status, completed = "in_progress", None
    if status == "approved" and completed is None:  # early: between creation and now
        completed = created + int((until - created) * rng.random())
    if completed is not None:
        completed = max(created + DAY, min(completed, until - 60))
    elapsed = max(0.0, min(1.0, (until - created) / max(1, due - created)))
    progress = 100 if status in ("approved", "submitted", "returned") else int(elapsed * 90) // 10 * 10
    records = row["records"]
    by_doer = doer.id if doer else None
    halfway = created + ((completed or until) - created) // 2
    if progress:
        records.append(("progress", min(progress, 50), texts.ITEM_NOTES[0], by_doer, halfway))
    if status in ("approved", "submitted", "returned"):
        submitted = (completed - 2 * DAY) if completed else min(until - HOUR, max(halfway + DAY, due - 3 * DAY))
        submitted = max(halfway + 60, submitted)
        records.append(("submit", 100, texts.ITEM_NOTES[2], by_doer, submitted))
        if status == "approved":
            completed = max(completed, submitted + 60)
            records.append(("approve", None, "", approver.id if approver else None, completed))
        elif status == "returned":
            returned_at = min(until - 60, submitted + DAY)
            records.append(("return", None, texts.RETURN_NOTES[rng.randrange(2)], approver.id if approver else None,
                            max(returned_at, submitted + 60)))
    row.update(status=status, completed=completed, progress=progress,
               updated=max([created] + [r[4] for r in records]))
