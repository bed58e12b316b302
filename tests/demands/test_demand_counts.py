"""The maintained demand counts (demands.DemandUnitCount, kept by triggers on demands_demand) equal a
live count after every kind of write — intake, a step of the workflow, a move to another unit, a
bulk update, a delete, the import (COPY) — and give the unfiltered ledger its size without asking the
planner."""
import pgtrigger
import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demands import selectors
from demands.models import Demand, DemandUnitCount
from portal.roles import Role
from tests.conftest import make_user
from tests.demands.test_imports import categories, demand_rows, people, run  # noqa: F401 (fixtures)
from tests.factories.demands import accepted, make_demand

pytestmark = pytest.mark.django_db


def live_counts() -> dict[int, int]:
    rows = Demand.objects.values("org_unit_id").annotate(n=Count("pk"))
    return {r["org_unit_id"]: r["n"] for r in rows}


def kept_counts() -> dict[int, int]:
    return {r.org_unit_id: r.n for r in DemandUnitCount.objects.exclude(n=0)}


def test_counts_follow_every_write(tree, staff, handler, categories, people):  # noqa: F811
    first = make_demand(tree.group_a, by=staff)
    second = make_demand(tree.branch_b, by=staff)
    assert kept_counts() == live_counts() == {tree.group_a.pk: 1, tree.branch_b.pk: 1}
    accepted(first, by=staff, handler=handler)
    assert kept_counts() == live_counts()
    Demand.objects.filter(pk=second.pk).update(org_unit=tree.group_a)
    Demand.objects.filter(pk=first.pk).update(title="只改标题")  # changes no count
    assert kept_counts() == live_counts() == {tree.group_a.pk: 2}
    with pgtrigger.ignore("demands.DemandEvent:append_only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM demands_demandevent WHERE demand_id = %s", [second.pk])
        cursor.execute("DELETE FROM demands_demand WHERE id = %s", [second.pk])
    assert kept_counts() == live_counts() == {tree.group_a.pk: 1}
    assert run("demands", demand_rows()).created == 4
    assert kept_counts() == live_counts()


def test_the_whole_ledger_shows_the_maintained_size_without_explain(client, tree, staff, settings):
    settings.PORTAL_EXACT_COUNT_LIMIT = 2
    for _ in range(3):
        make_demand(tree.group_a, by=staff)
    manager = make_user(Role.MANAGER, tree.root)
    assert selectors.ledger_size(manager) == 3
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("demands:demand_list")).content.decode()
    assert "约 3 条记录" in page or "About 3 records" in page
    assert not [q for q in queries.captured_queries if q["sql"].startswith("EXPLAIN")]
    # A queue and a filtered ledger are counted (up to the limit), not estimated.
    assert "超过 2 条记录" in client.get(reverse("demands:demand_list"), {"status": "pending"}).content.decode()
    client.force_login(staff)
    assert "超过 2 条记录" in client.get(reverse("demands:queue", args=["pending"])).content.decode()


def test_truncate_empties_the_counts(tree, staff):
    make_demand(tree.group_a, by=staff)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE demands_demand CASCADE")
    assert kept_counts() == {} == live_counts()
