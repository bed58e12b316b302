"""The monthly report carries the hardship totals of its year up to the end of its month, frozen
when it is issued (page and workbook)."""
import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from evaluation.models import MonthlyReport
from members.models import HardshipHousehold
from tests.conftest import client_for
from tests.evaluation import scenario
from tests.factories import PersonFactory
from tests.factories.hardship import AssistanceFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, compute, staff):
    scenario.build(tree)
    compute(["2026-03"], as_of="2026-04-15 12:00")
    household = HouseholdFactory(person=PersonFactory(org_unit=tree.group_a), family_size=4,
                                 registered_on=datetime.date(2026, 1, 10), liaison=staff)
    AssistanceFactory(household=household, given_on=datetime.date(2026, 3, 5), amount=Decimal("1234.50"))
    AssistanceFactory(household=household, given_on=datetime.date(2026, 4, 2), amount=Decimal("99.00"))  # after March
    return tree


def test_the_report_freezes_the_hardship_totals(client, world, manager, django_capture_on_commit_callbacks):
    client_for(client, manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/evaluation/reports/request/", {"period": "2026-03", "org_unit": world.root.pk})
    report = MonthlyReport.objects.get()
    hardship = report.content["hardship"]
    assert (hardship["year"], hardship["until"]) == (2026, "2026-03-31")
    root = hardship["rows"][0]
    assert (root["unit_code"], root["households"], root["people_helped"], root["money"]) == ("ROOT", 1, 4, "1234.50")
    assert {r["unit_code"] for r in hardship["rows"][1:]} >= {"A", "B"}
    # Issued: later assistance does not change it.
    AssistanceFactory(household=HardshipHousehold.objects.get(), given_on=datetime.date(2026, 3, 20),
                      amount=Decimal("1.00"))
    page = client.get(f"/evaluation/reports/{report.pk}/").content.decode()
    assert 'data-testid="hardship-totals"' in page and "1234.50" in page and "1235.50" not in page
    workbook = load_workbook(io.BytesIO(b"".join(client.get(f"/evaluation/reports/{report.pk}/download/").streaming_content)))
    sheet = workbook.worksheets[-1]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0][1] == "ROOT" and values[0][5] == 1234.5
