"""The drill-down lists are exactly the numerator and denominator sets of the snapshots."""
import pytest

from evaluation import drilldown
from evaluation.kpis import all_kpis
from evaluation.models import KpiSnapshot
from evaluation.periods import Period
from tests.conftest import client_for
from tests.evaluation import scenario

pytestmark = pytest.mark.django_db

PERIODS = ["2026-03", "2026-Q1", "2026"]


@pytest.fixture
def world(tree, compute):
    scenario.build(tree)
    compute(PERIODS, as_of="2026-04-15 12:00")
    return tree


@pytest.mark.parametrize("code", [k.code for k in all_kpis()])
@pytest.mark.parametrize("period", PERIODS)
def test_drilldown_counts_equal_snapshots(world, admin_user, code, period):
    for unit in (world.root, world.branch_a, world.group_a, world.branch_b, world.department):
        snap = KpiSnapshot.objects.get(kpi_id=code, period=period, org_unit=unit)
        figure = drilldown.Figure.load(code, unit, Period.parse(period))
        counts = drilldown.counts(figure, admin_user)
        if snap.denominator is None:  # a count
            assert counts[drilldown.DENOMINATOR] == snap.numerator, (code, unit.code)
        else:
            assert counts[drilldown.DENOMINATOR] == snap.denominator, (code, unit.code)
            assert counts[drilldown.NUMERATOR] == snap.numerator, (code, unit.code)
            if code != "satisfaction_mean":  # the numerator of a mean is the sum of ratings
                assert counts[drilldown.REST] == snap.denominator - snap.numerator


def test_the_world_is_not_trivial(world):
    figures = {(s.kpi_id, s.org_unit_id): (s.numerator, s.denominator)
               for s in KpiSnapshot.objects.filter(period="2026-03", org_unit=world.root)}
    assert figures[("demand_intake", world.root.pk)] == (6, None)
    assert figures[("response_on_time_rate", world.root.pk)] == (2, 4)
    assert figures[("satisfaction_rate", world.root.pk)] == (1, 2)
    assert figures[("mediation_success_rate", world.root.pk)] == (1, 3)
    # A: committee, party group and (the January party lecture) the Q1 lecture; B: the Q1 assembly.
    assert figures[("meeting_compliance_rate", world.root.pk)] == (4, 8)
    assert figures[("education_coverage_rate", world.root.pk)] == (2, 4)
    assert figures[("task_on_time_rate", world.root.pk)] == (1, 3)
    assert figures[("must_visit_on_time_rate", world.root.pk)] == (1, 3)  # 5 March visited on the 12th: on time


@pytest.mark.parametrize("code", [k.code for k in all_kpis()])
def test_drilldown_page_shows_the_snapshot_counts(world, client, manager, code):
    client_for(client, manager)
    snap = KpiSnapshot.objects.get(kpi_id=code, period="2026-03", org_unit=world.root)
    for part in ("denominator", "numerator"):
        response = client.get(f"/evaluation/drill/{code}/", {"period": "2026-03", "unit": world.root.pk, "part": part})
        assert response.status_code == 200
        counts = {key: count for key, _label, count, _url in response.context["parts"]}
        if snap.denominator is None:
            assert counts["denominator"] == snap.numerator
        else:
            assert counts["denominator"] == snap.denominator
            if code != "satisfaction_mean":
                assert counts["numerator"] == snap.numerator
        table = response.context["table"]
        assert len(list(table.rows)) == min(25, response.context["row_count"])


def test_drilldown_rows_are_the_records(world, client, manager):
    client_for(client, manager)
    response = client.get("/evaluation/drill/satisfaction_rate/",
                          {"period": "2026-03", "unit": world.root.pk, "part": "denominator"})
    rows = [row.record for row in response.context["table"].rows]
    assert sorted(d.rating for d in rows) == [2, 5]
    response = client.get("/evaluation/drill/satisfaction_rate/",
                          {"period": "2026-03", "unit": world.root.pk, "part": "numerator"})
    assert [row.record.rating for row in response.context["table"].rows] == [5]
    response = client.get("/evaluation/drill/satisfaction_rate/",
                          {"period": "2026-03", "unit": world.root.pk, "part": "rest"})
    assert [row.record.rating for row in response.context["table"].rows] == [2]


def test_drilldown_is_scoped(world, client, owner, outsider):
    client_for(client, owner)
    assert client.get("/evaluation/drill/demand_intake/", {"period": "2026-03", "unit": world.root.pk}).status_code == 404
    response = client.get("/evaluation/drill/demand_intake/", {"period": "2026-03", "unit": world.branch_a.pk})
    assert response.status_code == 200
    assert response.context["row_count"] == 5  # branch A and its group, all statuses
    client_for(client, outsider)
    assert client.get("/evaluation/drill/demand_intake/", {"period": "2026-03", "unit": world.branch_a.pk}).status_code == 404


def test_drilldown_export_has_the_records(world, client, manager):
    client_for(client, manager)
    response = client.get("/evaluation/drill/demand_intake/",
                          {"period": "2026-03", "unit": world.root.pk, "export": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 6


def test_meeting_drilldown_lists_branches_and_missing_windows(world, client, manager):
    client_for(client, manager)
    response = client.get("/evaluation/drill/meeting_compliance_rate/", {"period": "2026-03", "unit": world.root.pk})
    assert response.status_code == 200
    rows = {row.record.code: row for row in response.context["table"].rows}
    assert set(rows) == {"A", "B"}
    assert rows["A"].get_cell("met_count") == 3
    assert rows["B"].get_cell("met_count") == 1
    assert rows["B"].get_cell("required") == 4


def test_unknown_kpi_and_bad_parameters(world, client, manager):
    client_for(client, manager)
    assert client.get("/evaluation/drill/nope/", {"period": "2026-03"}).status_code == 404
    assert client.get("/evaluation/drill/demand_intake/", {"period": "2026-03", "unit": "x"}).status_code == 404
    response = client.get("/evaluation/drill/demand_intake/", {"period": "2026-13", "unit": world.root.pk})
    assert response.status_code == 200  # a message, and the current month instead
