"""The hot pages without any page cache: as many queries with one row as with many, within the page
budget, and the home page's people counts read from the maintained per-unit counts, never from a
scan of the scope's people."""
import pytest
from django.urls import reverse

from members.models import Person
from tests.conftest import PAGE_QUERY_BUDGET, client_for, page_queries
from tests.factories import PersonFactory
from tests.factories.demands import accepted, make_demand


def grow(tree, user, n):
    for i in range(n):
        submitter = PersonFactory(org_unit=tree.group_a, political_status="full_member")
        make_demand(tree.group_a, by=user, submitter=submitter, title=f"诉求{i}")
        accepted(make_demand(tree.group_a, by=user, title=f"办理{i}"), by=user, handler=user)


@pytest.mark.parametrize("url", [
    reverse("demands:demand_list"),
    reverse("demands:queue", args=["pending"]),
    "/api/demands/",
    reverse("home"),
])
def test_one_row_or_many_the_same_queries(client, tree, staff, url, django_assert_max_num_queries):
    client_for(client, staff)
    grow(tree, staff, 1)
    one = page_queries(client, url)
    assert one <= PAGE_QUERY_BUDGET
    grow(tree, staff, 30)
    with django_assert_max_num_queries(one):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("fixture", ["manager", "staff", "owner"])
def test_home_counts_come_from_the_maintained_table(client, request, tree, fixture, count_queries):
    user = request.getfixturevalue(fixture)
    for _ in range(3):
        PersonFactory(org_unit=tree.group_a, political_status="full_member")
    PersonFactory(org_unit=tree.group_a, political_status="masses")
    client_for(client, user)
    client.get(reverse("home"))
    with count_queries() as ctx:
        response = client.get(reverse("home"))
    widgets = dict(response.context["widgets"])
    in_scope = Person.objects.filter(is_active=True, org_unit__path__startswith=user.scope_org.path)
    assert widgets["members/widgets/scope_summary.html"]["counts"] == {
        "total": in_scope.count(), "members": in_scope.filter(political_status="full_member").count()}
    sql = [q["sql"] for q in ctx.captured_queries]
    assert any('"members_unitpeoplecount"' in s for s in sql)
    person_counts = [s for s in sql if 'COUNT("members_person"' in s]
    assert not person_counts, person_counts
