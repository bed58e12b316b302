"""The KPI engine: computes the KPIs of evaluation.kpis for every org unit and the given periods by
SQL aggregation, and stores them as snapshots.

How one KPI is computed (one statement, all units and all periods at once):

1. *Leaf aggregation.* The KPI's records (its window and conditions, compiled by the ORM from the
   same `Q` objects the drill-down lists use) are grouped per attached unit and per *atom*: the
   position of the timestamp among the sorted boundaries of all periods (every start(P) and
   as_of(P)), found with `width_bucket`. Timestamps that must be "before as_of" get an atom too.
   A date window groups by the date itself.
2. *Periods.* A period is a range of atoms, so each leaf row is matched to the periods it belongs to
   (a month, its quarter, its year) by comparing small integers, on a table of ~10⁵ rows instead of
   the records themselves.
3. *Roll-up.* Each unit's row is added to every ancestor's by joining a closure table built from the
   materialised paths (`members.OrgUnit.path`, split into ancestor ids).
4. Every unit × period gets a row; the value is null when the denominator is 0.

Results go to a temporary table; the snapshot table is then updated only where a figure or as_of
changed and new rows are inserted in bulk. The whole computation runs in one transaction under an
advisory lock, so a dashboard never sees half a recompute and two computations never interleave.
The command `compute_kpis` and the Celery tasks both call `compute()`.
"""
from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, F, Func, IntegerField, Sum, Value
from django.utils import timezone

from members.models import OrgUnit

from . import kpis as registry
from .choices import KpiKind, RunTrigger
from .kpis import COUNT, MEAN, Bounds, DateWindow, EducationKpi, MeetingKpi, MomentWindow, RecordKpi
from .models import KpiDefinition, KpiRun
from .periods import LOCAL_TZ, Period

ADVISORY_LOCK = 5_106_449  # "KPI": serialises computations of snapshots
SNAPSHOT_TABLE = "evaluation_kpisnapshot"
HEAT_TABLE = "evaluation_demandcategorysnapshot"


class WidthBucket(Func):
    """Position of a moment among sorted boundaries: b[i] ≤ x < b[i+1] → i (0 before b[1])."""

    function = "width_bucket"
    output_field = IntegerField()

    def __init__(self, expression, boundaries):
        super().__init__(expression, Value(list(boundaries), output_field=ArrayField(DateTimeField())))


# --- The plan of one computation ---------------------------------------------------------------------
@dataclass
class PeriodRow:
    pidx: int
    period: Period
    bounds: Bounds
    i_start: int
    i_as_of: int


class Plan:
    """The periods of a computation, their bounds at `moment`, and the sorted boundaries."""

    def __init__(self, periods, moment: datetime.datetime):
        self.moment = moment
        periods = sorted(set(periods))
        bounds = {p: Bounds.of(p, moment) for p in periods}
        self.boundaries = sorted({b.start for b in bounds.values()} | {b.as_of for b in bounds.values()})
        position = {moment: i + 1 for i, moment in enumerate(self.boundaries)}
        self.rows = [
            PeriodRow(i, p, bounds[p], position[bounds[p].start], position[bounds[p].as_of])
            for i, p in enumerate(periods)
        ]
        self.years = sorted({p.year for p in periods})

    @property
    def periods(self) -> list[Period]:
        return [row.period for row in self.rows]

    def year_rows(self, year: int) -> list[PeriodRow]:
        return [row for row in self.rows if row.period.year == year]


WORK_TABLES = ("kpi_periods", "kpi_anc", "kpi_result", "kpi_heat", "kpi_windows", "kpi_period_windows",
               "kpi_changed")


def _drop_work_tables(cursor) -> None:
    """Temporary tables are dropped at commit; inside an outer transaction (a caller's atomic
    block, a test) they would outlive the computation, so drop them explicitly too."""
    cursor.execute("DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{t}" for t in WORK_TABLES))


def _create_work_tables(cursor, plan: Plan) -> None:
    _drop_work_tables(cursor)
    cursor.execute(
        """
        CREATE TEMP TABLE kpi_periods (
            pidx int PRIMARY KEY, key varchar(7) COLLATE "C", year int, start_at timestamptz,
            end_at timestamptz, as_of timestamptz, i_start int, i_as_of int,
            start_date date, end_date date, as_of_date date
        ) ON COMMIT DROP
        """
    )
    cursor.executemany(
        "INSERT INTO kpi_periods VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (r.pidx, r.period.key, r.period.year, r.bounds.start, r.bounds.end, r.bounds.as_of, r.i_start, r.i_as_of,
             r.bounds.start_date, r.bounds.end_date, r.bounds.as_of_date)
            for r in plan.rows
        ],
    )
    # Closure of the org tree from the materialised paths: (unit, each ancestor including itself).
    cursor.execute(
        f"""
        CREATE TEMP TABLE kpi_anc ON COMMIT DROP AS
        SELECT u.id AS unit_id, a.seg::bigint AS anc_id
        FROM {OrgUnit._meta.db_table} u
        CROSS JOIN LATERAL unnest(string_to_array(rtrim(u.path, '/'), '/')) AS a(seg)
        WHERE u.path <> ''
        """
    )
    cursor.execute("CREATE INDEX ON kpi_anc (unit_id)")
    cursor.execute("ANALYZE kpi_anc")
    cursor.execute(
        """
        CREATE TEMP TABLE kpi_result (
            period varchar(7) COLLATE "C", kpi_id varchar(40) COLLATE "C", org_unit_id bigint,
            value numeric(18, 6), numerator bigint, denominator bigint, as_of timestamptz
        ) ON COMMIT DROP
        """
    )


# --- Statements ------------------------------------------------------------------------------------------
def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _final_select(code: str, measure: str, *, extra_from: str = "", extra_joins: str = "",
                  den_expr: str = "COALESCE(up.den, 0)") -> str:
    """Every unit × period, LEFT JOIN its rolled-up figures `up`."""
    if measure == COUNT:
        figures = f"{den_expr}, {den_expr}, NULL"
    else:
        figures = (
            f"CASE WHEN {den_expr} > 0 THEN round(COALESCE(up.num, 0)::numeric / {den_expr}, 6) END, "
            f"COALESCE(up.num, 0), {den_expr}"
        )
    return f"""
        INSERT INTO kpi_result (period, kpi_id, org_unit_id, value, numerator, denominator, as_of)
        SELECT p.key, '{code}', u.id, {figures}, p.as_of
        FROM kpi_periods p {extra_from}
        CROSS JOIN {OrgUnit._meta.db_table} u
        {extra_joins}
        LEFT JOIN up ON up.pidx = p.pidx AND up.unit = u.id
    """


ROLLUP = """
    up AS (
        SELECT per.pidx, a.anc_id AS unit, SUM(per.den) AS den, SUM(per.num) AS num
        FROM per JOIN kpi_anc a ON a.unit_id = per.unit
        GROUP BY per.pidx, a.anc_id
    )
"""


def record_kpi_statement(kpi: RecordKpi, plan: Plan) -> tuple[str, tuple]:
    model = kpi.model_class
    window = kpi.window
    queryset = model._base_manager.all()
    if isinstance(window, MomentWindow):
        queryset = queryset.filter(**{f"{window.field}__gte": plan.boundaries[0],
                                      f"{window.field}__lt": plan.boundaries[-1]})
        atom = WidthBucket(F(window.field), plan.boundaries)
        join = "s1.w >= p.i_start AND s1.w < p.i_as_of"
    elif isinstance(window, DateWindow):
        first = min(r.bounds.start_date for r in plan.rows)
        last = max(r.bounds.end_date for r in plan.rows)
        queryset = queryset.filter(**{f"{window.field}__gte": first, f"{window.field}__lt": last})
        atom = F(window.field)
        join = (f"s1.w >= p.start_date AND s1.w < p.end_date "
                f"AND s1.w <= p.as_of_date - {int(window.due_offset)}")
    else:  # pragma: no cover
        raise TypeError(window)
    queryset = queryset.filter(kpi.base)
    dimensions = {"unit": F(kpi.org), "w": atom}
    for i, name in enumerate(kpi.before):
        dimensions[f"b{i}"] = WidthBucket(F(name), plan.boundaries)
    aggregates = {"den": Count("pk")}
    if kpi.measure == MEAN:
        aggregates["num"] = Sum(kpi.mean_of)
    elif kpi.measure != COUNT:
        condition = kpi.numerator_condition
        aggregates["num"] = Count("pk", filter=condition) if condition is not None else Count("pk")
    else:
        aggregates["num"] = Count("pk")
    stage1, params = _sql(queryset.values(**dimensions).annotate(**aggregates).order_by())
    before = " AND ".join(f"s1.b{i} < p.i_as_of" for i in range(len(kpi.before))) or "TRUE"
    sql = f"""
        WITH s1 AS ({stage1}),
        per AS (
            SELECT p.pidx, s1.unit, SUM(s1.den) AS den, SUM(s1.num) FILTER (WHERE {before}) AS num
            FROM s1 JOIN kpi_periods p ON {join}
            GROUP BY p.pidx, s1.unit
        ),
        {ROLLUP}
        {_final_select(kpi.code, kpi.measure)}
    """
    return sql, params


def education_statements(kpi: EducationKpi, plan: Plan) -> list[tuple[str, tuple]]:
    from members.models import Person

    statements = []
    members_sql, members_params = _sql(
        Person._base_manager.filter(kpi.denominator_q(None)).values("id", "org_unit_id").order_by()
    )
    for year in plan.years:
        rows = plan.year_rows(year)
        since = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
        before = max(r.bounds.as_of for r in rows)
        if before <= since:
            before = since  # every period of the year lies in the future: nothing attended yet
        first_sql, first_params = _sql(kpi.first_attendance(since=since, before=before))
        sql = f"""
            WITH f AS ({first_sql}),
            m AS ({members_sql}),
            s1 AS (
                SELECT m.org_unit_id AS unit, width_bucket(f."first", %s::timestamptz[]) AS b, count(*) AS n
                FROM m LEFT JOIN f ON f.person_id = m.id
                GROUP BY 1, 2
            ),
            per AS (
                SELECT p.pidx, s1.unit, SUM(s1.n) AS den, SUM(s1.n) FILTER (WHERE s1.b < p.i_as_of) AS num
                FROM s1 CROSS JOIN kpi_periods p
                WHERE p.year = {int(year)}
                GROUP BY p.pidx, s1.unit
            ),
            {ROLLUP}
            {_final_select(kpi.code, kpi.measure)}
            WHERE p.year = {int(year)}
        """
        statements.append((sql, first_params + members_params + (list(plan.boundaries),)))
    return statements


def meeting_statement(kpi: MeetingKpi, plan: Plan, cursor) -> tuple[str, tuple]:
    windows: dict[tuple, int] = {}
    period_windows = []
    for row in plan.rows:
        for window in kpi.windows(row.bounds):
            wid = windows.setdefault((window.type, window.start, window.end), len(windows))
            period_windows.append((row.pidx, wid))
    cursor.execute(
        "CREATE TEMP TABLE kpi_windows (wid int PRIMARY KEY, type varchar(30), wstart timestamptz, wend timestamptz)"
        " ON COMMIT DROP"
    )
    cursor.execute("CREATE TEMP TABLE kpi_period_windows (pidx int, wid int) ON COMMIT DROP")
    if windows:
        cursor.executemany("INSERT INTO kpi_windows VALUES (%s, %s, %s, %s)",
                           [(wid, t, s, e) for (t, s, e), wid in windows.items()])
        cursor.executemany("INSERT INTO kpi_period_windows VALUES (%s, %s)", period_windows)
        since = min(s for (_, s, _) in windows)
        until = max(e for (_, _, e) in windows)
    else:
        since = until = plan.boundaries[0]
    held_sql, held_params = _sql(held_meetings_values(since, until))
    units = OrgUnit._meta.db_table
    sql = f"""
        WITH h AS ({held_sql}),
        met AS (
            SELECT DISTINCT a.anc_id AS branch, w.wid
            FROM h
            JOIN kpi_windows w ON w.type = h.type AND h.held_at >= w.wstart AND h.held_at < w.wend
            JOIN kpi_anc a ON a.unit_id = h.org_unit_id
            JOIN {units} b ON b.id = a.anc_id AND b.kind = 'branch'
        ),
        per AS (
            SELECT pw.pidx, met.branch AS unit, 0 AS den, count(*) AS num
            FROM met JOIN kpi_period_windows pw ON pw.wid = met.wid
            GROUP BY pw.pidx, met.branch
        ),
        {ROLLUP},
        br AS (
            SELECT a.anc_id AS unit, count(*) AS n
            FROM kpi_anc a JOIN {units} b ON b.id = a.unit_id AND b.kind = 'branch'
            GROUP BY a.anc_id
        ),
        nw AS (
            SELECT p.pidx, count(pw.wid) AS n
            FROM kpi_periods p LEFT JOIN kpi_period_windows pw ON pw.pidx = p.pidx
            GROUP BY p.pidx
        )
        {_final_select(kpi.code, kpi.measure, extra_from="JOIN nw ON nw.pidx = p.pidx",
                       extra_joins="LEFT JOIN br ON br.unit = u.id", den_expr="(COALESCE(br.n, 0) * nw.n)")}
    """
    return sql, held_params


def held_meetings_values(since, until):
    return registry.held_meetings(since=since, before=until).values("org_unit_id", "type", "held_at").order_by()


def heat_statement(plan: Plan) -> tuple[str, tuple]:
    """Demands received per category (demand_intake's window), rolled up: the dashboard heat map."""
    intake = registry.get("demand_intake")
    queryset = intake.model_class._base_manager.filter(
        **{f"{intake.window.field}__gte": plan.boundaries[0], f"{intake.window.field}__lt": plan.boundaries[-1]}
    ).filter(intake.base)
    stage1, params = _sql(
        queryset.values(unit=F(intake.org), w=WidthBucket(F(intake.window.field), plan.boundaries),
                        cat=F("category")).annotate(n=Count("pk")).order_by()
    )
    sql = f"""
        INSERT INTO kpi_heat (period, org_unit_id, counts, as_of)
        WITH s1 AS ({stage1}),
        per AS (
            SELECT p.pidx, s1.unit, s1.cat, SUM(s1.n) AS n
            FROM s1 JOIN kpi_periods p ON s1.w >= p.i_start AND s1.w < p.i_as_of
            GROUP BY p.pidx, s1.unit, s1.cat
        ),
        up AS (
            SELECT per.pidx, a.anc_id AS unit, per.cat, SUM(per.n) AS n
            FROM per JOIN kpi_anc a ON a.unit_id = per.unit
            GROUP BY per.pidx, a.anc_id, per.cat
        )
        SELECT p.key, up.unit, jsonb_object_agg(up.cat::text, up.n ORDER BY up.cat), p.as_of
        FROM up JOIN kpi_periods p ON p.pidx = up.pidx
        GROUP BY p.key, up.unit, p.as_of
    """
    return sql, params


def aggregate_statements(plan: Plan, cursor, codes=None) -> list[tuple[str, str, tuple]]:
    """(code, sql, params) of every aggregate the engine runs for `plan` (the benchmark runs them
    directly too). Needs the work tables of `_create_work_tables`."""
    statements = []
    for kpi in registry.all_kpis():
        if codes is not None and kpi.code not in codes:
            continue
        if isinstance(kpi, RecordKpi):
            statements.append((kpi.code, *record_kpi_statement(kpi, plan)))
        elif isinstance(kpi, EducationKpi):
            statements += [(kpi.code, sql, params) for sql, params in education_statements(kpi, plan)]
        elif isinstance(kpi, MeetingKpi):
            statements.append((kpi.code, *meeting_statement(kpi, plan, cursor)))
    if codes is None or "demand_intake" in codes:
        statements.append(("demand_heat", *heat_statement(plan)))
    return statements


# --- Writing the snapshots --------------------------------------------------------------------------
def _write_snapshots(cursor, now) -> int:
    """Update the snapshots whose figures or as_of changed, insert the new ones; return the count."""
    cursor.execute(
        f"""
        CREATE TEMP TABLE kpi_changed ON COMMIT DROP AS
        SELECT r.*, s.period IS NULL AS is_new
        FROM kpi_result r
        LEFT JOIN {SNAPSHOT_TABLE} s
          ON s.period = r.period AND s.kpi_id = r.kpi_id AND s.org_unit_id = r.org_unit_id
        WHERE s.period IS NULL
           OR (s.value, s.numerator, s.denominator, s.as_of)
              IS DISTINCT FROM (r.value, r.numerator, r.denominator, r.as_of)
        """
    )
    written = cursor.rowcount
    cursor.execute(
        f"""
        UPDATE {SNAPSHOT_TABLE} s
        SET value = c.value, numerator = c.numerator, denominator = c.denominator, as_of = c.as_of,
            computed_at = %s
        FROM kpi_changed c
        WHERE NOT c.is_new AND s.period = c.period AND s.kpi_id = c.kpi_id AND s.org_unit_id = c.org_unit_id
        """,
        [now],
    )
    cursor.execute(
        f"""
        INSERT INTO {SNAPSHOT_TABLE} (period, kpi_id, org_unit_id, value, numerator, denominator, as_of, computed_at)
        SELECT period, kpi_id, org_unit_id, value, numerator, denominator, as_of, %s
        FROM kpi_changed WHERE is_new
        """,
        [now],
    )
    return written


def _write_heat(cursor, plan: Plan, now) -> int:
    keys = [row.period.key for row in plan.rows]
    cursor.execute(
        f"""
        DELETE FROM {HEAT_TABLE} s
        WHERE s.period = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM kpi_heat h WHERE h.period = s.period AND h.org_unit_id = s.org_unit_id)
        """,
        [keys],
    )
    deleted = cursor.rowcount
    cursor.execute(
        f"""
        UPDATE {HEAT_TABLE} s SET counts = h.counts, as_of = h.as_of, computed_at = %s
        FROM kpi_heat h
        WHERE s.period = h.period AND s.org_unit_id = h.org_unit_id
          AND (s.counts, s.as_of) IS DISTINCT FROM (h.counts, h.as_of)
        """,
        [now],
    )
    updated = cursor.rowcount
    cursor.execute(
        f"""
        INSERT INTO {HEAT_TABLE} (period, org_unit_id, counts, as_of, computed_at)
        SELECT h.period, h.org_unit_id, h.counts, h.as_of, %s FROM kpi_heat h
        WHERE NOT EXISTS (SELECT 1 FROM {HEAT_TABLE} s WHERE s.period = h.period AND s.org_unit_id = h.org_unit_id)
        """,
        [now],
    )
    return deleted + updated + cursor.rowcount


def ensure_catalogue() -> None:
    """The catalogue has a row for every computed KPI of evaluation.kpis (kept in step)."""
    existing = dict(KpiDefinition.objects.filter(kind=KpiKind.COMPUTED).values_list("code", "sort_order"))
    missing = [
        KpiDefinition(code=k.code, kind=KpiKind.COMPUTED, name=str(k.name), value_format=k.value_format,
                      direction=k.direction, sort_order=k.sort_order)
        for k in registry.all_kpis() if k.code not in existing
    ]
    if missing:
        KpiDefinition.objects.bulk_create(missing, ignore_conflicts=True)


def _session_settings(cursor) -> None:
    # Local to the transaction: enough memory for the hash aggregates, no JIT compile time.
    cursor.execute("SET LOCAL work_mem = '128MB'")
    cursor.execute("SET LOCAL jit = off")


@dataclass
class Result:
    run: KpiRun
    rows_written: int
    seconds: float


def compute(periods, *, as_of: datetime.datetime | None = None, trigger: str = RunTrigger.COMMAND) -> Result:
    """Compute and store the snapshots of every org unit for `periods` (Period objects or keys) at
    `as_of` (default: now). Idempotent: the same data gives the same figures."""
    periods = [p if isinstance(p, Period) else Period.parse(p) for p in periods]
    started = timezone.now()
    moment = as_of or started
    plan = Plan(periods, moment)
    ensure_catalogue()
    clock = time.perf_counter()
    run = KpiRun.objects.create(trigger=trigger, periods=[p.key for p in plan.periods], as_of=moment,
                                explicit_as_of=as_of is not None, started_at=started)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
            _session_settings(cursor)
            _create_work_tables(cursor, plan)
            cursor.execute(
                "CREATE TEMP TABLE kpi_heat (period varchar(7) COLLATE \"C\", org_unit_id bigint, counts jsonb,"
                " as_of timestamptz) ON COMMIT DROP"
            )
            for _code, sql, params in aggregate_statements(plan, cursor):
                cursor.execute(sql, params)
            now = timezone.now()
            written = _write_snapshots(cursor, now)
            written += _write_heat(cursor, plan, now)
            _drop_work_tables(cursor)
    except Exception as error:
        KpiRun.objects.filter(pk=run.pk).update(error=repr(error)[:2000], finished_at=timezone.now())
        raise
    seconds = time.perf_counter() - clock
    KpiRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), rows_written=written, seconds=seconds)
    run.rows_written, run.seconds = written, seconds
    return Result(run, written, seconds)
