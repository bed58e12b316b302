"""Scale data: a large, realistic group company generated in minutes (`manage.py generate_scale_data`;
`manage.py bench_kpis` uses the same generator).

Under a root unit of its own (SCALE-<seed>): the org tree, people, accounts (one benchmark user per
role), demands with hash-chained timelines that follow demands/workflow.py and the SLA, mediation
cases, life events and visits, 三会一课 and other activities with attendance, points, responsibility
lists with their records, and KPI targets. Everything is drawn from random streams seeded with
`seed` (Python) or from arithmetic of the row number and the seed (SQL), so the same seed, window
and sizes on an empty database give the same rows. Rows are written with COPY (and one INSERT …
SELECT), with the audit triggers bypassed (`session_replication_role = replica`: synthetic data, no
history) — so the generator itself keeps every foreign key valid and every unique constraint met.

Modules: plan (sizes, window, seed), bulk (COPY, hashes, indexes), org (tree, people, accounts),
demands (demands and their events, mediation, life events, visits), activities (activities,
attendance, points, responsibility items), texts (the Chinese text pools).
"""
from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from .bulk import ScaleError, Steps, indexes_rebuilt
from .org import Org
from .plan import Plan, Sizes

__all__ = ["Plan", "Result", "ScaleError", "Sizes", "existing_data", "generate"]

DEFAULT_PASSWORD = "Bench@2026"


@dataclass
class Result:
    plan: Plan
    steps: list[tuple[str, int | None, float]]
    seconds: float
    bench: dict[str, str] = field(default_factory=dict)  # role → username
    root_id: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {name: count for name, count, _seconds in self.steps if count is not None}


def existing_data() -> str | None:
    """Why this database is not an empty one for scale data (None when it is)."""
    from demands.models import Demand
    from members.models import OrgUnit

    roots = list(OrgUnit.objects.filter(code__startswith="SCALE-", parent__isnull=True).values_list("code", flat=True))
    if roots:
        return f"it already holds scale data ({', '.join(sorted(roots))})"
    if Demand.objects.exists():
        return "it already holds demands"
    return None


def generate(*, sizes: Sizes, seed: int = 1, start: datetime.datetime, until: datetime.datetime,
             password: str = DEFAULT_PASSWORD, kpis: bool = True, kpi_as_of_now: bool = False, echo=None) -> Result:
    """Write one data set (in one transaction), VACUUM ANALYZE, then compute the KPI snapshots the beat
    keeps fresh (unless `kpis` is False). `until` is the data's "now": nothing happens after it.
    With `kpi_as_of_now` the figures are computed as the beat computes them (as of the clock),
    otherwise as of `until`."""
    from members.models import OrgUnit

    if until <= start:
        raise ScaleError("The window is empty: the start must be before the end.")
    plan = Plan(sizes=sizes, seed=seed, start=start, until=until.replace(microsecond=0), password_hash=make_password(password))
    if OrgUnit.objects.filter(code=plan.root_code).exists():
        raise ScaleError(f"Scale data of seed {seed} ({plan.root_code}) is already in this database; "
                         "use another --seed or another database.")
    steps = Steps(echo)
    started = time.perf_counter()
    from activities import meeting_summary

    from . import activities, demands
    from . import org as org_module

    with transaction.atomic(), connection.cursor() as cursor:
        # Synthetic data: no audit trail, no per-row triggers (the generator keeps the keys valid).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        org = org_module.build(plan, steps)
        with indexes_rebuilt("demands.Demand", "demands.DemandEvent", "activities.Attendance"):
            maker = demands.DemandMaker(plan, org)
            maker.make(steps)
            activities.activities(plan, org, steps)
            steps.restart()
        steps.done("indexes rebuilt")
        demands.mediation(plan, org, maker.labour, steps)
        demands.life_events_and_visits(plan, org, steps)
        activities.points(plan, cursor, steps)
        activities.responsibility_items(plan, org, steps)
        # The meetings were written without the services that keep the 三会一课 summary (the
        # matrix, the home page's reminders read it): kept here as an import keeps it.
        steps.done("三会一课 summary", meeting_summary.refresh())
        steps.done("KPI targets", _targets(plan, org))
    steps.restart()
    with connection.cursor() as cursor:
        # VACUUM too, as autovacuum would on a live database: it sets the visibility map, without
        # which every index-only scan (the counts of the pages) fetches its rows from the heap.
        # Inside a transaction (a test's), VACUUM is refused: ANALYZE only.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        if not connection.in_atomic_block:
            # The per-unit counts were kept by their triggers through every insert above, which left
            # a few thousand rows spread over a thousand pages that every ledger count reads whole.
            # Rewritten compact, as counts kept through normal use (pruned and vacuumed) stay.
            from demands.models import DemandUnitCount
            from members.models import UnitPeopleCount

            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (DemandUnitCount, UnitPeopleCount))
            cursor.execute(f"VACUUM (FULL, ANALYZE) {tables}")
    steps.done("vacuum analyze")
    if kpis:
        steps.done("KPI snapshots", compute_kpis(plan, as_of_now=kpi_as_of_now))
        from evaluation.models import DemandCategorySnapshot, KpiSnapshot

        with connection.cursor() as cursor:
            # The snapshots' statistics too (the rest was analysed above): a KPI ranking planned on
            # an unanalysed snapshot table loops over every unit (16.7 ms instead of 7.5).
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (KpiSnapshot, DemandCategorySnapshot))
            cursor.execute(f"ANALYZE {tables}")
        steps.done("analyze snapshots")
    return Result(plan, steps.rows, time.perf_counter() - started, org.bench, org.root)


def _targets(plan: Plan, org: Org) -> int:
    """The committee's yearly KPI targets (those of the demo) for every year of the window."""
    from evaluation import engine
    from evaluation.demo import TARGETS
    from evaluation.models import KpiDefinition, KpiTarget

    engine.ensure_catalogue()
    known = set(KpiDefinition.objects.filter(code__in=TARGETS).values_list("code", flat=True))
    rows = [
        KpiTarget(kpi_id=code, org_unit_id=org.root, year=year, target=target, green_from=green, amber_from=amber,
                  updated_by_id=org.admin.id if org.admin else None)
        for year in range(plan.start.astimezone(_local()).year,
                          (plan.until - datetime.timedelta(seconds=1)).astimezone(_local()).year + 1)
        for code, (target, green, amber) in TARGETS.items() if code in known
    ]
    return len(KpiTarget.objects.bulk_create(rows))


def _local():
    from evaluation.periods import LOCAL_TZ

    return LOCAL_TZ


def compute_kpis(plan: Plan, *, as_of_now: bool) -> int:
    """The snapshots of the current and previous month, quarter and year: the beat's task, run here."""
    from evaluation.choices import RunTrigger
    from evaluation.periods import maintained_periods
    from evaluation.tasks import compute_kpis as task

    if as_of_now:
        result = task(trigger=RunTrigger.COMMAND)
    else:
        result = task(periods=[p.key for p in maintained_periods(plan.until)], as_of=plan.until.isoformat(),
                      trigger=RunTrigger.COMMAND)
    return result["rows_written"]


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "n/a"
