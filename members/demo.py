"""Demo organisation, people and history for `seed_demo`. Deterministic and idempotent."""
from __future__ import annotations

import datetime
import random

from .choices import DevelopmentStage, DualCultivation, PoliticalStatus
from .importers import rebuild_org_paths
from .models import DevelopmentRecord, OrgUnit, Person
from .services import points_award
from .validators import id_number_check_digit

# code, name, kind, parent code
ORG_TREE = [
    ("DW", "华电示范能源集团党委", "committee", None),
    ("DQB", "党群工作部", "department", "DW"),
    ("RLB", "人力资源部", "department", "DW"),
    ("HQ", "后勤服务中心", "department", "DW"),
    ("AHB", "安全环保部", "department", "DW"),
    ("GH", "集团工会", "union", "DW"),
    ("TW", "集团团委", "league", "DW"),
    ("FW", "集团妇委会", "women", "DW"),
    ("ZZ1", "生产运营党总支", "general_branch", "DW"),
    ("ZB11", "运行部党支部", "branch", "ZZ1"),
    ("ZB11-1", "运行一值党小组", "group", "ZB11"),
    ("ZB11-2", "运行二值党小组", "group", "ZB11"),
    ("ZB12", "检修部党支部", "branch", "ZZ1"),
    ("ZB12-1", "电气检修党小组", "group", "ZB12"),
    ("ZB12-2", "机务检修党小组", "group", "ZB12"),
    ("ZZ2", "经营管理党总支", "general_branch", "DW"),
    ("ZB21", "机关第一党支部", "branch", "ZZ2"),
    ("ZB21-1", "综合党小组", "group", "ZB21"),
    ("ZB22", "财务资产党支部", "branch", "ZZ2"),
    ("ZB22-1", "财务党小组", "group", "ZB22"),
    # Added later; appended so that the earlier units and people keep their codes and numbers.
    ("ZB12-3", "热控检修党小组", "group", "ZB12"),
    ("ZB22-2", "审计党小组", "group", "ZB22"),
    ("ZZ3", "新能源事业部党总支", "general_branch", "DW"),
    ("ZB31", "风电场党支部", "branch", "ZZ3"),
    ("ZB31-1", "风电运维党小组", "group", "ZB31"),
    ("ZB31-2", "升压站党小组", "group", "ZB31"),
    ("ZB32", "光伏电站党支部", "branch", "ZZ3"),
    ("ZB32-1", "光伏运维党小组", "group", "ZB32"),
    ("ZZ4", "燃料物资党总支", "general_branch", "DW"),
    ("ZB41", "燃料管理党支部", "branch", "ZZ4"),
    ("ZB41-1", "燃料采制党小组", "group", "ZB41"),
    ("ZB42", "物资供应党支部", "branch", "ZZ4"),
    ("ZB42-1", "仓储配送党小组", "group", "ZB42"),
    ("ZB51", "离退休职工党支部", "branch", "DW"),
    ("ZB51-1", "退休职工党小组", "group", "ZB51"),
    ("SCB", "生产技术部", "department", "DW"),
    ("SBB", "设备管理部", "department", "DW"),
    ("CWB", "财务部", "department", "DW"),
    ("ZHB", "综合办公室", "department", "DW"),
    ("XXZX", "信息中心", "department", "DW"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国红梅斌宇浩凯健俊帆帅旭宁婷雪琳晨欣悦子涵博文轩泽宇晓东海波志强春燕"
TAG_POOL = ["青年", "退休", "困难职工", "新就业形态", "技术骨干", "劳动模范", "退役军人", "女职工"]
STATUS_POOL = (
    ["full_member"] * 40 + ["probationary_member"] * 4 + ["activist"] * 8 + ["applicant"] * 6
    + ["league_member"] * 12 + ["masses"] * 30
)
# Units that hold people, with how many.
PEOPLE_PER_UNIT = {"ZB11-1": 30, "ZB11-2": 28, "ZB12-1": 26, "ZB12-2": 24, "ZB21-1": 30, "ZB22-1": 22, "DQB": 8,
                   "RLB": 10, "HQ": 12, "AHB": 10,
                   "ZB12-3": 60, "ZB22-2": 40, "ZB31-1": 80, "ZB31-2": 70, "ZB32-1": 75, "ZB41-1": 70, "ZB42-1": 60,
                   "ZB51-1": 60, "SCB": 60, "SBB": 60, "CWB": 40, "ZHB": 50, "XXZX": 40}
RETIRED_UNITS = {"ZB51-1"}
AREA_CODES = ["110101", "310104", "440106", "420102", "510107", "610113"]


def make_id_number(rng: random.Random, birth: datetime.date, gender: str) -> str:
    seq = rng.randint(10, 99) * 10 + (rng.choice([1, 3, 5, 7, 9]) if gender == "M" else rng.choice([0, 2, 4, 6, 8]))
    first17 = f"{rng.choice(AREA_CODES)}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_digit(first17)


def seed_org() -> dict[str, OrgUnit]:
    units = {u.code: u for u in OrgUnit.objects.all()}
    for order, (code, name, kind, parent) in enumerate(ORG_TREE):
        unit = units.get(code)
        parent_id = units[parent].pk if parent else None
        if unit is None:
            unit = OrgUnit.objects.create(code=code, name=name, kind=kind, parent_id=parent_id, sort_order=order)
            units[code] = unit
        elif (unit.name, unit.kind, unit.parent_id) != (name, kind, parent_id):
            unit.name, unit.kind, unit.parent_id = name, kind, parent_id
            unit.save()
    rebuild_org_paths()
    return {u.code: u for u in OrgUnit.objects.all()}


def seed_people(units: dict[str, OrgUnit]) -> dict[str, Person]:
    """About a thousand people; only the missing ones are created (in one insert), so a second run
    changes nothing."""
    rng = random.Random(20260101)
    number = 10000
    wanted = {}
    for code, count in PEOPLE_PER_UNIT.items():
        retired = code in RETIRED_UNITS
        for _ in range(count):
            number += 1
            gender = rng.choice("MF")
            first_year, last_year = (1950, 1965) if retired else (1968, 2003)
            birth = datetime.date(rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28))
            status = rng.choice(STATUS_POOL)
            if status in ("league_member",) and birth.year < 1995:
                status = "masses"
            joined = None
            if status == "full_member":
                joined = datetime.date(max(birth.year + 20, 1995 if not retired else 1975) + rng.randint(0, 8),
                                       rng.randint(1, 12), rng.randint(1, 28))
            tags = set(rng.sample(TAG_POOL, rng.choice([0, 0, 1, 1, 2])))
            if retired:
                tags = (tags - {"青年", "新就业形态"}) | {"退休"}
            elif birth.year >= 1991:
                tags = tags - {"退休"} | {"青年"}
            else:
                tags = tags - {"退休"}
            tags = sorted(tags)
            wanted[f"E{number}"] = dict(
                name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2]))),
                gender=gender, birth_date=birth,
                phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                id_number=make_id_number(rng, birth, gender), org_unit=units[code], political_status=status,
                joined_party_on=joined, tags=tags,
                dual_cultivation=DualCultivation.BACKBONE_TO_MEMBER if "技术骨干" in tags and status == "masses" else "",
                position="退休职工" if retired else rng.choice(
                    ["值长", "主值", "副值", "检修工", "技术员", "工程师", "专责", "科员", "主管"]),
            )
    existing = set(Person.objects.filter(employee_no__in=wanted).values_list("employee_no", flat=True))
    missing = [Person(employee_no=no, **fields) for no, fields in wanted.items() if no not in existing]
    Person.objects.bulk_create(missing, batch_size=500)
    return {p.employee_no: p for p in Person.objects.filter(employee_no__in=wanted).select_related("org_unit")}


def seed_history(people: dict[str, Person]) -> None:
    """Development stages for the activists and probationary members, and some points."""
    for person in people.values():
        if person.political_status == PoliticalStatus.PROBATIONARY_MEMBER:
            stages = [(DevelopmentStage.APPLICANT, datetime.date(2023, 3, 1)),
                      (DevelopmentStage.ACTIVIST, datetime.date(2023, 6, 1)),
                      (DevelopmentStage.CANDIDATE, datetime.date(2024, 7, 1)),
                      (DevelopmentStage.PROBATIONARY, datetime.date(2025, 12, 10))]
        elif person.political_status == PoliticalStatus.ACTIVIST:
            stages = [(DevelopmentStage.APPLICANT, datetime.date(2025, 3, 15)),
                      (DevelopmentStage.ACTIVIST, datetime.date(2025, 9, 1))]
        elif person.political_status == PoliticalStatus.APPLICANT:
            stages = [(DevelopmentStage.APPLICANT, datetime.date(2026, 4, 20))]
        else:
            stages = []
        for stage, on in stages:
            DevelopmentRecord.objects.get_or_create(person=person, stage=stage, defaults={"reached_on": on})
        if person.political_status == PoliticalStatus.PROBATIONARY_MEMBER and person.joined_party_on is None:
            Person.objects.filter(pk=person.pk).update(joined_party_on=datetime.date(2025, 12, 10))
    for index, person in enumerate(sorted(people.values(), key=lambda p: p.employee_no)[:60]):
        points_award(person=person, points=5 + index % 4, reason="参加主题党日活动", on=datetime.date(2026, 9, 28),
                     source="other", source_key=f"demo:theme-day:{person.employee_no}")


def seed() -> dict:
    units = seed_org()
    people = seed_people(units)
    seed_history(people)
    from .partyorg import demo as partyorg_demo

    partyorg_demo.seed(units, people)
    return {"units": units, "people": people}
