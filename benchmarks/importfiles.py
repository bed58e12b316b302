"""Deterministic, valid import files of any size, for load benchmarks and tests of imports at size.

The files are exactly in the data-exchange.md formats (English headers, the codes the importer
accepts), and every value is valid, so a file imports cleanly into a database that holds the org
units, categories and people it names. `ensure_references()` creates those (idempotently) and
returns their codes; `references_from_db()` takes existing ones instead.

    refs = ensure_references()
    write_people_xlsx(path, 100_000, refs.org_codes)
    write_demands_csv(path, 1_000_000, refs.org_codes, refs.category_codes, refs.person_nos)

The same (n, codes, seed, prefix) always give the same bytes of CSV and the same cell values of
xlsx. Different prefixes give disjoint natural keys (and, for people, disjoint ID numbers).
"""
from __future__ import annotations

import csv
import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PEOPLE_HEADER = ["employee_no", "name", "gender", "birth_date", "phone", "id_number", "org_unit_code",
                 "political_status", "joined_party_on", "tags"]
DEMANDS_HEADER = ["ref", "title", "content", "category", "urgency", "channel", "org_unit_code",
                  "submitter_employee_no", "status", "received_at", "response_due_at", "first_response_at",
                  "resolution_due_at", "resolved_at", "return_visit_at", "rating"]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_STATUSES = ["full_member", "full_member", "probationary_member", "activist", "applicant", "league_member",
             "masses", "masses", "masses", "masses"]
_TAGS = ["", "", "", "青年", "退休", "技术骨干", "困难职工", "青年;技术骨干", "女职工", "退役军人"]
_TOPICS = ["工资条", "宿舍", "食堂", "班车", "加班费", "年休假", "劳保用品", "培训", "体检", "停车位", "门禁", "空调"]
_PROBLEMS = ["看不懂", "漏水", "价格上涨", "时间调整", "计算有误", "安排不合理", "数量不足", "需要增加", "故障", "噪音大"]
_URGENCIES = ["normal", "normal", "normal", "urgent", "low"]
_CHANNELS = ["staff_entry", "self_service", "hotline", "visit", "petition", "golden_idea", "congress_proposal"]
# The same file every time, whenever it is written: receipts fall in the two years before this day.
_EPOCH = datetime.datetime(2026, 1, 1, 8, 0)


def _id_number(region: str, index: int) -> str:
    """A valid (check digit) ID number, unique per (region, index) for index < 14,600,000."""
    from members.validators import id_number_check_digit

    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=index // 1000)
    first17 = f"{region}{birth:%Y%m%d}{index % 1000:03d}"
    return first17 + id_number_check_digit(first17)


def people_rows(n: int, org_codes: Sequence[str], *, seed: int = 1, prefix: str = "BP", start: int = 0):
    """The data rows of a people file (no header): employee numbers `{prefix}{i:07d}`."""
    if not org_codes:
        raise ValueError("people need at least one org unit code")
    rng = random.Random(seed)
    # The region of the ID numbers follows the prefix, so that two prefixes never share one.
    region = f"{110101 + sum(map(ord, prefix)) % 800:06d}"
    for i in range(start, start + n):
        status = _STATUSES[rng.randrange(len(_STATUSES))]
        birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=i // 1000)
        joined = birth + datetime.timedelta(days=365 * 25) if status in ("full_member", "probationary_member") else None
        yield [
            f"{prefix}{i:07d}",
            _SURNAMES[rng.randrange(len(_SURNAMES))] + _GIVEN[rng.randrange(len(_GIVEN))] + _GIVEN[rng.randrange(len(_GIVEN))],
            "M" if rng.random() < 0.55 else "F",
            birth,
            f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}",
            _id_number(region, i),
            org_codes[rng.randrange(len(org_codes))],
            status,
            joined,
            _TAGS[rng.randrange(len(_TAGS))],
        ]


def write_people_xlsx(path, n: int, org_codes: Sequence[str], *, seed: int = 1, prefix: str = "BP", start: int = 0) -> Path:
    """A people workbook of n rows (one sheet, dates as Excel dates, ID numbers and phones as text)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("people")
    sheet.append(PEOPLE_HEADER)
    for row in people_rows(n, org_codes, seed=seed, prefix=prefix, start=start):
        sheet.append(row)
    workbook.save(path)
    return Path(path)


def write_people_csv(path, n: int, org_codes: Sequence[str], *, seed: int = 1, prefix: str = "BP", start: int = 0) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PEOPLE_HEADER)
        for row in people_rows(n, org_codes, seed=seed, prefix=prefix, start=start):
            writer.writerow(["" if v is None else v.isoformat() if isinstance(v, datetime.date) else v for v in row])
    return Path(path)


def _at(moment: datetime.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def demand_rows(n: int, org_codes: Sequence[str], category_codes: Sequence[str], person_nos: Sequence[str], *,
                seed: int = 1, prefix: str = "BD", start: int = 0, refs_in_receipt_order: bool = True):
    """The data rows of a demands file (no header): refs `{prefix}{i:07d}` received in about
    that order (or, with refs_in_receipt_order=False, at random times of the two years: refs that
    say nothing of the receipt, the slow case for the ref index), every status and channel, a
    fifth anonymous, most due dates left empty (computed from the SLA policy)."""
    if not org_codes or not category_codes:
        raise ValueError("demands need at least one org unit code and one category code")
    rng = random.Random(seed)
    receipts_from = _EPOCH - datetime.timedelta(days=730)
    for i in range(start, start + n):
        # A demand about every minute, in the order of their refs give or take half an hour (as
        # refs are given at receipt): a million cover the two years before _EPOCH.
        minute = i + rng.randrange(30) if refs_in_receipt_order else rng.randrange(730 * 24 * 60)
        received = receipts_from + datetime.timedelta(minutes=minute)
        stage = rng.random()
        first = resolved = visited = None
        status = rating = ""
        if stage < 0.03:
            status = "withdrawn"
        elif stage < 0.05:
            status = "rejected"
        if stage >= 0.15 and not status:
            first = received + datetime.timedelta(minutes=rng.randrange(10, 600))
        if stage >= 0.35:
            resolved = first + datetime.timedelta(hours=rng.randrange(2, 24 * 15))
        if stage >= 0.60:
            visited = resolved + datetime.timedelta(hours=rng.randrange(1, 24 * 7))
            rating = str(rng.randrange(1, 6))
        given_due = rng.random() < 0.1  # most ledgers leave the deadlines to the SLA policy
        response_due = received + datetime.timedelta(hours=8) if given_due else None
        resolution_due = received + datetime.timedelta(days=10) if given_due else None
        topic = _TOPICS[rng.randrange(len(_TOPICS))]
        yield [
            f"{prefix}{i:07d}",
            f"{topic}{_PROBLEMS[rng.randrange(len(_PROBLEMS))]}（{i}）",
            f"关于{topic}的诉求，请尽快处理。" if rng.random() < 0.5 else "",
            category_codes[rng.randrange(len(category_codes))],
            _URGENCIES[rng.randrange(len(_URGENCIES))],
            _CHANNELS[rng.randrange(len(_CHANNELS))],
            org_codes[rng.randrange(len(org_codes))],
            person_nos[rng.randrange(len(person_nos))] if person_nos and rng.random() < 0.8 else "",
            status,
            _at(received), _at(response_due), _at(first), _at(resolution_due), _at(resolved), _at(visited),
            rating,
        ]


def write_demands_csv(path, n: int, org_codes: Sequence[str], category_codes: Sequence[str], person_nos: Sequence[str], *,
                      seed: int = 1, prefix: str = "BD", start: int = 0, refs_in_receipt_order: bool = True) -> Path:
    """A demands CSV (UTF-8, no BOM) of n rows (see demand_rows)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DEMANDS_HEADER)
        writer.writerows(demand_rows(n, org_codes, category_codes, person_nos, seed=seed, prefix=prefix, start=start,
                                     refs_in_receipt_order=refs_in_receipt_order))
    return Path(path)


# --- The records the files refer to ------------------------------------------------------------------
@dataclass
class References:
    org_codes: list[str]
    category_codes: list[str]
    person_nos: list[str]


def ensure_references(*, units: int = 40, people: int = 2000, categories: int = 8, prefix: str = "BENCH") -> References:
    """Create (when missing) `units` org units, `categories` demand categories and `people` people
    for the files to refer to, and return their codes. Idempotent; the units hang under the
    existing root unit, or under a new `{prefix}` root when the database has none."""
    from django.db import transaction

    from demands.models import DemandCategory
    from members.importers import rebuild_org_paths
    from members.models import OrgUnit, Person

    with transaction.atomic():
        root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
        if root is None:
            root = OrgUnit.objects.create(code=prefix, name="压测党委", kind="committee")
        unit_codes = [f"{prefix}-U{i:03d}" for i in range(units)]
        OrgUnit.objects.bulk_create(
            [OrgUnit(code=code, name=f"压测第{i + 1}党支部", kind="branch", parent=root) for i, code in enumerate(unit_codes)],
            ignore_conflicts=True,
        )
        rebuild_org_paths()
        category_codes = [f"{prefix.lower()}-c{i:02d}" for i in range(categories)]
        DemandCategory.objects.bulk_create(
            [DemandCategory(code=code, name=f"压测类别{i + 1}", sort_order=100 + i) for i, code in enumerate(category_codes)],
            ignore_conflicts=True,
        )
        unit_ids = dict(OrgUnit.objects.filter(code__in=unit_codes).values_list("code", "id"))
        person_nos = [f"{prefix}-R{i:06d}" for i in range(people)]
        region = "310101"  # not a region people_rows() uses: no ID number is shared with a file
        Person.objects.bulk_create(
            [Person(employee_no=no, name=f"压测{i}", org_unit_id=unit_ids[unit_codes[i % units]],
                    id_number=_id_number(region, i)) for i, no in enumerate(person_nos)],
            ignore_conflicts=True, batch_size=2000,
        )
    return References(unit_codes, category_codes, person_nos)


def references_from_db(*, people: int = 2000) -> References:
    """The active org units, the categories and up to `people` employee numbers already stored."""
    from demands.models import DemandCategory
    from members.models import OrgUnit, Person

    return References(
        list(OrgUnit.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)),
        list(DemandCategory.objects.order_by("code").values_list("code", flat=True)),
        list(Person.objects.order_by("employee_no").values_list("employee_no", flat=True)[:people]),
    )
