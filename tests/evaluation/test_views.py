"""Dashboard, catalogue, targets and manual values: who may, scope (404), bad input, query counts."""
from decimal import Decimal

import pytest

from evaluation.models import KpiDefinition, KpiSnapshot, KpiTarget, ManualKpiValue
from tests.conftest import PAGE_QUERY_BUDGET, client_for, make_user, page_queries
from tests.evaluation import scenario
from tests.factories import OrgUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, compute):
    scenario.build(tree)
    compute(["2026-02", "2026-03", "2026-Q1", "2026"], as_of="2026-04-15 12:00")
    return tree


def test_dashboard_for_each_role(world, client, manager, staff, owner, member, handler, admin_user):
    for user in (manager, staff, owner, admin_user):
        client_for(client, user)
        response = client.get("/evaluation/", {"period": "2026-03"})
        assert response.status_code == 200, user.role
    for user in (member, handler):
        client_for(client, user)
        assert client.get("/evaluation/").status_code == 403


def test_dashboard_reads_snapshots_and_shows_cards(world, client, manager):
    client_for(client, manager)
    response = client.get("/evaluation/", {"period": "2026-03", "unit": world.root.pk})
    cards = {c.kpi.code: c for c in response.context["cards"]}
    assert cards["demand_intake"].display_value == "6"
    assert cards["satisfaction_rate"].display_value == "50.00%"
    assert cards["mediation_success_rate"].display_value == "33.33%"
    # The previous period (February) gives the change.
    assert cards["demand_intake"].delta == Decimal(6)
    content = response.content.decode()
    assert 'data-testid="drill-satisfaction_rate-denominator"' in content
    # The dashboard never computes: no snapshots, no figures.
    KpiSnapshot.objects.all().delete()
    response = client.get("/evaluation/", {"period": "2026-03", "unit": world.root.pk})
    assert {c.display_value for c in response.context["cards"]} == {"—"}


def test_dashboard_unit_out_of_scope_is_404(world, client, owner):
    client_for(client, owner)
    assert client.get("/evaluation/", {"unit": world.branch_b.pk}).status_code == 404
    assert client.get("/evaluation/", {"unit": world.root.pk}).status_code == 404
    assert client.get("/evaluation/", {"unit": world.group_a.pk}).status_code == 200
    assert client.get("/evaluation/", {"unit": "abc"}).status_code == 404


def test_dashboard_bad_period_shows_a_message_not_500(world, client, manager):
    client_for(client, manager)
    response = client.get("/evaluation/", {"period": "2026-Q5"}, follow=True)
    assert response.status_code == 200
    assert any("2026-Q5" in str(m) for m in response.context["messages"])


@pytest.mark.parametrize("fixture,unit", [("manager", None), ("manager", "branch_a"), ("owner", "group_a")])
def test_dashboard_query_count_does_not_grow_with_branches(world, client, request, compute, fixture, unit):
    """The KPI dashboard (cards, trends, ranking, heat map, meeting matrix, overdue lists): as many
    queries with 3 as with 30 more branches, snapshots and overdue records, within the page budget."""
    from members.importers import rebuild_org_paths
    from tests.factories.evaluation import demand, item

    client_for(client, request.getfixturevalue(fixture))
    params = {"period": "2026-03", **({"unit": getattr(world, unit).pk} if unit else {})}

    def grow(n, start):
        for i in range(start, start + n):
            branch = OrgUnitFactory(code=f"X{i}", kind="branch", parent=world.branch_a)
            OrgUnitFactory(code=f"X{i}G", kind="group", parent=branch)
            demand(world.group_a, received_at="2026-03-02 10:00")
            item(world.group_a, deadline="2026-03-05")
        rebuild_org_paths()
        compute(["2026-01", "2026-02", "2026-03"], as_of="2026-04-15 12:00")

    grow(3, 0)
    few = page_queries(client, "/evaluation/", params)
    grow(27, 3)
    many = page_queries(client, "/evaluation/", params)
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)


def test_drilldown_query_count_is_constant(world, client, manager):
    from tests.factories.evaluation import demand

    client_for(client, manager)
    url, params = "/evaluation/drill/demand_intake/", {"period": "2026-03", "unit": world.root.pk}
    few = page_queries(client, url, params)
    for _ in range(25):
        demand(world.group_a, received_at="2026-03-20 10:00")
    many = page_queries(client, url, params)
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)


def test_recompute_button_enqueues_and_redirects(world, client, manager, django_capture_on_commit_callbacks,
                                                  monkeypatch):
    calls = []
    monkeypatch.setattr("evaluation.tasks.compute_kpis.delay", lambda *a, **k: calls.append((a, k)))
    client_for(client, manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/evaluation/recompute/?unit={world.root.pk}", {"period": "2026-03"})
    assert response.status_code == 302
    assert calls and calls[0][0][0] == ["2026-03", "2026-Q1", "2026"]


def test_staff_cannot_recompute(world, client, staff):
    client_for(client, staff)
    assert client.post("/evaluation/recompute/", {"period": "2026-03"}).status_code == 403


# --- Catalogue, targets, manual values -------------------------------------------------------------------
def test_catalogue_lists_computed_kpis_and_manager_adds_a_manual_one(world, client, manager, staff):
    client_for(client, staff)
    response = client.get("/evaluation/kpis/")
    assert response.status_code == 200
    assert "satisfaction_rate" in response.content.decode()
    assert client.get("/evaluation/kpis/new/").status_code == 403
    client_for(client, manager)
    response = client.post("/evaluation/kpis/new/", {"code": "Bad Code", "name": "x", "value_format": "rate",
                                                     "direction": "higher", "weight": "1", "sort_order": "1"})
    assert response.status_code == 200 and "code" in response.context["form"].errors
    response = client.post("/evaluation/kpis/new/", {"code": "party_dues_rate", "name": "党费缴纳率",
                                                     "value_format": "rate", "direction": "higher", "weight": "2",
                                                     "sort_order": "120", "is_active": "on",
                                                     "definition": "按时缴纳人数 ÷ 应缴人数"})
    assert response.status_code == 302
    assert KpiDefinition.objects.get(code="party_dues_rate").kind == "manual"


def test_computed_kpi_definition_cannot_be_rewritten(world, client, manager):
    client_for(client, manager)
    client.post("/evaluation/kpis/satisfaction_rate/edit/", {"name": "改名", "value_format": "count",
                                                            "direction": "lower", "weight": "3", "sort_order": "1",
                                                            "is_active": "on"})
    kpi = KpiDefinition.objects.get(code="satisfaction_rate")
    assert (kpi.value_format, kpi.direction, kpi.weight) == ("rate", "higher", Decimal(3))


def test_target_in_percent_is_stored_as_fraction_and_inherited(world, client, manager, owner):
    client_for(client, manager)
    data = {"kpi": "satisfaction_rate", "org_unit": world.root.pk, "year": 2026, "target": "90", "green_from": "",
            "amber_from": "80", "weight": "", "note": ""}
    response = client.post("/evaluation/targets/new/", data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    target = KpiTarget.objects.get()
    assert (target.target, target.amber_from) == (Decimal("0.9"), Decimal("0.8"))
    # Same KPI, unit and year again: a clear error, nothing saved.
    response = client.post("/evaluation/targets/new/", data)
    assert response.status_code == 200 and "year" in response.context["form"].errors
    response = client.post("/evaluation/targets/new/", {**data, "org_unit": world.branch_a.pk, "target": "150"})
    assert "target" in response.context["form"].errors
    # Branch A has no target of its own: it uses the committee's; 50% is red.
    client_for(client, owner)
    cards = {c.kpi.code: c for c in client.get("/evaluation/", {"period": "2026-03"}).context["cards"]}
    assert cards["satisfaction_rate"].target == target
    assert cards["satisfaction_rate"].light == "red"


def test_secretary_cannot_manage_targets(world, client, owner):
    client_for(client, owner)
    assert client.get("/evaluation/targets/").status_code == 403


def test_target_unit_outside_scope_is_refused(world, client, tree):
    manager_b = make_user("manager", tree.branch_b, username="manager_b")
    client_for(client, manager_b)
    response = client.post("/evaluation/targets/new/", {"kpi": "satisfaction_rate", "org_unit": tree.branch_a.pk,
                                                        "year": 2026, "target": "90"})
    assert response.status_code == 200 and "org_unit" in response.context["form"].errors
    assert not KpiTarget.objects.exists()


def test_manual_value_is_mirrored_into_snapshots(world, client, manager):
    KpiDefinition.objects.create(code="party_dues_rate", kind="manual", name="党费缴纳率", value_format="rate")
    client_for(client, manager)
    response = client.post("/evaluation/manual/new/", {"kpi": "party_dues_rate", "org_unit": world.branch_a.pk,
                                                      "period": "2026-03", "value": "97.5", "note": ""})
    assert response.status_code == 302
    snap = KpiSnapshot.objects.get(kpi_id="party_dues_rate", org_unit=world.branch_a, period="2026-03")
    assert snap.value == Decimal("0.975") and snap.numerator is None
    value = ManualKpiValue.objects.get()
    response = client.post(f"/evaluation/manual/{value.pk}/edit/", {"kpi": "party_dues_rate",
                                                                    "org_unit": world.branch_a.pk,
                                                                    "period": "2026-3", "value": "90"})
    assert "period" in response.context["form"].errors
    client.post(f"/evaluation/manual/{value.pk}/delete/")
    assert not KpiSnapshot.objects.filter(kpi_id="party_dues_rate").exists()
    # The manual KPI shows on the dashboard without a drill-down.
    cards = {c.kpi.code: c for c in client.get("/evaluation/", {"period": "2026-03"}).context["cards"]}
    assert cards["party_dues_rate"].display_value == "—"


def test_dashboard_opens_on_the_last_complete_month(world, client, manager, time_machine):
    """On 15 April the current month has hardly a figure due: the page opens on March, April is one click away."""
    import datetime
    from zoneinfo import ZoneInfo

    time_machine.move_to(datetime.datetime(2026, 4, 15, 12, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    client_for(client, manager)
    response = client.get("/evaluation/", {"unit": world.root.pk})
    assert response.context["period"].key == "2026-03"
    assert 'data-testid="current-month-link" href="?period=2026-04' in response.content.decode()
    response = client.get("/evaluation/", {"unit": world.root.pk, "period": "2026-04"})
    assert response.context["period"].key == "2026-04"
    assert 'data-testid="last-month-link" href="?period=2026-03' in response.content.decode()


def test_dashboard_chart_labels_are_chinese_and_rounded_on_the_server(world, client, manager):
    client_for(client, manager)
    response = client.get("/evaluation/", {"period": "2026-03", "unit": world.root.pk, "rank": "satisfaction_rate"},
                          HTTP_ACCEPT_LANGUAGE="zh-hans")
    data = response.context["chart_data"]
    assert [s["name"] for s in data["funnel"]] == ["本期受理", "本期办结", "其中已回访", "本期评价", "其中评 4–5 分"]
    assert all(label == "—" or label.endswith("%") for label in data["ranking"]["labels"])
