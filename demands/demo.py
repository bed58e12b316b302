"""Demo demands, visits, life events and mediation cases for `seed_demo`. Idempotent: every record
has a fixed reference and is skipped when it exists; deterministic apart from the "live" demands,
whose deadlines are counted back from the day of seeding so that the queues show every colour.

- 36 historical demands (January–October 2026) come in through the `demands` import kind, as an
  enterprise's old ledger would (one "imported" timeline event each).
- 8 live demands go through the workflow services (pending, accepted, in progress, resolved and
  awaiting the employee's rating, reopened …).
"""
from __future__ import annotations

import csv
import datetime
import io
import random

from django.db.models import Max
from django.utils import timezone

from portal import dataexchange
from portal.models import User

from . import calendar, services
from .choices import DEFAULT_CATEGORIES
from .models import Demand, DemandCategory, LifeEvent, MediationCase, RefCounter, SlaPolicy, Visit
from .sla import DEFAULT_POLICY

TITLES = {
    "salary": ["岗位调整后绩效工资未及时调整", "夜班津贴发放标准不清楚", "希望公开年度调薪规则"],
    "job_change": ["希望从检修岗调整到运行岗", "轮岗后培训安排不到位"],
    "housing": ["职工宿舍热水供应不稳定", "单身公寓空调老化需更换", "希望增加青年公寓房源"],
    "medical": ["体检项目希望增加心脑血管检查", "职工医务室下班后无人值守"],
    "career": ["希望开设电力技能提升培训班", "职称评审材料要求不明确"],
    "mental_health": ["工作压力大，希望提供心理咨询服务", "倒班人员睡眠问题希望得到关注"],
    "welfare": ["食堂午餐菜品单一，希望增加花样", "子女入托困难，希望协调幼儿园名额", "节日慰问品发放不及时"],
    "environment": ["车间噪声较大，申请配发降噪耳塞", "更衣室柜子不够用", "夜班交通车发车时间不合理", "厂区道路照明不足"],
    "labour_dispute": ["加班费计算存在争议", "劳务派遣人员休假安排争议"],
    "other": ["建议在厂区增设电动车充电桩", "建议开通职工意见线上征集"],
}
CHANNELS = ["self_service", "staff_entry", "visit", "hotline", "golden_idea", "self_service", "staff_entry"]
HISTORY_UNITS = ["ZB11-1", "ZB11-2", "ZB12-1", "ZB12-2", "ZB21-1", "ZB22-1", "HQ", "RLB"]
TZ = calendar.TZ


def seed(seeded: dict) -> None:
    units, people = seeded["units"], seeded["people"]
    categories = seed_reference_data()
    seed_history(units, people, categories)
    seed_live(units, people, categories)
    seed_life_events_and_visits(people)
    seed_mediation(units, people)
    seed_ledger(units, people)
    bump_counters()


def seed_reference_data() -> dict[str, DemandCategory]:
    for order, (code, name) in enumerate(DEFAULT_CATEGORIES):
        DemandCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order * 10})
    for urgency, (hours, days) in DEFAULT_POLICY.items():
        SlaPolicy.objects.get_or_create(category=None, urgency=urgency, defaults={"response_hours": hours, "resolution_days": days})
    # Labour disputes are urgent matters: a tighter policy of their own.
    dispute = DemandCategory.objects.get(code="labour_dispute")
    SlaPolicy.objects.get_or_create(category=dispute, urgency="normal", defaults={"response_hours": 4, "resolution_days": 5})
    return {c.code: c for c in DemandCategory.objects.all()}


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


def seed_history(units, people, categories) -> None:
    """36 closed-loop demands of 2026 through the import kind (idempotent by reference)."""
    rng = random.Random(20260301)
    people_by_unit: dict[str, list[str]] = {}
    for person in sorted(people.values(), key=lambda p: p.employee_no):
        code = next((c for c, u in units.items() if u.pk == person.org_unit_id), None)
        people_by_unit.setdefault(code, []).append(person.employee_no)
    header = ["ref", "title", "content", "category", "urgency", "channel", "org_unit_code", "submitter_employee_no",
              "status", "received_at", "first_response_at", "resolved_at", "return_visit_at", "rating"]
    rows = []
    codes = sorted(TITLES)
    for n in range(1, 37):
        code = codes[n % len(codes)]
        title = TITLES[code][n % len(TITLES[code])]
        unit = HISTORY_UNITS[n % len(HISTORY_UNITS)]
        submitter = "" if n % 9 == 0 else rng.choice(people_by_unit.get(unit, [""]))
        day = datetime.date(2026, 1 + (n * 7) // 26, 1 + (n * 5) % 27)
        while not calendar.is_workday(day):
            day += datetime.timedelta(days=1)
        received = _at(day, 9 + n % 7, (n * 13) % 60)
        first = received + datetime.timedelta(hours=rng.choice([1, 2, 3, 5, 20]))
        resolved = received + datetime.timedelta(days=rng.choice([2, 4, 6, 9, 12, 16]), hours=3)
        visit = resolved + datetime.timedelta(days=rng.choice([1, 2, 3]))
        rating = rng.choice([5, 5, 5, 4, 4, 4, 3, 2])
        status = ""
        if n % 11 == 0:
            status, first, resolved, visit, rating = "withdrawn", None, None, None, None
        elif n % 13 == 0:
            visit, rating = None, None
        rows.append([
            f"SQ2026-{n:06d}", title, f"{title}。请相关部门研究解决。", code, rng.choice(["normal", "normal", "urgent", "low"]),
            "anonymous" if not submitter else CHANNELS[n % len(CHANNELS)], unit, submitter, status,
            *[t.strftime("%Y-%m-%d %H:%M") if t else "" for t in (received, first, resolved, visit)], rating or "",
        ])
    existing = set(Demand.objects.filter(ref__in=[r[0] for r in rows]).values_list("ref", flat=True))
    rows = [r for r in rows if r[0] not in existing]
    if not rows:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    result = dataexchange.run_import("demands", buffer.getvalue().encode("utf-8"), "demo-demands.csv")
    if not result.ok:
        raise RuntimeError("demo demands did not import: " + "; ".join(str(e) for e in result.errors))


def _working_days_ago(days: int, hour: int) -> datetime.datetime:
    day = timezone.localdate()
    counted = 0
    while counted < days:
        day -= datetime.timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    # Today's office hour may still lie ahead (a seed at 06:00): a demand is never received in the
    # future, or its timeline shows it accepted before it was submitted.
    return min(_at(day, hour), timezone.now() - datetime.timedelta(minutes=10))


def seed_live(units, people, categories) -> None:
    """Demands in every state, through the services (so their timelines are real)."""
    users = {u.username: u for u in User.objects.filter(
        username__in=["staff", "secretary", "secretary2", "handler", "employee", "admin"])}
    if len(users) < 5:
        return
    staff, secretary, handler, employee = users["staff"], users["secretary"], users["handler"], users["employee"]
    # Who enters and manages a unit's demands: an account whose scope holds the unit (intake rule).
    secretary2 = users.get("secretary2", users.get("admin"))
    me = people["E10002"]
    specs = [
        # ref, title, category, urgency, unit, submitter, working days ago, steps
        ("SQ2026-000101", "夜班交通车发车时间不合理", "environment", "normal", "ZB11-1", "E10005", 0, []),
        ("SQ2026-000102", "职工宿舍热水供应不稳定", "housing", "urgent", "ZB11-2", "E10040", 1, ["accept"]),
        ("SQ2026-000103", "食堂午餐菜品单一，希望增加花样", "welfare", "normal", "ZB11-1", "E10002", 3, ["accept", "reply"]),
        ("SQ2026-000104", "加班费计算存在争议", "labour_dispute", "normal", "ZB12-1", "E10060", 6, ["accept", "reply"]),
        ("SQ2026-000105", "车间噪声较大，申请配发降噪耳塞", "environment", "normal", "ZB11-1", "E10002", 4, ["accept", "reply", "resolve"]),
        ("SQ2026-000106", "更衣室柜子不够用", "environment", "low", "ZB11-2", "E10033", 9, ["accept", "reply", "resolve", "return_visit_low", "reopen"]),
        ("SQ2026-000107", "希望开设电力技能提升培训班", "career", "normal", "ZB12-2", "E10090", 12, ["accept", "reply", "resolve", "return_visit"]),
        ("SQ2026-000108", "建议在厂区增设电动车充电桩", "other", "low", "ZB21-1", None, 2, []),
    ]
    done = set(Demand.objects.filter(ref__in=[s[0] for s in specs]).values_list("ref", flat=True))
    for ref, title, code, urgency, unit, submitter, ago, steps in specs:
        if ref in done:
            continue
        person = people.get(submitter) if submitter else None
        by = employee if person is me else secretary if unit.startswith("ZB11") else secretary2 if unit.startswith("ZB2") else staff
        demand = services.demand_submit(
            ref=ref, title=title, content=f"{title}，请尽快协调解决。", category=categories[code], urgency=urgency,
            channel="self_service" if person is me else ("anonymous" if person is None else "staff_entry"),
            org_unit=units[unit], submitter=person, by=by, received_at=_working_days_ago(ago, 9 + ago % 6),
        )
        manager = secretary if unit.startswith("ZB11") else staff
        for step in steps:
            if step == "accept":
                demand = services.demand_accept(demand=demand, by=manager, category=demand.category, urgency=urgency,
                                                handler=handler, lead_unit=units["HQ"], note="请后勤服务中心牵头办理")
            elif step == "reply":
                demand = services.demand_reply(demand=demand, by=handler, text="已收到，正在与相关部门协调，预计一周内答复。")
            elif step == "resolve":
                demand = services.demand_resolve(demand=demand, by=handler, result="已协调解决，详见附件说明。")
            elif step == "return_visit":
                demand = services.demand_return_visit(demand=demand, by=manager, rating=5, comment="电话回访，职工表示满意。")
            elif step == "return_visit_low":
                demand = services.demand_return_visit(demand=demand, by=manager, rating=2, comment="职工表示问题没有真正解决。")
            elif step == "reopen":
                demand = services.demand_reopen(demand=demand, by=manager, note="回访不满意，重新办理：增加柜子数量。")


def seed_life_events_and_visits(people) -> None:
    today = timezone.localdate()
    events = [
        ("SJ2026-000001", "E10003", "hospitalization", today - datetime.timedelta(days=2)),
        ("SJ2026-000002", "E10035", "childbirth", today - datetime.timedelta(days=6)),
        ("SJ2026-000003", "E10062", "bereavement", today - datetime.timedelta(days=10)),
        ("SJ2026-000004", "E10112", "retirement", datetime.date(2026, 9, 30)),
        ("SJ2026-000005", "E10004", "marriage", datetime.date(2026, 10, 18)),
    ]
    for ref, number, kind, day in events:
        if number in people:
            LifeEvent.objects.get_or_create(ref=ref, defaults={"person": people[number], "kind": kind, "event_date": day})
    visitor = people.get("E10161") or next(iter(people.values()))
    secretary = people.get("E10001") or visitor
    visits = [
        ("ZF2026-000001", "E10112", secretary, datetime.date(2026, 10, 2), "must_visit", "SJ2026-000004", "退休座谈，送上纪念品。本人身体健康，愿意参加退休职工志愿服务队。"),
        ("ZF2026-000002", "E10004", secretary, datetime.date(2026, 10, 22), "must_visit", "SJ2026-000005", "新婚慰问，转达组织祝福。"),
        ("ZF2026-000003", "E10005", visitor, datetime.date(2026, 11, 3), "heart_talk", None, "谈心谈话：反映夜班交通车发车时间与交接班时间冲突。"),
        ("ZF2026-000004", "E10061", visitor, datetime.date(2026, 11, 10), "hardship", None, "困难职工走访：家属长期患病，了解医疗费用报销情况。"),
    ]
    for ref, number, who, day, kind, event_ref, notes in visits:
        if number not in people or Visit.objects.filter(ref=ref).exists():
            continue
        life_event = LifeEvent.objects.filter(ref=event_ref).first() if event_ref else None
        Visit.objects.create(ref=ref, person=people[number], visitor=who, visited_on=day, kind=kind,
                             life_event=life_event, notes=notes)
    # The demand heard on the heart-to-heart talk.
    Demand.objects.filter(ref="SQ2026-000101", visit__isnull=True).update(visit=Visit.objects.filter(ref="ZF2026-000003").first())


def seed_mediation(units, people) -> None:
    cases = [
        ("TJ2026-000001", "班组工时分配纠纷", "ZB12-1", _at(datetime.date(2026, 8, 12), 10), _at(datetime.date(2026, 8, 20), 16),
         "success", "双方同意按照实际出勤重新核算工时，差额于下月工资中补发。", ["E10060", "E10063"]),
        ("TJ2026-000002", "加班费计算争议调解", "ZB12-1", _at(datetime.date(2026, 11, 5), 14), None, "", "", ["E10060"]),
    ]
    for ref, title, unit, opened, concluded, outcome, agreement, parties in cases:
        case, created = MediationCase.objects.get_or_create(ref=ref, defaults=dict(
            title=title, org_unit=units[unit], opened_at=opened, concluded_at=concluded, outcome=outcome,
            agreement=agreement, description=f"{title}：当事人就工时与报酬发生分歧，申请工会调解。",
        ))
        if created:
            case.parties.set([people[p] for p in parties if p in people])
            if "E10161" in people:
                case.mediators.set([people["E10161"]])
    demand = Demand.objects.filter(ref="SQ2026-000104").first()
    if demand:
        MediationCase.objects.filter(ref="TJ2026-000002", demand__isnull=True).update(demand=demand)


# The enterprise's ledger of the last eighteen months, so that trends, rankings and the heat map
# have shapes on a first run: units differ in how fast they answer and how satisfied people are,
# and some kinds of demand come in seasons (heat and noise in summer, dormitories in winter).
LEDGER_MONTHS = 18
LEDGER_FIRST = 200001  # refs SQ{year}-200001…, apart from the hand-written ones above
UNIT_PACE = {  # unit code prefix → (hours to the first response, days to resolve, mean rating)
    "ZB11": (3, 5, 4.5), "ZB12": (10, 9, 3.9), "ZB21": (2, 4, 4.6), "ZB22": (4, 6, 4.3), "ZB31": (20, 12, 3.6),
    "ZB32": (6, 7, 4.2), "ZB41": (8, 8, 4.0), "ZB42": (5, 6, 4.3), "ZB51": (4, 5, 4.4),
}
SEASONS = {"environment": (6, 7, 8), "housing": (11, 12, 1), "welfare": (1, 2, 9), "career": (3, 4), "salary": (1, 7)}
VISIT_NOTES = {
    "routine": ["日常走访，了解班组生产生活情况。", "走访一线班组，听取职工对食堂和交通车的意见。"],
    "heart_talk": ["谈心谈话：反映倒班作息不规律，希望调整排班。", "谈心谈话：关心子女入学问题。"],
    "hardship": ["困难职工走访：家属长期患病，了解医疗费用报销情况。", "困难帮扶走访：送去慰问金和生活用品。"],
    "must_visit": ["五必访：转达组织关怀，送上慰问。"],
}


def _months_back(today: datetime.date, count: int) -> list[tuple[int, int]]:
    index = today.year * 12 + today.month - 1
    return [((index - k) // 12, (index - k) % 12 + 1) for k in range(count - 1, -1, -1)]


def seed_ledger(units, people) -> None:
    """A few thousand demands, life events, visits and mediation cases over the last 18 months, through
    the import kinds (as an enterprise's old ledger would come in). Skipped when it is there."""
    if Demand.objects.filter(ref__regex=r"^SQ\d{4}-2\d{5}$").exists():
        return
    rng = random.Random(20250601)
    today = timezone.localdate()
    now = timezone.now()
    by_unit: dict[str, list[str]] = {}
    for person in sorted(people.values(), key=lambda p: p.employee_no):
        by_unit.setdefault(person.org_unit.code, []).append(person.employee_no)
    unit_codes = sorted(by_unit)
    weights = [len(by_unit[c]) for c in unit_codes]
    visitors = {c: next((no for no in by_unit.get(c, [])), None) for c in unit_codes}
    codes = sorted(TITLES)

    demand_rows, counters = [], {}
    for year, month in _months_back(today, LEDGER_MONTHS):
        for _ in range(rng.randint(150, 190)):
            code = rng.choice(codes + [c for c, months in SEASONS.items() if month in months] * 3)
            unit = rng.choices(unit_codes, weights)[0]
            hours, days, mean = next((v for k, v in UNIT_PACE.items() if unit.startswith(k)), (6, 7, 4.2))
            day = datetime.date(year, month, rng.randint(1, 28))
            while not calendar.is_workday(day):
                day += datetime.timedelta(days=1)
            received = _at(day, rng.randint(8, 17), rng.randint(0, 59))
            if received > now:
                continue
            first = received + datetime.timedelta(hours=max(0.5, rng.expovariate(1 / hours)))
            resolved = received + datetime.timedelta(days=max(1, rng.expovariate(1 / days)), hours=rng.randint(1, 6))
            visit = resolved + datetime.timedelta(days=rng.choice([1, 2, 3, 5, 9]))
            rating = min(5, max(1, round(rng.gauss(mean, 0.9))))
            status = ""
            roll = rng.random()
            if roll < 0.02:
                status, first, resolved, visit, rating = "withdrawn", None, None, None, None
            elif roll < 0.03:
                status, first, resolved, visit, rating = "rejected", first, None, None, None
            if resolved and resolved > now:
                resolved, visit, rating = None, None, None
            if visit and visit > now:
                visit, rating = None, None
            if first and first > now:
                first = None
            if rating and rng.random() < 0.12:
                rating = None  # visited, but no rating given
            counters[year] = counters.get(year, LEDGER_FIRST - 1) + 1
            anonymous = rng.random() < 0.06
            submitter = "" if anonymous else rng.choice(by_unit[unit])
            title = rng.choice(TITLES[code])
            demand_rows.append([
                f"SQ{year}-{counters[year]:06d}", title, f"{title}。{rng.choice(['请相关部门研究解决。', '希望尽快答复。', '班组职工普遍反映。'])}",
                code, rng.choice(["normal"] * 6 + ["urgent"] * 2 + ["low"] * 2),
                "anonymous" if anonymous else rng.choice(CHANNELS), unit, submitter, status,
                *[t.strftime("%Y-%m-%d %H:%M") if t else "" for t in (received, first, resolved, visit)], rating or "",
            ])
    header = ["ref", "title", "content", "category", "urgency", "channel", "org_unit_code", "submitter_employee_no",
              "status", "received_at", "first_response_at", "resolved_at", "return_visit_at", "rating"]
    _import("demands", header, demand_rows)

    event_rows, visit_rows = [], []
    kinds = ["marriage", "bereavement", "hospitalization", "childbirth", "retirement", "hardship"]
    visit_kinds = ["routine"] * 5 + ["heart_talk"] * 3 + ["hardship"]
    serial = {"SJ": {}, "ZF": {}}

    def next_ref(prefix, year):
        serial[prefix][year] = serial[prefix].get(year, LEDGER_FIRST - 1) + 1
        return f"{prefix}{year}-{serial[prefix][year]:06d}"

    for year, month in _months_back(today, LEDGER_MONTHS):
        for _ in range(rng.randint(8, 14)):
            unit = rng.choices(unit_codes, weights)[0]
            day = datetime.date(year, month, rng.randint(1, 28))
            if day >= today:
                continue
            ref = next_ref("SJ", year)
            person = rng.choice(by_unit[unit])
            event_rows.append([ref, person, rng.choice(kinds), day.isoformat()])
            lag = rng.choice([1, 2, 3, 3, 4, 5, 6, 9, 12])  # mostly within the 7 days 五必访 allows
            visited = day + datetime.timedelta(days=lag)
            if visited < today and visitors.get(unit) and rng.random() < 0.9:
                visit_rows.append([next_ref("ZF", visited.year), person, visitors[unit], visited.isoformat(),
                                   "must_visit", ref, VISIT_NOTES["must_visit"][0]])
        for _ in range(rng.randint(50, 70)):
            unit = rng.choices(unit_codes, weights)[0]
            day = datetime.date(year, month, rng.randint(1, 28))
            if day >= today or not visitors.get(unit):
                continue
            kind = rng.choice(visit_kinds)
            visit_rows.append([next_ref("ZF", year), rng.choice(by_unit[unit]), visitors[unit], day.isoformat(), kind,
                               "", rng.choice(VISIT_NOTES[kind])])
    _import("life_events", ["ref", "employee_no", "kind", "event_date"], event_rows)
    _import("visits", ["ref", "employee_no", "visitor_employee_no", "visited_on", "kind", "life_event_ref", "notes"],
            visit_rows)

    disputes = Demand.objects.filter(ref__regex=r"^SQ\d{4}-2\d{5}$", category__code="labour_dispute").order_by("ref")
    mediation_rows = []
    for index, (ref, unit_code, received, resolved) in enumerate(
            disputes.values_list("ref", "org_unit__code", "received_at", "resolved_at")[:60]):
        if index % 2:
            continue
        opened = received + datetime.timedelta(days=1)
        concluded = resolved + datetime.timedelta(hours=2) if resolved else None
        outcome = rng.choice(["success"] * 7 + ["failed", "referred"]) if concluded else ""
        mediation_rows.append([f"TJ{received.year}-{LEDGER_FIRST + index:06d}", ref, unit_code,
                               timezone.localtime(opened).strftime("%Y-%m-%d %H:%M"),
                               timezone.localtime(concluded).strftime("%Y-%m-%d %H:%M") if concluded else "", outcome])
    _import("mediations", ["ref", "demand_ref", "org_unit_code", "opened_at", "concluded_at", "outcome"], mediation_rows)


def _import(kind: str, header: list[str], rows: list[list]) -> None:
    if not rows:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    result = dataexchange.run_import(kind, buffer.getvalue().encode("utf-8"), f"demo-{kind}.csv")
    if not result.ok:
        raise RuntimeError(f"demo {kind} did not import: " + "; ".join(str(e) for e in result.errors[:10]))


def bump_counters() -> None:
    """Let new references continue after the demo's fixed ones."""
    year = timezone.localdate().year
    for model, prefix in ((Demand, "SQ"), (LifeEvent, "SJ"), (Visit, "ZF"), (MediationCase, "TJ")):
        top = model.objects.filter(ref__startswith=f"{prefix}{year}-").aggregate(top=Max("ref"))["top"]
        if top and top[-6:].isdigit():
            counter, _created = RefCounter.objects.get_or_create(prefix=prefix, year=year)
            if counter.value < int(top[-6:]):
                RefCounter.objects.filter(pk=counter.pk).update(value=int(top[-6:]))

