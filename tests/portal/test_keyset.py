"""Keyset pages on the generic lists: constant cost at any depth, every row exactly once, both ways."""
import datetime
import re
from html import unescape

import pytest
from django.urls import reverse

from demands.calendar import TZ
from demands.models import Demand
from members.models import Person
from portal.generic import keyset_fields
from tests.conftest import client_for
from tests.factories.demands import make_demand

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="([^"]*)" rel="(next|prev)"')


def page_refs(response) -> list[str]:
    return [row.record.ref for row in response.context["table"].paginated_rows]


def links(response) -> dict[str, str]:
    return {rel: unescape(href) for href, rel in LINK.findall(response.content.decode())}


@pytest.fixture
def many_demands(tree, owner):
    """60 demands, in runs of three received at the same moment (ties in the leading column)."""
    start = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
    for i in range(60):
        make_demand(tree.group_a, by=owner, title=f"诉求 {i}", received_at=start + datetime.timedelta(hours=i // 3))
    return list(Demand.objects.order_by("-received_at", "-id").values_list("ref", flat=True))


def test_walking_forward_and_back_visits_every_row_once_in_order(client, owner, many_demands):
    client_for(client, owner)
    url = reverse("demands:demand_list")
    response = client.get(url)
    pages = [page_refs(response)]
    assert response.context["keyset"]["number"] == 1
    while "next" in links(response):
        response = client.get(url + links(response)["next"])
        assert response.status_code == 200
        pages.append(page_refs(response))
    assert [ref for page in pages for ref in page] == many_demands
    assert [len(p) for p in pages] == [25, 25, 10]
    assert response.context["keyset"]["number"] == 3

    back = []
    while "prev" in links(response):
        response = client.get(url + links(response)["prev"])
        back.append(page_refs(response))
    assert back == [pages[1], pages[0]]
    assert response.context["keyset"]["number"] == 1


def test_filters_are_kept_across_pages(client, owner, many_demands):
    client_for(client, owner)
    url = reverse("demands:demand_list") + "?q=%E8%AF%89%E6%B1%82"  # q=诉求
    response = client.get(url)
    following = links(response)["next"]
    assert "q=%E8%AF%89%E6%B1%82" in following and "after=" in following


def test_a_damaged_cursor_shows_the_first_page(client, owner, many_demands):
    client_for(client, owner)
    response = client.get(reverse("demands:demand_list") + "?after=not-a-date~x")
    assert response.status_code == 200
    assert page_refs(response) == many_demands[:25]


def test_a_column_sort_uses_numbered_pages(client, owner, many_demands):
    client_for(client, owner)
    response = client.get(reverse("demands:demand_list") + "?sort=ref&page=2")
    assert response.context.get("keyset") is None
    assert page_refs(response) == sorted(many_demands)[25:50]


def test_a_deep_page_costs_what_the_first_costs(client, owner, many_demands, count_queries):
    client_for(client, owner)
    url = reverse("demands:demand_list")
    deep_url = url + links(client.get(url + links(client.get(url))["next"]))["next"]
    with count_queries() as first:
        client.get(url)
    with count_queries() as deep:
        assert client.get(deep_url).status_code == 200
    assert len(first.captured_queries) == len(deep.captured_queries)
    assert "OFFSET" not in " ".join(q["sql"] for q in deep.captured_queries)


def test_which_orderings_a_keyset_can_follow():
    assert keyset_fields(Demand.objects.all()) == ("-received_at", "-id")
    assert keyset_fields(Person.objects.all()) == ("employee_no",)  # unique
    assert keyset_fields(Demand.objects.order_by("-received_at")) is None  # not unique: ties would be lost
    assert keyset_fields(Demand.objects.order_by("resolution_due_at", "id")) is None  # nullable
    assert keyset_fields(Demand.objects.order_by("org_unit__path", "id")) is None  # across a relation


def test_keyset_pages_keep_the_translated_column_headings(client, owner, many_demands):
    client_for(client, owner)
    html = client.get(reverse("demands:demand_list")).content.decode()
    assert ">编号<" in html or "编号</a>" in html
    assert ">Ref<" not in html and "Ref</a>" not in html
    assert "约" not in html  # 60 rows: counted, not estimated
