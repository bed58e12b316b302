"""Import kinds hardship_households and hardship_assistance: Chinese headers and labels, every
problem listed and nothing written, one household on the register per person, and an export that
re-imports unchanged."""
import csv
import datetime
import io
from decimal import Decimal

import pytest

from members.hardship.models import AssistanceRecord, HardshipHousehold
from portal import dataexchange
from tests.conftest import make_user
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

HOUSEHOLD_HEADER = ["编号", "工号", "困难原因", "困难等级", "家庭人口", "家庭情况", "登记日期", "状态", "脱困或注销日期",
                    "脱困或注销原因", "联系人账号", "上次复核日期"]
ASSISTANCE_HEADER = ["编号", "困难户编号", "日期", "类别", "金额（元）", "服务内容"]


def to_csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def run(kind, rows, **kwargs):
    return dataexchange.run_import(kind, to_csv(rows), "x.csv", **kwargs)


@pytest.fixture
def people(tree):
    return [PersonFactory(org_unit=tree.group_a, employee_no=f"H{n}") for n in range(3)]


@pytest.fixture
def liaison(tree):
    return make_user("branch_secretary", tree.branch_a, person_unit=tree.branch_a, username="liaison_a")


def test_households_and_assistance_import_and_round_trip(people, liaison):
    result = run("hardship_households", [
        HOUSEHOLD_HEADER,
        ["KN2025-000001", "H0", "因病", "特困", "4", "配偶患病", "2025-11-01", "在册", "", "", "liaison_a", "2026-02-01"],
        ["KN2025-000002", "H1", "低收入", "一般困难", "", "", "2025-06-01", "已脱困", "2026-01-10", "再就业", "liaison_a", ""],
    ])
    assert result.ok, result.errors
    assert result.created == 2
    active = HardshipHousehold.objects.get(ref="KN2025-000001")
    assert (active.reason, active.level, active.family_size, active.status) == ("illness", "severe", 4, "registered")
    assert active.next_review_on == datetime.date(2026, 5, 1)
    assert [s.action for s in active.steps.all()] == ["imported"]
    relieved = HardshipHousehold.objects.get(ref="KN2025-000002")
    assert (relieved.status, relieved.left_on, relieved.next_review_on) == ("relieved", datetime.date(2026, 1, 10), None)

    result = run("hardship_assistance", [
        ASSISTANCE_HEADER,
        ["BF2025-000001", "KN2025-000001", "2025-12-01", "困难补助", "¥1,200.50", ""],
        ["BF2025-000002", "KN2025-000001", "2025-12-02", "心理疏导", "", "心理咨询两次"],
    ])
    assert result.ok, result.errors
    assert AssistanceRecord.objects.get(ref="BF2025-000001").amount == Decimal("1200.50")

    for kind in ("hardship_households", "hardship_assistance"):
        header, rows = dataexchange.export_table(kind)
        again = run(kind, [header, *[list(r) for r in rows]])
        assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 2), (kind, again.errors)


def test_every_problem_is_listed_and_nothing_written(people, liaison, tree):
    outsider = make_user("branch_secretary", tree.branch_b, person_unit=tree.branch_b, username="liaison_b")
    result = run("hardship_households", [
        HOUSEHOLD_HEADER,
        ["KN1", "NOBODY", "因病", "特困", "", "", "2026-01-01", "", "", "", "liaison_a", ""],
        ["KN2", "H0", "生病", "特困", "", "", "2026-01-01", "", "", "", "liaison_b", ""],
        ["KN3", "H1", "因病", "特困", "", "", "2026-01-01", "已脱困", "", "", "liaison_a", ""],
        ["KN4", "H2", "因病", "特困", "", "", "2026-01-01", "", "", "", "liaison_a", ""],
        ["KN5", "H2", "因病", "特困", "", "", "2026-01-01", "在册", "", "", "liaison_a", ""],
    ])
    assert not result.ok and not HardshipHousehold.objects.exists()
    # Errors name the columns as the file spells them.
    problems = {(e.row, e.column) for e in result.errors}
    assert {(2, "工号"), (3, "困难原因"), (4, "脱困或注销日期"), (6, "工号")} <= problems
    result = run("hardship_households", [
        HOUSEHOLD_HEADER, ["KN2", "H0", "因病", "特困", "", "", "2026-01-01", "", "", "", "liaison_b", ""],
    ])
    assert not result.ok and "联系人账号" in {e.column for e in result.errors}


def test_assistance_needs_a_known_household_and_money_or_a_service(people, liaison):
    run("hardship_households", [
        HOUSEHOLD_HEADER, ["KN1", "H0", "因病", "特困", "", "", "2026-01-01", "", "", "", "liaison_a", ""],
    ])
    result = run("hardship_assistance", [
        ASSISTANCE_HEADER,
        ["BF1", "KN9", "2026-02-01", "补助", "100", ""],
        ["BF2", "KN1", "2026-02-01", "补助", "", ""],
        ["BF3", "KN1", "2026-02-01", "补助", "-5", ""],
        ["BF4", "KN1", "2025-12-01", "补助", "5", ""],
        ["BF5", "KN1", "2026-02-01", "补助", "1.005", ""],
    ])
    assert not result.ok and not AssistanceRecord.objects.exists()
    assert {e.row for e in result.errors} == {2, 3, 4, 5, 6}
