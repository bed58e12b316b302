"""The snapshot task with a real Celery worker, idempotent recomputes, and the debounced recompute
after data changes (only the periods touched)."""
import datetime

import pytest

from evaluation import engine, services, tasks
from evaluation.models import DemandCategorySnapshot, KpiRun, KpiSnapshot
from evaluation.periods import Period, maintained_periods, touched_periods
from members.models import OrgUnit
from tests.evaluation import scenario
from tests.factories.evaluation import at, demand


@pytest.mark.celery_worker
def test_snapshot_task_runs_on_a_real_worker(celery_worker, tree):
    scenario.build(tree)
    result = tasks.compute_kpis.delay(["2026-03", "2026-Q1"], as_of="2026-04-15T12:00:00+08:00", trigger="beat")
    celery_worker(lambda: KpiRun.objects.filter(finished_at__isnull=False, periods=["2026-03", "2026-Q1"]).exists(),
                  timeout=60)
    snap = KpiSnapshot.objects.get(kpi_id="satisfaction_rate", period="2026-03", org_unit=tree.root)
    assert (snap.numerator, snap.denominator) == (1, 2)
    assert KpiRun.objects.get().trigger == "beat"
    assert result.id


@pytest.mark.django_db
def test_recompute_is_idempotent(tree, compute):
    scenario.build(tree)
    periods = ["2026-03", "2026-Q1", "2026"]
    first = compute(periods, as_of="2026-04-15 12:00")
    before = {(s.period, s.kpi_id, s.org_unit_id): (s.value, s.numerator, s.denominator, s.as_of, s.computed_at)
              for s in KpiSnapshot.objects.all()}
    second = compute(periods, as_of="2026-04-15 12:00")
    after = {(s.period, s.kpi_id, s.org_unit_id): (s.value, s.numerator, s.denominator, s.as_of, s.computed_at)
             for s in KpiSnapshot.objects.all()}
    assert first.rows_written > 0
    assert second.rows_written == 0  # same data: nothing to write
    assert after == before
    # A past period computed later (as of now) gives the same figures: as_of is its end.
    compute(["2026-03"])
    snap = KpiSnapshot.objects.get(kpi_id="demand_intake", period="2026-03", org_unit=tree.root)
    assert snap.as_of == at("2026-04-01 00:00") and snap.numerator == 6
    # A change of data changes only what it touches.
    demand(tree.branch_b, received_at="2026-03-30 10:00")
    third = compute(periods, as_of="2026-04-15 12:00")
    assert third.rows_written == 3 * 2 + 2  # intake of B and ROOT in 3 periods + their March heat-map rows


@pytest.mark.django_db
def test_first_computation_and_a_new_period_beside_stored_ones_write_every_row(tree, compute):
    """The engine inserts directly when none of the periods is stored yet, and compares when some
    are: both paths store one row per unit × period × KPI with the same figures."""
    scenario.build(tree)
    kpis = len(engine.registry.all_kpis())
    units = OrgUnit.objects.count()
    first = compute(["2026-03"], as_of="2026-04-15 12:00")
    march_heat = first.rows_written - units * kpis
    assert march_heat > 0  # the month's heat-map rows come on top
    stored = {(s.kpi_id, s.org_unit_id): (s.value, s.numerator, s.denominator)
              for s in KpiSnapshot.objects.filter(period="2026-03")}
    # March again beside the new quarter: March unchanged, every row of the quarter new.
    both = compute(["2026-03", "2026-Q1"], as_of="2026-04-15 12:00")
    new_heat = DemandCategorySnapshot.objects.filter(period__in=["2026-01", "2026-02"]).count()
    assert both.rows_written == units * kpis + new_heat  # the quarter's rows and the heat map of Jan and Feb
    assert KpiSnapshot.objects.filter(period="2026-Q1").count() == units * kpis
    again = {(s.kpi_id, s.org_unit_id): (s.value, s.numerator, s.denominator)
             for s in KpiSnapshot.objects.filter(period="2026-03")}
    assert again == stored
    intake = KpiSnapshot.objects.get(kpi_id="demand_intake", period="2026-Q1", org_unit=tree.root)
    assert (intake.value, intake.numerator, intake.denominator) == (intake.numerator, intake.numerator, None)


@pytest.mark.django_db
def test_the_beat_schedule_is_registered():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["evaluation-kpis"]
    assert entry["task"] == "evaluation.compute_kpis"
    assert settings.CELERY_BEAT_SCHEDULE["evaluation-monthly-report"]["task"] == "evaluation.monthly_reports"


def test_maintained_and_touched_periods():
    now = at("2026-01-10 08:00")
    assert [p.key for p in maintained_periods(now)] == ["2025-12", "2025-Q4", "2025", "2026-01", "2026-Q1", "2026"]
    assert {p.key for p in touched_periods(at("2026-02-28 23:59:59"))} == {"2026-02", "2026-Q1", "2026", "2026-03"}
    # Shanghai midnight: 16:00 UTC on the last day of March is April 1st.
    assert Period.containing(at("2026-03-31 16:00:00+00:00"), "month").key == "2026-04"
    cumulative = {p.key for p in touched_periods(datetime.date(2026, 11, 5), through_year_end=True)}
    assert cumulative == {"2026-11", "2026-12", "2026-Q4", "2026"}


@pytest.mark.django_db(transaction=True)
def test_changes_schedule_one_debounced_recompute_of_the_touched_periods(tree, recompute_hints, monkeypatch):
    client = services.redis_client()
    client.delete(services.TOUCHED_KEY, services.DEBOUNCE_KEY)
    scheduled = []
    monkeypatch.setattr(tasks.recompute_touched, "apply_async", lambda **kw: scheduled.append(kw))
    demand(tree.group_a, received_at="2026-03-10 10:00")  # a signal on the demands app's model
    demand(tree.group_a, received_at="2026-02-10 10:00")
    assert len(scheduled) == 1 and scheduled[0]["countdown"] == services.DEBOUNCE_SECONDS
    touched = sorted(m.decode() for m in client.smembers(services.TOUCHED_KEY))
    assert {"2026-02", "2026-03", "2026-Q1", "2026"} <= set(touched)
    # The task takes the periods, computes them, and lets the next change schedule again.
    result = tasks.recompute_touched()
    assert set(result["periods"]) == set(touched)
    assert KpiSnapshot.objects.get(kpi_id="demand_intake", period="2026-03", org_unit=tree.root).numerator == 1
    assert not client.exists(services.TOUCHED_KEY) and not client.exists(services.DEBOUNCE_KEY)
    assert tasks.recompute_touched() is None  # nothing left
    # An edit that moves a record touches its old periods too.
    d = demand(tree.group_a, received_at="2026-05-10 10:00")
    client.delete(services.TOUCHED_KEY)
    d.received_at = at("2026-07-10 10:00")
    d.save()
    touched = {m.decode() for m in client.smembers(services.TOUCHED_KEY)}
    assert {"2026-05", "2026-07", "2026-Q2", "2026-Q3"} <= touched
    client.delete(services.TOUCHED_KEY, services.DEBOUNCE_KEY)


@pytest.mark.django_db(transaction=True)
def test_a_failed_recompute_keeps_the_touched_periods(tree, recompute_hints, monkeypatch):
    client = services.redis_client()
    client.delete(services.TOUCHED_KEY, services.DEBOUNCE_KEY)
    client.sadd(services.TOUCHED_KEY, "2026-03")

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(engine, "compute", boom)
    with pytest.raises(RuntimeError):
        tasks.recompute_touched()
    assert client.smembers(services.TOUCHED_KEY) == {b"2026-03"}
    client.delete(services.TOUCHED_KEY)


@pytest.mark.django_db
def test_future_periods_are_not_touched():
    assert services.periods_touched([at("2030-01-01 00:00")], now=at("2026-04-01 00:00")) == set()
