"""A KPI computation whose worker was killed never finishes its run: the next computation closes
such runs as failed, and the dashboard says the last computation failed."""
import datetime

import pytest
from django.utils import timezone

from evaluation import engine
from evaluation.models import KpiRun
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def orphan(started_ago: datetime.timedelta) -> KpiRun:
    now = timezone.now()
    return KpiRun.objects.create(trigger="beat", periods=["2026-03"], as_of=now, started_at=now - started_ago)


def test_the_next_computation_closes_a_run_left_running_as_failed(tree, compute, settings):
    settings.KPI_RUN_STALE_SECONDS = 3600
    lost = orphan(datetime.timedelta(hours=2))
    young = orphan(datetime.timedelta(minutes=5))  # may still be computing somewhere
    compute(["2026-03"], as_of="2026-04-01 00:00")
    lost.refresh_from_db()
    young.refresh_from_db()
    assert lost.finished_at is not None and lost.error == engine.STALE_RUN_ERROR
    assert young.finished_at is None and young.error == ""


def test_the_dashboard_shows_a_failed_computation(tree, compute, client, manager, settings):
    settings.KPI_RUN_STALE_SECONDS = 60
    compute(["2026-03"], as_of="2026-04-01 00:00")
    client_for(client, manager)
    page = client.get("/evaluation/", {"period": "2026-03", "unit": tree.root.pk}).content.decode()
    assert 'data-testid="failed-run"' not in page
    orphan(datetime.timedelta(0))  # started after the good run; its worker is then lost
    engine.close_stale_runs(timezone.now() + datetime.timedelta(minutes=2))
    page = client.get("/evaluation/", {"period": "2026-03", "unit": tree.root.pk}).content.decode()
    assert 'data-testid="failed-run"' in page
