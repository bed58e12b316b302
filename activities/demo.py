"""Demo activities, attendance, responsibility lists and projects for `seed_demo`.
Deterministic and idempotent: every record has a fixed reference and is created only once."""
from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from members.choices import PARTY_MEMBER_STATUSES

from . import meeting_summary, services
from .choices import ActivityStatus, AttendanceStatus, ItemStatus, ProjectStage
from .models import Activity, Attendance, Expense, ItemEvent, Milestone, Project, ResponsibilityItem, Risk

MONTHS = 18  # of organisational life, so that the 三会一课 matrix and its KPI have a history
TITLES = {
    "branch_committee": "支部委员会会议", "party_group": "党小组会", "general_assembly": "支部党员大会",
    "party_lecture": "书记讲党课", "theme_party_day": "主题党日活动",
}


def _aware(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def seed_activities(units, people) -> None:
    today = timezone.localdate()
    members_by_unit: dict[str, list] = {}
    for person in people.values():
        if person.political_status in PARTY_MEMBER_STATUSES:
            members_by_unit.setdefault(person.org_unit.code, []).append(person)
    branches = {code: sorted(c for c, u in units.items() if u.parent_id == unit.pk and u.kind == "group")
                for code, unit in sorted(units.items()) if unit.kind == "branch"}
    for branch_code, groups in branches.items():
        if not groups:
            continue
        branch = units[branch_code]
        branch_members = [p for g in groups for p in members_by_unit.get(g, [])]
        for months_back in range(MONTHS - 1, -2, -1):
            index = today.year * 12 + today.month - 1 - months_back
            year, month = index // 12, index % 12 + 1
            plan = [("branch_committee", branch, 5), ("party_group", units[groups[0]], 12), ("theme_party_day", branch, 20)]
            if month % 3 == 0:
                plan += [("general_assembly", branch, 24), ("party_lecture", branch, 26)]
            for type_, unit, day in plan:
                ref = f"DEMO-{branch_code}-{year}{month:02d}-{type_}"
                held_at = _aware(datetime.date(year, month, day), 15)
                # Leave a few gaps so the compliance matrix shows missing windows; each decision
                # depends on the reference only, so every run makes the same ones.
                rng = random.Random(ref)
                if months_back > 0 and type_ != "theme_party_day" and rng.random() < 0.15:
                    continue
                status = ActivityStatus.HELD if held_at < timezone.now() else ActivityStatus.PLANNED
                activity, created = Activity.objects.get_or_create(ref=ref, defaults=dict(
                    type=type_, title=f"{year}年{month}月{TITLES[type_]}", org_unit=unit, held_at=held_at,
                    status=status, location="党员活动室",
                    agenda="1. 学习传达上级精神\n2. 通报支部工作\n3. 讨论下月安排",
                    minutes="会议按议程进行，全体参会党员进行了讨论。" if status == ActivityStatus.HELD else ""))
                if not created:
                    continue
                invited = members_by_unit.get(unit.code, []) if unit != branch else branch_members
                rows = []
                for person in invited:
                    roll = rng.random()
                    if status == ActivityStatus.PLANNED:
                        state = AttendanceStatus.ABSENT
                    else:
                        state = AttendanceStatus.PRESENT if roll < 0.85 else AttendanceStatus.LEAVE if roll < 0.93 else AttendanceStatus.ABSENT
                    rows.append(Attendance(activity=activity, person=person, status=state, source="roster",
                                           checked_in_at=held_at if state == AttendanceStatus.PRESENT else None,
                                           leave_reason="出差" if state == AttendanceStatus.LEAVE else ""))
                Attendance.objects.bulk_create(rows, ignore_conflicts=True)
                if status == ActivityStatus.HELD:
                    services.award_points_for_activity(activity)


def seed_employee_invitations(people) -> None:
    """The demo employee account (E10002, not a party member) is invited to its branch's theme
    party days, so its home page and activity list show something."""
    employee = people.get("E10002")
    if employee is None:
        return
    for activity in Activity.objects.filter(ref__startswith="DEMO-ZB11-", type="theme_party_day"):
        held = activity.status == ActivityStatus.HELD
        Attendance.objects.get_or_create(activity=activity, person=employee, defaults=dict(
            status=AttendanceStatus.PRESENT if held else AttendanceStatus.ABSENT, source="roster",
            checked_in_at=activity.held_at if held else None))
        if held:
            services.award_points_for_activity(activity)  # at most once per attendance


def seed_items(units, people) -> None:
    today = timezone.localdate()
    year = today.year
    secretary_people = {"ZB11": people.get("E10001"), "ZB21": people.get("E10109")}
    handler = people.get("E10179")
    employee = people.get("E10002")
    lists = [
        ("ZB11", "运行部党支部年度党建责任清单", [
            ("落实“三会一课”制度", 40, employee, ItemStatus.IN_PROGRESS, 60),
            ("开展主题党日活动", -3, employee, ItemStatus.SUBMITTED, 100),
            ("党员发展对象培养考察", 2, secretary_people["ZB11"], ItemStatus.IN_PROGRESS, 50),
            ("安全生产党员责任区建设", -10, handler, ItemStatus.IN_PROGRESS, 30),
            ("整理年度党建台账", -20, employee, ItemStatus.APPROVED, 100),
        ]),
        ("ZB21", "机关第一党支部年度党建责任清单", [
            ("机关作风建设专项行动", 25, secretary_people["ZB21"], ItemStatus.IN_PROGRESS, 20),
            ("青年理论学习小组", 1, None, ItemStatus.IN_PROGRESS, 70),
        ]),
        ("HQ", "后勤服务中心服务职工责任清单", [
            ("食堂满意度提升", 3, handler, ItemStatus.IN_PROGRESS, 80),
            ("职工之家设施维护", -2, handler, ItemStatus.RETURNED, 90),
        ]),
    ]
    for unit_code, root_title, children in lists:
        root, _created = ResponsibilityItem.objects.get_or_create(ref=f"DEMO-{unit_code}-{year}", defaults=dict(
            title=root_title, requirement="按照党委年度党建工作要点逐项落实。", lead_org_unit=units[unit_code],
            supervising_unit=units["DQB"], deadline=datetime.date(year, 12, 31), responsible=secretary_people.get(unit_code)))
        for index, (title, days, person, status, progress) in enumerate(children, start=1):
            item, created = ResponsibilityItem.objects.get_or_create(ref=f"DEMO-{unit_code}-{year}-{index:02d}", defaults=dict(
                title=title, requirement=f"{title}，按期报送佐证材料。", parent=root, lead_org_unit=units[unit_code],
                supervising_unit=units["DQB"], responsible=person, deadline=today + datetime.timedelta(days=days),
                status=status, progress=progress,
                completed_at=timezone.now() - datetime.timedelta(days=3) if status == ItemStatus.APPROVED else None))
            if created:
                item.cooperating_units.set([units["DQB"]])
                ItemEvent.objects.create(item=item, kind="progress", progress=progress, note="已按计划推进，完成阶段性工作。")
                if status in (ItemStatus.SUBMITTED, ItemStatus.APPROVED):
                    ItemEvent.objects.create(item=item, kind="submit", progress=100, note="已完成，请审核。")
                if status == ItemStatus.RETURNED:
                    ItemEvent.objects.create(item=item, kind="submit", progress=100, note="已完成。")
                    ItemEvent.objects.create(item=item, kind="return", note="佐证材料不全，请补充照片。")
        services.rollup_ancestors(ResponsibilityItem.objects.filter(parent=root).first())


def seed_projects(units, people) -> None:
    specs = [
        ("DEMO-XM-1", "“红色引擎”党建品牌", "party_brand", "ZB11", "E10001", ProjectStage.EXECUTION, Decimal("50000")),
        ("DEMO-XM-2", "机组检修青年突击队", "youth_commando", "ZB12", "E10045", ProjectStage.PLANNING, Decimal("30000")),
        ("DEMO-XM-3", "节能降耗降本增效攻关", "cost_reduction", "ZB21", "E10109", ProjectStage.EVALUATION, Decimal("80000")),
    ]
    for ref, name, kind, unit_code, leader_no, stage, budget in specs:
        leader = people.get(leader_no)
        project, created = Project.objects.get_or_create(ref=ref, defaults=dict(
            name=name, kind=kind, org_unit=units[unit_code], leader=leader, stage=stage, budget=budget,
            objective="以党建引领生产经营，形成可复制可推广的经验。", scope_text="支部全体党员及青年职工。",
            starts_on=datetime.date(2026, 3, 1), ends_on=datetime.date(2026, 12, 31)))
        if not created:
            continue
        team = [p for p in people.values() if p.org_unit.code.startswith(unit_code)][:5]
        project.team.set(team)
        for i, (title, progress) in enumerate([("立项论证与方案", 100), ("组织实施", 60), ("总结评估", 0)]):
            Milestone.objects.create(project=project, title=title, due_on=datetime.date(2026, 4 + i * 3, 30),
                                     weight=1 + i % 2, progress=progress)
        Expense.objects.create(project=project, spent_on=datetime.date(2026, 5, 10), item="宣传物料", amount=budget / 5)
        Risk.objects.create(project=project, description="生产任务繁重，活动时间难以保证", level="medium",
                            mitigation="结合班组例会灵活安排")


def seed(seeded) -> None:
    units, people = seeded["units"], seeded["people"]
    seed_activities(units, people)
    seed_employee_invitations(people)
    seed_items(units, people)
    seed_projects(units, people)
    # The activities above were written directly, not through the services that keep the
    # 三会一课 summary: rebuild it, or the compliance matrix shows every branch at 0%.
    meeting_summary.refresh()
