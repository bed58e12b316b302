"""Celery tasks of the evaluation app: thin entry points that call the engine and services."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.schedules import crontab
from django.utils import timezone

from portal import schedule

from .choices import RunTrigger
from .periods import maintained_periods, parse_moment

logger = logging.getLogger(__name__)
RUN_LOG_DAYS = 90


@shared_task(name="evaluation.compute_kpis")
def compute_kpis(periods: list[str] | None = None, as_of: str | None = None, trigger: str = RunTrigger.BEAT) -> dict:
    """Compute snapshots for `periods` (default: those the beat maintains) at `as_of` (ISO, default
    now). The same code as `manage.py compute_kpis`."""
    from . import engine

    periods = periods or [p.key for p in maintained_periods(timezone.now())]
    result = engine.compute(periods, as_of=parse_moment(as_of) if as_of else None, trigger=trigger)
    if trigger == RunTrigger.BEAT:
        # The log of computations keeps 90 days (the beat alone adds 48 a day).
        from .models import KpiRun

        KpiRun.objects.filter(started_at__lt=timezone.now() - timedelta(days=RUN_LOG_DAYS)).delete()
    return {"run": result.run.pk, "periods": result.run.periods, "rows_written": result.rows_written}


@shared_task(name="evaluation.recompute_touched")
def recompute_touched() -> dict | None:
    """The debounced recompute after data changes: only the periods touched since the last run."""
    from . import engine, services

    keys = services.pop_touched()
    if not keys:
        return None
    try:
        result = engine.compute(keys, trigger=RunTrigger.CHANGE)
    except Exception:
        services.restore_touched(keys)
        raise
    return {"run": result.run.pk, "periods": keys, "rows_written": result.rows_written}


@shared_task(name="evaluation.monthly_reports")
def monthly_reports() -> list[int]:
    """On the 1st: finalise last month's figures and write its diagnostic report for each root unit."""
    from . import reports

    return reports.generate_monthly_reports()


@shared_task(name="evaluation.generate_report")
def generate_report(report_id: int) -> bool:
    """Write one requested report (idempotent: a report already done or running is left alone)."""
    from . import reports

    return reports.generate(report_id)


def register_schedule() -> None:
    schedule.register(
        "evaluation-kpis", "evaluation.compute_kpis", crontab(minute="*/30"),
        why="KPI snapshots of the current and previous month, quarter and year (as_of moves with time)",
        kwargs={"trigger": RunTrigger.BEAT},
    )
    schedule.register(
        "evaluation-monthly-report", "evaluation.monthly_reports", crontab(minute=30, hour=6, day_of_month=1),
        why="运行诊断报告 of the month just ended, for every top-level unit",
    )
