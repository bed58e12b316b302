"""Totals of the hardship register per unit and year: the selector's boundaries and the manager
dashboard."""
import datetime
from decimal import Decimal

import pytest

from members.hardship.selectors import totals_by_unit, totals_rows
from tests.conftest import client_for, make_user
from tests.factories import PersonFactory
from tests.factories.hardship import AssistanceFactory, HouseholdFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def register(tree, staff):
    a = HouseholdFactory(person=PersonFactory(org_unit=tree.group_a), family_size=4, registered_on=D(2025, 6, 1),
                         liaison=staff)
    a2 = HouseholdFactory(person=PersonFactory(org_unit=tree.branch_a), family_size=2, registered_on=D(2026, 2, 1),
                          liaison=staff)
    b = HouseholdFactory(person=PersonFactory(org_unit=tree.branch_b), family_size=3, registered_on=D(2026, 1, 5),
                         liaison=staff)
    # Left the register before 2026: not counted in 2026.
    HouseholdFactory(person=PersonFactory(org_unit=tree.branch_a), registered_on=D(2024, 1, 1), status="relieved",
                     left_on=D(2025, 12, 31), next_review_on=None, liaison=staff)
    # Left during 2026: counted.
    HouseholdFactory(person=PersonFactory(org_unit=tree.branch_b), registered_on=D(2025, 1, 1), status="relieved",
                     left_on=D(2026, 1, 1), next_review_on=None, liaison=staff)
    AssistanceFactory(household=a, given_on=D(2026, 1, 31), amount=Decimal("1000.00"))
    AssistanceFactory(household=a, given_on=D(2026, 3, 31), amount=Decimal("0.50"))
    AssistanceFactory(household=a, given_on=D(2026, 4, 1), kind="counselling", service="心理疏导")
    AssistanceFactory(household=a, given_on=D(2025, 12, 31), amount=Decimal("999"))  # last year
    AssistanceFactory(household=b, given_on=D(2026, 2, 10), kind="visit", service="节日慰问")
    return a, a2, b


def test_totals_per_unit_and_year(tree, staff, register):
    totals = totals_by_unit(staff, 2026, [tree.root, tree.branch_a, tree.branch_b])
    a = totals[tree.branch_a.pk]
    assert (a.households, a.households_helped, a.people_helped, a.money, a.services) == (2, 1, 4, Decimal("1000.50"), 1)
    b = totals[tree.branch_b.pk]
    assert (b.households, b.households_helped, b.people_helped, b.money, b.services) == (2, 1, 3, Decimal("0"), 1)
    root = totals[tree.root.pk]
    assert (root.households, root.people_helped, root.money, root.services) == (4, 7, Decimal("1000.50"), 2)
    # Up to the end of March: April's service is not counted yet; nor a household registered later.
    march = totals_by_unit(staff, 2026, [tree.root], until=D(2026, 1, 31))[tree.root.pk]
    assert (march.households, march.money, march.services) == (3, Decimal("1000.00"), 0)
    assert totals_rows(staff, 2026, [tree.branch_a])[0]["money"] == "1000.50"


def test_totals_follow_the_scope(tree, owner, register):
    totals = totals_by_unit(owner, 2026, [tree.root, tree.branch_b])
    assert totals[tree.branch_b.pk].households == 0
    assert totals[tree.root.pk].money == Decimal("1000.50")


def test_the_manager_dashboard_shows_the_totals_and_an_employee_nothing(client, tree, manager, member, register):
    client_for(client, manager)
    page = client.get("/evaluation/", {"period": "2026-03", "unit": tree.root.pk}).content.decode()
    assert 'data-testid="hardship-totals-slot"' in page
    fragment = f"/members/hardship/totals/?unit={tree.root.pk}&amp;until=2026-03-31"
    assert fragment in page
    totals = client.get(fragment.replace("&amp;", "&"))
    body = totals.content.decode()
    assert totals.status_code == 200 and 'data-testid="hardship-totals"' in body
    assert "1000.50" in body and tree.branch_b.name in body
    assert client.get("/members/hardship/totals/", {"until": "2026-13-01"}).status_code == 400
    client_for(client, member)
    assert client.get("/members/hardship/totals/").status_code == 403


def test_the_dashboard_totals_leave_out_units_with_no_figure_and_are_no_cards(client, tree, manager, register):
    """The department has no household nor assistance: its all-zero row is left out; the total
    row of the unit stays, and the table does not turn into one card per unit on a phone."""
    client_for(client, manager)
    totals = client.get("/members/hardship/totals/", {"unit": tree.root.pk, "until": "2026-03-31"})
    assert [r["unit_id"] for r in totals.context["rows"]] == [tree.root.pk, tree.branch_a.pk, tree.branch_b.pk]
    body = totals.content.decode()
    assert tree.department.name not in body and 'data-testid="hardship-left-out"' in body
    assert "table-cards" not in body
