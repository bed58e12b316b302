"""Demo transfers, mobile members and branch terms (called from members.demo.seed). Idempotent:
records are found by their natural keys and created only when missing."""
from __future__ import annotations

import datetime

from portal.scope import in_subtree

from ..choices import PARTY_MEMBER_STATUSES
from ..models import Person
from . import workflow
from .models import BranchTerm, MobileMember, Transfer, TransferLetter, TransferStep

# unit code → date of the last election: some terms run on, one ends within six months, one is overdue.
ELECTIONS = {"DW": datetime.date(2022, 6, 28), "ZZ1": datetime.date(2024, 3, 20), "ZB11": datetime.date(2024, 4, 15),
             "ZB12": datetime.date(2023, 11, 30), "ZZ2": datetime.date(2025, 1, 10), "ZB21": datetime.date(2023, 5, 18),
             "ZB22": datetime.date(2024, 9, 6), "ZB31": datetime.date(2025, 7, 1)}


def seed(units: dict, people: dict) -> None:
    for code, elected in ELECTIONS.items():
        unit = units[code]
        years = workflow.default_term_years(unit.kind)
        BranchTerm.objects.get_or_create(unit=unit, elected_on=elected, defaults=dict(
            term_years=years, ends_on=workflow.term_ends_on(elected, years), members="书记\n组织委员\n宣传委员"))
    members = Person.objects.filter(pk__in=[p.pk for p in people.values()], political_status__in=PARTY_MEMBER_STATUSES
                                    ).select_related("org_unit").order_by("employee_no")
    branch_members = [p for p in members if p.org_unit.kind in ("branch", "group")]
    for index, person in enumerate(branch_members[:4]):
        MobileMember.objects.get_or_create(person=person, started_on=datetime.date(2026, 3 + index, 1), defaults=dict(
            work_unit="新疆哈密风电项目部" if index % 2 == 0 else "青海格尔木光伏项目部",
            place="新疆哈密" if index % 2 == 0 else "青海格尔木", contact="0902-1234567",
            ended_on=datetime.date(2026, 9, 30) if index == 3 else None))
    if len(branch_members) < 8 or Transfer.objects.exists():
        return
    going, leaving = branch_members[4], branch_members[5]
    target = units["ZB21"] if not in_subtree(going.org_unit, units["ZB21"]) else units["ZB22"]
    within = Transfer.objects.create(person=going, kind="within", from_unit=_branch(going, units), to_unit=target,
                                     reason="岗位调整", requested_on=datetime.date(2026, 11, 20), status="submitted")
    TransferStep.objects.create(transfer=within, action="create", status="draft")
    TransferStep.objects.create(transfer=within, action="submit", status="submitted")
    out = Transfer.objects.create(person=leaving, kind="out", from_unit=_branch(leaving, units), external_org="某市某区机关工委",
                                  reason="调离本企业", requested_on=datetime.date(2026, 10, 8), status="completed",
                                  completed_on=datetime.date(2026, 10, 30), report_by=datetime.date(2026, 11, 7))
    TransferStep.objects.create(transfer=out, action="imported", status="completed")
    TransferLetter.objects.create(
        transfer=out, kind="letter", year=2026, seq=1, number=workflow.letter_number(2026, 1),
        issued_on=datetime.date(2026, 10, 15),
        facts={"kind_label": "介绍信", "transfer_kind": "转出", "name": leaving.name, "gender": leaving.get_gender_display(),
               "employee_no": leaving.employee_no, "id_number": "", "political_status": leaving.get_political_status_display(),
               "joined_party_on": leaving.joined_party_on.isoformat() if leaving.joined_party_on else "",
               "from": out.from_unit.name, "to": out.external_org, "reason": out.reason, "report_by": "2026-11-07",
               "issuer": units["DW"].name, "issued_on": "2026-10-15"})


def _branch(person, units):
    """The person's own unit, or the branch above a party group."""
    unit = person.org_unit
    return unit.parent if unit.kind == "group" and unit.parent_id else unit
