"""需求热力图: visits of a month, units × categories, by the demands recorded from them or by the
text model's reading of their notes; scoped like the visit list."""
import datetime

import pytest
from django.urls import reverse

from demands import heatmap
from demands.choices import DEFAULT_CATEGORIES
from tests.conftest import client_for
from tests.factories import PersonFactory
from tests.factories.demands import VisitFactory, category, make_demand

pytestmark = pytest.mark.django_db


def test_heat_map_of_visits(client, tree, owner, outsider, staff):
    categories = {code: category(code, name) for code, name in DEFAULT_CATEGORIES}
    person_a, person_b = PersonFactory(org_unit=tree.group_a), PersonFactory(org_unit=tree.branch_b)
    day = datetime.date(2026, 11, 12)
    VisitFactory(person=person_a, visited_on=day, notes="反映宿舍卫生间漏水严重，热水也时有时无")
    VisitFactory(person=person_a, visited_on=day, notes="宿舍空调坏了一直没人修")
    heard = VisitFactory(person=person_a, visited_on=day, notes="聊了聊家常")
    demand = make_demand(tree.group_a, title="食堂午餐菜品单一", category_obj=categories["welfare"], visit=heard)
    assert demand.visit == heard
    VisitFactory(person=person_b, visited_on=day, notes="宿舍漏水")
    VisitFactory(person=person_a, visited_on=datetime.date(2026, 10, 30), notes="宿舍漏水")  # another month

    # Nothing is counted on page load: before the beat has run the page says so.
    page = client_for(client, staff).get(reverse("demands:heat_map"), {"period": "2026-11"})
    assert page.context["rows"] == [] and 'data-testid="not-computed"' in page.content.decode()
    assert heatmap.compute("2026-11") == 4
    assert heatmap.compute("2026-11") == 4  # a re-run replaces the month's cells
    page = client_for(client, staff).get(reverse("demands:heat_map"), {"period": "2026-11"})
    assert page.status_code == 200 and 'data-testid="computed-at"' in page.content.decode()
    rows = {unit.code: {c.code: n for c, n, _share in cells} for unit, cells, _total in page.context["rows"]}
    assert rows["A"]["housing"] == 2 and rows["A"]["welfare"] == 1 and rows["B"]["housing"] == 1
    assert (page.context["visits"], page.context["from_demands"], page.context["classified"]) == (4, 1, 3)

    # Branch A's secretary sees branch A only.
    rows = client_for(client, owner).get(reverse("demands:heat_map"), {"period": "2026-11"}).context["rows"]
    assert all(unit.path.startswith(tree.branch_a.path) for unit, _cells, _total in rows)
    # A bad month is said beside the field; the page still answers.
    page = client_for(client, staff).get(reverse("demands:heat_map"), {"period": "2026-13"})
    assert page.status_code == 200 and page.context["error"]


def test_heat_map_computed_with_nothing_in_scope_says_computed(client, tree, outsider):
    """The month was computed (branch A's visits); branch B's secretary has none in scope."""
    category("housing", "住房")
    VisitFactory(person=PersonFactory(org_unit=tree.group_a), visited_on=datetime.date(2026, 11, 12), notes="宿舍漏水")
    make_demand(tree.group_a, title="宿舍漏水", category_obj=category("housing", "住房"),
                visit=VisitFactory(person=PersonFactory(org_unit=tree.group_a), visited_on=datetime.date(2026, 11, 13)))
    assert heatmap.compute("2026-11") >= 1
    page = client_for(client, outsider).get(reverse("demands:heat_map"), {"period": "2026-11"})
    content = page.content.decode()
    assert page.context["rows"] == []
    assert 'data-testid="computed-at"' in content and 'data-testid="not-computed"' not in content
    assert 'data-testid="nothing-in-scope"' in content
