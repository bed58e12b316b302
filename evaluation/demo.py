"""Demo data of the evaluation app for `seed_demo`: targets, a manual KPI, snapshots of this year and
last, an evaluation campaign with scores, a democratic appraisal, PDCA actions and last month's
report. Deterministic and idempotent (keyed by names; the engine writes the same figures again)."""
from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from portal.models import User

from . import engine, reports, services
from .choices import ActionSource, ActionStatus, KpiKind, RaterGroupKind, ReportStatus, ValueFormat
from .models import (
    AppraisalRound, AppraisalVoter, Campaign, ImprovementAction, Indicator, KpiDefinition, KpiTarget, ManualKpiValue,
    MonthlyReport, RaterAssignment, RaterGroup,
)
from .periods import Period, year_periods

# KPI code → (target, green from, amber from) for the whole committee; rates as fractions.
TARGETS = {
    "response_on_time_rate": ("0.95", None, "0.85"),
    "resolution_on_time_rate": ("0.90", None, "0.80"),
    "satisfaction_rate": ("0.90", None, "0.80"),
    "satisfaction_mean": ("4.3", None, "4.0"),
    "return_visit_rate": ("0.95", None, "0.85"),
    "mediation_success_rate": ("0.80", None, "0.60"),
    "meeting_compliance_rate": ("1", None, "0.8"),
    "education_coverage_rate": ("0.85", None, "0.70"),
    "task_on_time_rate": ("0.90", None, "0.75"),
    "must_visit_on_time_rate": ("0.95", None, "0.80"),
    "party_dues_rate": ("1", None, "0.95"),
}
INDICATORS = [
    ("班子建设", "领导班子团结协作、民主集中制执行情况", 25),
    ("组织生活", "三会一课、主题党日、组织生活会落实情况", 25),
    ("作用发挥", "党员先锋模范作用和服务群众成效", 30),
    ("基础工作", "台账资料、党费收缴、发展党员规范性", 20),
]
SUBJECTS = ["ZB11", "ZB12", "ZB21", "ZB22"]


def seed(seeded: dict) -> None:
    units = seeded["units"]
    now = timezone.now()
    year = timezone.localdate(now).year
    root = units["DW"]
    engine.ensure_catalogue()
    seed_manual_kpi(units, now)
    for code, (target, green, amber) in TARGETS.items():
        KpiTarget.objects.get_or_create(
            kpi_id=code, org_unit=root, year=year,
            defaults={"target": Decimal(target), "green_from": Decimal(green) if green else None,
                      "amber_from": Decimal(amber) if amber else None},
        )
    # Figures of this year and last year (months, quarters, years), as of now.
    periods = [p for p in year_periods(year) + year_periods(year - 1) if p.start <= now]
    engine.compute(periods)
    seed_campaign(units, year)
    seed_appraisal(units, year)
    seed_actions(units, seeded["people"], now)
    seed_report(root, now)


def seed_manual_kpi(units, now) -> None:
    kpi, _created = KpiDefinition.objects.get_or_create(
        code="party_dues_rate",
        defaults={"kind": KpiKind.MANUAL, "name": "党费按时足额缴纳率", "value_format": ValueFormat.RATE,
                  "definition": "按时足额缴纳党费的党员人数 ÷ 应缴纳党费的党员人数（各支部每月填报）。",
                  "sort_order": 120},
    )
    rng = random.Random(2026)
    month = Period.containing(now, "month")
    for period in (month.previous(), month):
        for code in SUBJECTS:
            value = Decimal(rng.choice(["1", "1", "0.98", "0.95", "0.9"]))
            manual, created = ManualKpiValue.objects.get_or_create(
                kpi=kpi, org_unit=units[code], period=period.key, defaults={"value": value, "note": "支部填报"})
            if created:
                services.manual_value_saved(manual)


def _account(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def seed_campaign(units, year: int) -> None:
    campaign, created = Campaign.objects.get_or_create(
        name=f"{year}年度基层党组织考核评价", org_unit=units["DW"],
        defaults={"year": year, "description": "按照党委年度考核办法，对各党支部开展群众评分、交叉互评和上级党组织评价。",
                  "opens_on": datetime.date(year, 11, 1), "closes_on": datetime.date(year, 12, 20),
                  "created_by": _account("manager")},
    )
    if not created:
        return
    campaign.subjects.set([units[c] for c in SUBJECTS])
    for order, (name, description, score) in enumerate(INDICATORS):
        Indicator.objects.create(campaign=campaign, name=name, description=description, max_score=score,
                                 sort_order=order)
    groups = {
        RaterGroupKind.MASS: RaterGroup.objects.create(campaign=campaign, kind=RaterGroupKind.MASS, weight=30,
                                                       anonymous=True),
        RaterGroupKind.PEER: RaterGroup.objects.create(campaign=campaign, kind=RaterGroupKind.PEER, weight=30),
        RaterGroupKind.SUPERIOR: RaterGroup.objects.create(campaign=campaign, kind=RaterGroupKind.SUPERIOR, weight=40),
    }
    plan = {RaterGroupKind.MASS: ["employee", "handler"], RaterGroupKind.PEER: ["secretary", "secretary2"],
            RaterGroupKind.SUPERIOR: ["manager", "staff"]}
    for kind, usernames in plan.items():
        for username in usernames:
            user = _account(username)
            if user:
                RaterAssignment.objects.get_or_create(group=groups[kind], rater=user)
    services.campaign_transition(campaign=campaign, action="open", by=_account("manager"))
    rng = random.Random(year)
    indicators = list(campaign.indicators.all())
    for assignment in RaterAssignment.objects.filter(group__campaign=campaign).select_related(
            "group__campaign", "rater__person__org_unit", "rater__scope_org").order_by("pk"):
        if assignment.rater.username in ("staff", "handler"):
            continue  # still to rate: the progress shows it
        for subject in services.subjects_for(assignment):
            scores = {i: Decimal(round(float(i.max_score) * rng.uniform(0.72, 0.98) * 2) / 2) for i in indicators}
            services.submit_scores(assignment=assignment, subject=subject, scores=scores, comment="")


def seed_appraisal(units, year: int) -> None:
    round, created = AppraisalRound.objects.get_or_create(
        name=f"{year}年度运行部党支部民主评议党员", org_unit=units["ZB11"],
        defaults={"year": year, "closes_on": datetime.date(year, 12, 31), "created_by": _account("manager")},
    )
    if not created:
        return
    services.add_member_voters(round)
    for username in ("secretary", "employee"):
        user = _account(username)
        if user:
            AppraisalVoter.objects.get_or_create(round=round, voter=user)
    services.appraisal_transition(round=round, action="open", by=_account("manager"))
    secretary = AppraisalVoter.objects.filter(round=round, voter__username="secretary").select_related("voter").first()
    if secretary:
        roster = round.results.exclude(person_id=secretary.voter.person_id or 0).values_list("person_id", flat=True)
        grades = {pid: ("excellent" if i % 5 == 0 else "qualified") for i, pid in enumerate(sorted(roster))}
        services.cast_ballot(voter=secretary, grades=grades)


def seed_actions(units, people, now) -> None:
    today = timezone.localdate(now)
    month = Period.containing(now, "month").previous()
    manager = _account("manager")
    owner = people.get("E10001")  # the secretary of 运行部党支部
    actions = [
        ("提升诉求按期办结率", units["ZZ1"], "resolution_on_time_rate", ActionStatus.DO,
         "部分诉求超期办结，主要集中在住房和薪酬类。", "承办部门协同不畅，跨部门转办耗时长。",
         "建立跨部门联席会商机制，每周通报超期件。", today + datetime.timedelta(days=20)),
        ("补齐支部委员会会议", units["ZB12"], "meeting_compliance_rate", ActionStatus.PLAN,
         "检修部党支部上月未召开支部委员会。", "", "", today + datetime.timedelta(days=10)),
        ("五必访走访及时率整改", units["ZB21"], "must_visit_on_time_rate", ActionStatus.CHECK,
         "两起住院事由超过 7 天才走访。", "网格员未及时获知事由。", "事由登记后自动提醒网格员，三日内走访。",
         today - datetime.timedelta(days=3)),
    ]
    for title, unit, kpi, status, problem, cause, measure, deadline in actions:
        ImprovementAction.objects.get_or_create(
            title=title, org_unit=unit,
            defaults={"source": ActionSource.KPI, "kpi_id": kpi, "period": month.key, "problem": problem,
                      "root_cause": cause, "measure": measure, "owner": owner, "deadline": deadline,
                      "status": status, "created_by": manager},
        )


def seed_report(root, now) -> None:
    month = Period.containing(now, "month").previous()
    report = MonthlyReport.objects.filter(period=month.key, org_unit=root).order_by("-version").first() or \
        MonthlyReport.objects.create(period=month.key, org_unit=root, requested_by=_account("manager"))
    if report.status != ReportStatus.DONE or not report.file or report.content is None:
        MonthlyReport.objects.filter(pk=report.pk).update(status=ReportStatus.PENDING)
        reports.generate(report.pk)

