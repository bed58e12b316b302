"""The KPI engine: computes the KPIs of evaluation.kpis for every org unit and the given periods by
SQL aggregation, and stores them as snapshots.

How the KPIs are computed (all units and all periods at once):

1. *Leaf aggregation.* A KPI's records (its window and conditions, compiled by the ORM from the
   same `Q` objects the drill-down lists use) are grouped per attached unit and per *atom*: the
   position of the timestamp among the sorted boundaries of all periods (every start(P) and
   as_of(P)), found with `width_bucket`. Timestamps that must be "before as_of" get an atom too.
   A date window groups by the date itself. KPIs with the same table and conditions share a scan.
2. *Periods.* A period is a range of atoms, so each leaf row is matched to the periods it belongs to
   (a month, its quarter, its year) by comparing small integers, on a table of ~10⁵ rows instead of
   the records themselves. Every KPI writes these leaf figures into its columns of one wide table.
3. *Roll-up.* The leaf figures of every KPI are added to every ancestor's at once, by joining a
   closure table built from the materialised paths (`members.OrgUnit.path`, split into ancestor ids).
4. Every unit × period gets a row of that grid; a KPI's value is null when its denominator is 0.

The snapshot rows of the grid are compared with the stored ones; the snapshot table is updated only
where a figure or as_of changed, and new rows are inserted in bulk. The whole computation runs in
one transaction under an advisory lock, so a dashboard never sees half a recompute and two
computations never interleave.
The command `compute_kpis` and the Celery tasks both call `compute()`.
"""
from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, F, Func, IntegerField, Q, Sum, Value
from django.db.models.functions import Cast
from django.utils import timezone

from activities import compliance
from members.choices import OrgKind
from members.models import OrgUnit

from . import kpis as registry
from .choices import KpiKind, RunTrigger
from .kpis import COUNT, MEAN, Bounds, EducationKpi, MeetingKpi, MomentWindow, RecordKpi
from .models import KpiDefinition, KpiRun
from .periods import LOCAL_TZ, Period

logger = logging.getLogger(__name__)

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
        # The heat map is kept per month: every month of the periods that has begun.
        self.months = sorted({m for p in periods for m in p.months() if m.start < moment})
        month_bounds = {m: Bounds.of(m, moment) for m in self.months}
        everything = list(bounds.values()) + list(month_bounds.values())
        self.boundaries = sorted({b.start for b in everything} | {b.as_of for b in everything})
        position = {moment: i + 1 for i, moment in enumerate(self.boundaries)}
        self.rows = [
            PeriodRow(i, p, bounds[p], position[bounds[p].start], position[bounds[p].as_of])
            for i, p in enumerate(periods)
        ]
        self.years = sorted({p.year for p in periods})
        self.month_rows = [(m.key, month_bounds[m].as_of, position[month_bounds[m].start],
                            position[month_bounds[m].as_of]) for m in self.months]

    @property
    def periods(self) -> list[Period]:
        return [row.period for row in self.rows]

    def year_rows(self, year: int) -> list[PeriodRow]:
        return [row for row in self.rows if row.period.year == year]


WORK_TABLES = ("kpi_periods", "kpi_atoms", "kpi_months", "kpi_anc", "kpi_per", "kpi_grid", "kpi_heat", "kpi_windows",
               "kpi_period_windows", "kpi_changed", "kpi_heat_changed", "kpi_s1_edu",
               *(f"kpi_s1_{i}_{j}" for i in range(8) for j in range(8)))


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
    cursor.execute(
        "CREATE TEMP TABLE kpi_months (key varchar(7) COLLATE \"C\", as_of timestamptz, i_start int, i_as_of int)"
        " ON COMMIT DROP"
    )
    if plan.month_rows:
        cursor.executemany("INSERT INTO kpi_months VALUES (%s, %s, %s, %s)", plan.month_rows)
    # Which periods each atom (a position among the boundaries) belongs to: a month's atoms are in
    # the month, its quarter and its year; equi-joined instead of comparing every row with every period.
    cursor.execute(
        """
        CREATE TEMP TABLE kpi_atoms ON COMMIT DROP AS
        SELECT a.atom, p.pidx FROM kpi_periods p
        CROSS JOIN LATERAL generate_series(p.i_start, p.i_as_of - 1) AS a(atom)
        """
    )
    cursor.execute("ANALYZE kpi_periods")
    cursor.execute("ANALYZE kpi_atoms")
    cursor.execute("ANALYZE kpi_months")
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
        "CREATE TEMP TABLE kpi_heat (period varchar(7) COLLATE \"C\", org_unit_id bigint, counts jsonb,"
        " as_of timestamptz) ON COMMIT DROP"
    )


# --- Statements ------------------------------------------------------------------------------------------
def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


class Columns:
    """The KPIs of one computation and their columns in `kpi_per` and `kpi_grid`: KPI i has d<i>
    (denominator, or the count) and n<i> (numerator). Every KPI writes its leaf figures (per period
    and attached unit) into that one wide table, so the roll-up to ancestors runs once for all of
    them. The columns are `int`: PostgreSQL sums int4 in int8, but int8 through numeric (3× slower
    here); a figure of one unit and period beyond 2³¹ would stop the computation with an error."""

    def __init__(self, kpis):
        self.kpis = list(kpis)

    def index(self, kpi) -> int:
        return self.kpis.index(kpi)

    def create_table(self) -> str:
        figures = ", ".join(f"d{i} int, n{i} int" for i in range(len(self.kpis)))
        return f"CREATE TEMP TABLE kpi_per (pidx int, unit bigint, {figures}) ON COMMIT DROP"

    def insert(self, kpis) -> str:
        return "INSERT INTO kpi_per (pidx, unit, " + ", ".join(
            f"d{self.index(k)}, n{self.index(k)}" for k in kpis) + ")"


def rollup_statement(columns: Columns) -> str:
    """`kpi_grid`: one row per unit × period with every KPI's figures. The leaf figures are summed
    per (period, unit), then added to every ancestor through the closure table; a unit without
    records gets zeros."""
    n = len(columns.kpis)
    leaf_sums = ", ".join(f"SUM(d{i})::int AS d{i}, SUM(n{i})::int AS n{i}" for i in range(n))
    up_sums = ", ".join(f"SUM(leaf.d{i}) AS d{i}, SUM(leaf.n{i}) AS n{i}" for i in range(n))
    figures = ", ".join(f"COALESCE(up.d{i}, 0) AS d{i}, COALESCE(up.n{i}, 0) AS n{i}" for i in range(n))
    return f"""
        CREATE TEMP TABLE kpi_grid ON COMMIT DROP AS
        WITH leaf AS (
            SELECT pidx, unit, {leaf_sums} FROM kpi_per GROUP BY pidx, unit
        ),
        up AS (
            SELECT leaf.pidx, a.anc_id AS unit, {up_sums}
            FROM leaf JOIN kpi_anc a ON a.unit_id = leaf.unit
            GROUP BY leaf.pidx, a.anc_id
        )
        SELECT p.key, p.as_of, u.id AS unit, {figures}
        FROM kpi_periods p
        CROSS JOIN {OrgUnit._meta.db_table} u
        LEFT JOIN up ON up.pidx = p.pidx AND up.unit = u.id
        ORDER BY p.key, u.id  -- see _write_snapshots
    """


def results_query(columns: Columns) -> str:
    """The snapshot rows of the grid, one per unit × period × KPI: (period, kpi_id, org_unit_id,
    value, numerator, denominator, as_of). The value is null when the denominator is 0; a count's
    value is its count. Read as a stream by the comparison with the stored snapshots (storing
    these rows first in a table of their own cost 0.8 s for a year)."""
    selects = []
    for i, kpi in enumerate(columns.kpis):
        if kpi.measure == COUNT:
            figures = f"d{i}::numeric, d{i}, NULL::int"
        else:
            figures = f"CASE WHEN d{i} > 0 THEN round(n{i}::numeric / d{i}, 6) END, n{i}, d{i}"
        selects.append(f"SELECT key, '{kpi.code}'::varchar, unit, {figures}, as_of FROM kpi_grid")
    return "\n        UNION ALL ".join(selects)


@dataclass
class Family:
    """Record KPIs over the same table, attachment and kind of window, read in one pass."""

    index: int
    kpis: list[RecordKpi]
    signatures: list[tuple]  # distinct (window, base, before) of the KPIs
    heat: bool  # also count demands received per category (the dashboard's heat map)

    @property
    def table(self) -> str:
        return f"kpi_s1_{self.index}"  # + "_<signature>"

    def signature(self, kpi: RecordKpi) -> int:
        return self.signatures.index((kpi.window, kpi.base, kpi.before))

    def members(self, signature: int) -> list[tuple[int, RecordKpi]]:
        """(position in the family, KPI) of the KPIs read by one signature's scan."""
        return [(q, k) for q, k in enumerate(self.kpis) if self.signature(k) == signature]


def families(kpis) -> list[Family]:
    groups: dict[tuple, list[RecordKpi]] = {}
    for kpi in kpis:
        groups.setdefault((kpi.model, kpi.org, type(kpi.window)), []).append(kpi)
    result = []
    for index, members in enumerate(groups.values()):
        signatures = []
        for kpi in members:
            if (kpi.window, kpi.base, kpi.before) not in signatures:
                signatures.append((kpi.window, kpi.base, kpi.before))
        heat = any(k.code == HEAT_SOURCE for k in members)
        result.append(Family(index, members, signatures, heat))
    return result


HEAT_SOURCE = "demand_intake"  # the heat map counts this KPI's records per category


def _window_range(window, plan: Plan) -> Q:
    """The records any period of the plan can count (a superset; the periods cut exactly later)."""
    if isinstance(window, MomentWindow):
        return Q(**{f"{window.field}__gte": plan.boundaries[0], f"{window.field}__lt": plan.boundaries[-1]})
    first = min(r.bounds.start_date for r in plan.rows)
    last = max(r.bounds.end_date for r in plan.rows)
    return Q(**{f"{window.field}__gte": first, f"{window.field}__lt": last})


def family_stage1(family: Family, plan: Plan) -> list[tuple[str, str, tuple]]:
    """One scan per distinct signature (window, base, before) of the family: the records grouped by
    unit, atom of the window, atoms of the "before as_of" stamps (and category for the heat map),
    with one numerator column per KPI of the signature. Written with CREATE TABLE AS, which
    PostgreSQL may run with parallel workers."""
    first = family.kpis[0]
    model = first.model_class
    statements = []
    for i, (window, base, before) in enumerate(family.signatures):
        members = family.members(i)
        dimensions = {"unit": F(first.org),
                      "w": (WidthBucket(F(window.field), plan.boundaries) if isinstance(window, MomentWindow)
                            else F(window.field))}
        for j, name in enumerate(before):
            dimensions[f"b{j}"] = WidthBucket(F(name), plan.boundaries)
        aggregates = {"den": Count("pk")}
        if family.heat and any(k.code == HEAT_SOURCE for _, k in members):
            # The heat map: the same records counted per category, pivoted into columns c<id>.
            for category in heat_categories(model):
                aggregates[f"c{category}"] = Count("pk", filter=Q(category_id=category))
        for q, kpi in members:
            if kpi.measure == MEAN:
                aggregates[f"n{q}"] = Sum(kpi.mean_of)
            elif kpi.measure == COUNT or kpi.numerator_condition is None:
                aggregates[f"n{q}"] = Count("pk")
            else:
                aggregates[f"n{q}"] = Count("pk", filter=kpi.numerator_condition)
        # int, not bigint: the sums of the next statements then add in int8 instead of numeric.
        aggregates = {name: Cast(aggregate, IntegerField()) for name, aggregate in aggregates.items()}
        queryset = (model._base_manager.filter(_window_range(window, plan) & base)
                    .values(**dimensions).annotate(**aggregates).order_by())
        source, params = _sql(queryset)
        label = f"scan {model._meta.label} for {'+'.join(k.code for _, k in members)}"
        statements.append((label, f"CREATE TEMP TABLE {family.table}_{i} ON COMMIT DROP AS {source}", params))
        # Temporary tables are never analysed automatically; the next statements need their sizes.
        statements.append((label, f"ANALYZE {family.table}_{i}", ()))
    return statements


def _period_join(window, alias: str = "s1") -> str:
    """FROM-clause joins that pair each stage-1 row with the periods it counts in (as `p`)."""
    if isinstance(window, MomentWindow):
        return f"JOIN kpi_atoms ap ON ap.atom = {alias}.w JOIN kpi_periods p ON p.pidx = ap.pidx"
    return (f"JOIN kpi_periods p ON {alias}.w >= p.start_date AND {alias}.w < p.end_date "
            f"AND {alias}.w <= p.as_of_date - {int(window.due_offset)}")


def family_period_statement(family: Family, signature: int, columns: Columns) -> tuple[str, tuple]:
    """The leaf figures of the KPIs of one signature per period (into kpi_per), from its stage-1 table."""
    window, _, before = family.signatures[signature]
    counted = " AND ".join(f"s1.b{j} < p.i_as_of" for j in range(len(before))) or "TRUE"
    members = family.members(signature)
    figures = ", ".join(f"SUM(s1.den), SUM(s1.n{q}) FILTER (WHERE {counted})" for q, _ in members)
    sql = f"""
        {columns.insert([k for _, k in members])}
        SELECT p.pidx, s1.unit, {figures}
        FROM {family.table}_{signature} s1 {_period_join(window)}
        GROUP BY p.pidx, s1.unit
    """
    return sql, ()


def heat_categories(model) -> list[int]:
    """Ids of the demand categories (admin-editable: read at every computation)."""
    return list(model._meta.get_field("category").related_model._base_manager.order_by("pk")
                .values_list("pk", flat=True))


def heat_statements(family: Family) -> list[tuple[str, tuple]]:
    """Demands received per category, per month of the plan and unit with its descendants: the heat
    map. Quarters and years are the sums of their months (the intake window composes). The counts
    come pivoted from the intake scan (one column per category), so the roll-up moves one row per
    unit and month."""
    intake = next(k for k in family.kpis if k.code == HEAT_SOURCE)
    categories = heat_categories(intake.model_class)
    if not categories:
        return []
    sums = ", ".join(f"SUM(s1.c{c})::int AS c{c}" for c in categories)  # int: see Columns
    up_sums = ", ".join(f"SUM(per.c{c}) AS c{c}" for c in categories)
    pairs = ", ".join(f"'{c}', NULLIF(up.c{c}, 0)" for c in categories)
    return [(f"""
        INSERT INTO kpi_heat (period, org_unit_id, counts, as_of)
        WITH per AS (
            SELECT m.key, m.as_of, s1.unit, {sums}
            FROM {family.table}_{family.signature(intake)} s1
            JOIN kpi_months m ON s1.w >= m.i_start AND s1.w < m.i_as_of
            GROUP BY m.key, m.as_of, s1.unit
        ),
        up AS (
            SELECT per.key, per.as_of, a.anc_id AS unit, {up_sums}
            FROM per JOIN kpi_anc a ON a.unit_id = per.unit
            GROUP BY per.key, per.as_of, a.anc_id
        )
        SELECT up.key, up.unit, jsonb_strip_nulls(jsonb_build_object({pairs})), up.as_of FROM up
    """, ())]


def education_statements(kpi: EducationKpi, plan: Plan, columns: Columns) -> list[tuple[str, tuple]]:
    """Stage 1 (CREATE TABLE AS, parallel): per year of the plan, the party members per unit and
    atom of their first counting attendance that year (none: NULL). Then their leaf figures per
    period: all of them in the denominator, those whose first attendance is before as_of counted."""
    from members.models import Person

    members_sql, members_params = _sql(
        Person._base_manager.filter(kpi.denominator_q(None)).values("id", "org_unit_id").order_by()
    )
    parts, params = [], []
    for year in plan.years:
        rows = plan.year_rows(year)
        since = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
        before = max(r.bounds.as_of for r in rows)
        if before <= since:
            before = since  # every period of the year lies in the future: nothing attended yet
        first_sql, first_params = _sql(kpi.first_attendance(since=since, before=before))
        parts.append(f"""
            SELECT {int(year)} AS year, m.org_unit_id AS unit,
                   width_bucket(f."first", %s::timestamptz[]) AS b, count(*)::int AS n
            FROM ({members_sql}) m LEFT JOIN ({first_sql}) f ON f.person_id = m.id
            GROUP BY 2, 3
        """)
        params += [list(plan.boundaries), *members_params, *first_params]
    stage1 = "CREATE TEMP TABLE kpi_s1_edu ON COMMIT DROP AS " + " UNION ALL ".join(parts)
    per = f"""
        {columns.insert([kpi])}
        SELECT p.pidx, e.unit, SUM(e.n), SUM(e.n) FILTER (WHERE e.b < p.i_as_of)
        FROM kpi_s1_edu e JOIN kpi_periods p ON p.year = e.year
        GROUP BY p.pidx, e.unit
    """
    return [(stage1, tuple(params)), ("ANALYZE kpi_s1_edu", ()), (per, ())]


def meeting_statement(kpi: MeetingKpi, plan: Plan, cursor, columns: Columns) -> tuple[str, tuple]:
    """Leaf figures per branch and period: the windows that count (denominator) and those met by a
    counted meeting at the branch or below it (numerator) — activities.compliance's rule in its SQL
    form."""
    windows: dict[tuple, int] = {}
    period_windows = []
    for row in plan.rows:
        for window in kpi.windows(row.bounds):
            wid = windows.setdefault((window.type, window.start, window.end), len(windows))
            period_windows.append((row.pidx, wid))
    cursor.execute(
        "CREATE TEMP TABLE kpi_windows (wid int PRIMARY KEY, type varchar(30), start timestamptz, \"end\" timestamptz)"
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
        {columns.insert([kpi])}
        WITH h AS ({held_sql}),
        met AS (
            SELECT DISTINCT a.anc_id AS branch, w.wid
            FROM h
            JOIN kpi_windows w ON {compliance.meets_sql("h", "w")}
            JOIN kpi_anc a ON a.unit_id = h.org_unit_id
            JOIN {units} b ON b.id = a.anc_id AND b.kind = '{OrgKind.BRANCH}'
        ),
        met_per AS (
            SELECT pw.pidx, met.branch, count(*) AS n
            FROM met JOIN kpi_period_windows pw ON pw.wid = met.wid
            GROUP BY pw.pidx, met.branch
        ),
        required AS (
            SELECT p.pidx, count(pw.wid) AS n
            FROM kpi_periods p LEFT JOIN kpi_period_windows pw ON pw.pidx = p.pidx
            GROUP BY p.pidx
        )
        SELECT r.pidx, b.id, r.n, COALESCE(m.n, 0)
        FROM {units} b CROSS JOIN required r
        LEFT JOIN met_per m ON m.pidx = r.pidx AND m.branch = b.id
        WHERE b.kind = '{OrgKind.BRANCH}'
    """
    return sql, held_params


def held_meetings_values(since, until):
    return compliance.counted_meetings(since=since, before=until).values("org_unit_id", "type", "held_at").order_by()


def aggregate_statements(plan: Plan, cursor, columns: Columns) -> list[tuple[str, str, tuple]]:
    """(label, sql, params) of every aggregate the engine runs for `plan` (the benchmark runs them
    directly too), ending with the roll-up into kpi_grid. Needs the work tables of
    `_create_work_tables`."""
    selected = columns.kpis
    statements = [("setup", columns.create_table(), ())]
    for family in families([k for k in selected if isinstance(k, RecordKpi)]):
        statements += family_stage1(family, plan)
        for signature in range(len(family.signatures)):
            label = "per period: " + "+".join(k.code for _, k in family.members(signature))
            statements.append((label, *family_period_statement(family, signature, columns)))
        if family.heat:
            statements += [("demand heat map", sql, params) for sql, params in heat_statements(family)]
    for kpi in selected:
        if isinstance(kpi, EducationKpi):
            statements += [(kpi.code, sql, params) for sql, params in education_statements(kpi, plan, columns)]
        elif isinstance(kpi, MeetingKpi):
            statements.append((kpi.code, *meeting_statement(kpi, plan, cursor, columns)))
    statements.append(("roll-up of every KPI", rollup_statement(columns), ()))
    return statements


# --- Writing the snapshots --------------------------------------------------------------------------
def _write_snapshots(cursor, plan: Plan, columns: Columns, now, steps=None) -> int:
    """Update the snapshots whose figures or as_of changed, insert the new ones; return the count."""
    keys = [p.key for p in plan.periods]
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {SNAPSHOT_TABLE} WHERE period = ANY(%s))", [keys])
    if not cursor.fetchone()[0]:
        # The first computation of these periods: every row is new, nothing to compare with. The
        # rows come KPI by KPI from the grid ordered by (period, unit): runs of 5,000 consecutive
        # primary keys (period, kpi, unit), nearly as compact for the index as a sort of all of
        # them, which cost more than it saved (insert of a year's 935,000 rows: 5.6 s sorted, 3.3 s).
        cursor.execute(
            f"""
            INSERT INTO {SNAPSHOT_TABLE} (period, kpi_id, org_unit_id, value, numerator, denominator, as_of, computed_at)
            SELECT r.*, %s
            FROM ({results_query(columns)}) r (period, kpi_id, org_unit_id, value, numerator, denominator, as_of)
            """,
            [now],
        )
        if steps:
            steps.tick("insert new snapshots")
        return cursor.rowcount
    cursor.execute(
        f"""
        CREATE TEMP TABLE kpi_changed ON COMMIT DROP AS
        SELECT r.*, s.period IS NULL AS is_new
        FROM ({results_query(columns)}) r (period, kpi_id, org_unit_id, value, numerator, denominator, as_of)
        LEFT JOIN (SELECT * FROM {SNAPSHOT_TABLE} WHERE period = ANY(%s)) s
          ON s.period = r.period AND s.kpi_id = r.kpi_id AND s.org_unit_id = r.org_unit_id
        WHERE s.period IS NULL
           OR (s.value, s.numerator, s.denominator, s.as_of)
              IS DISTINCT FROM (r.value, r.numerator, r.denominator, r.as_of)
        """,
        [keys],  # only the stored snapshots of these periods are hashed, however many years are kept
    )
    written = cursor.rowcount
    if steps:
        steps.tick("compare with stored snapshots")
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
    if steps:
        steps.tick("update changed snapshots")
    cursor.execute(
        f"""
        INSERT INTO {SNAPSHOT_TABLE} (period, kpi_id, org_unit_id, value, numerator, denominator, as_of, computed_at)
        SELECT period, kpi_id, org_unit_id, value, numerator, denominator, as_of, %s
        FROM kpi_changed WHERE is_new
        ORDER BY period, kpi_id, org_unit_id  -- in key order: the primary key index grows compactly
        """,
        [now],
    )
    if steps:
        steps.tick("insert new snapshots")
    return written


def _write_heat(cursor, plan: Plan, now) -> int:
    """The same for the heat map's month rows; rows of units without demands any more go."""
    keys = [m.key for m in plan.months]
    cursor.execute(
        f"""
        CREATE TEMP TABLE kpi_heat_changed ON COMMIT DROP AS
        SELECT COALESCE(h.period, s.period) AS period, COALESCE(h.org_unit_id, s.org_unit_id) AS org_unit_id,
               h.counts, h.as_of, s.period IS NULL AS is_new, h.period IS NULL AS is_gone
        FROM kpi_heat h
        FULL JOIN (SELECT * FROM {HEAT_TABLE} WHERE period = ANY(%s)) s
          ON s.period = h.period AND s.org_unit_id = h.org_unit_id
        WHERE h.period IS NULL OR s.period IS NULL OR (s.counts, s.as_of) IS DISTINCT FROM (h.counts, h.as_of)
        """,
        [keys],
    )
    changed = cursor.rowcount
    cursor.execute(
        f"""
        DELETE FROM {HEAT_TABLE} s USING kpi_heat_changed c
        WHERE c.is_gone AND s.period = c.period AND s.org_unit_id = c.org_unit_id
        """
    )
    cursor.execute(
        f"""
        UPDATE {HEAT_TABLE} s SET counts = c.counts, as_of = c.as_of, computed_at = %s
        FROM kpi_heat_changed c
        WHERE NOT c.is_new AND NOT c.is_gone AND s.period = c.period AND s.org_unit_id = c.org_unit_id
        """,
        [now],
    )
    cursor.execute(
        f"""
        INSERT INTO {HEAT_TABLE} (period, org_unit_id, counts, as_of, computed_at)
        SELECT period, org_unit_id, counts, as_of, %s FROM kpi_heat_changed WHERE is_new
        """,
        [now],
    )
    return changed


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
    # Local to the transaction: enough memory for the hash aggregates, no JIT compile time, and
    # parallel workers for the scans (the planner cannot estimate how few groups the width_bucket
    # atoms make, so by default it never splits the aggregation).
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL parallel_setup_cost = 0")
    cursor.execute("SET LOCAL parallel_tuple_cost = 0")
    # The work tables are ANALYZEd for their sizes and rough distributions only: a sample of 3,000
    # rows instead of 30,000 (the ANALYZEs of a year's computation: 0.22–0.25 s → 0.04 s).
    cursor.execute("SET LOCAL default_statistics_target = 10")


@dataclass
class Result:
    run: KpiRun
    rows_written: int
    seconds: float
    steps: dict


class _Clock:
    """Seconds per step of a computation (logged at debug level, printed by bench_kpis)."""

    def __init__(self):
        self.steps: dict[str, float] = {}
        self.last = time.perf_counter()

    def tick(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = self.steps.get(name, 0.0) + now - self.last
        self.last = now


STALE_RUN_ERROR = "The computation did not finish: its worker was lost (closed as failed)."


def close_stale_runs(now: datetime.datetime | None = None) -> int:
    """Close as failed the runs still "running" after KPI_RUN_STALE_SECONDS. A worker killed
    mid-computation never finishes its run (the broker redelivers the task, which starts a new
    one); no computation legitimately runs that long (the setting follows the broker's visibility
    timeout, which is sized to the longest task). Called when a computation starts."""
    from django.conf import settings

    now = now or timezone.now()
    limit = now - datetime.timedelta(seconds=settings.KPI_RUN_STALE_SECONDS)
    return KpiRun.objects.filter(finished_at__isnull=True, started_at__lt=limit).update(
        finished_at=now, error=STALE_RUN_ERROR)


def compute(periods, *, as_of: datetime.datetime | None = None, trigger: str = RunTrigger.COMMAND) -> Result:
    """Compute and store the snapshots of every org unit for `periods` (Period objects or keys) at
    `as_of` (default: now). Idempotent: the same data gives the same figures."""
    periods = [p if isinstance(p, Period) else Period.parse(p) for p in periods]
    started = timezone.now()
    moment = as_of or started
    plan = Plan(periods, moment)
    ensure_catalogue()
    close_stale_runs(started)
    clock = time.perf_counter()
    run = KpiRun.objects.create(trigger=trigger, periods=[p.key for p in plan.periods], as_of=moment,
                                explicit_as_of=as_of is not None, started_at=started)
    try:
        steps = _Clock()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
            steps.tick("lock")
            _session_settings(cursor)
            _create_work_tables(cursor, plan)
            steps.tick("setup")
            columns = Columns(registry.all_kpis())
            for code, sql, params in aggregate_statements(plan, cursor, columns):
                cursor.execute(sql, params)
                steps.tick(code)
            now = timezone.now()
            written = _write_snapshots(cursor, plan, columns, now, steps)
            written += _write_heat(cursor, plan, now)
            steps.tick("write heat map")
            _drop_work_tables(cursor)
    except Exception as error:
        KpiRun.objects.filter(pk=run.pk).update(error=repr(error)[:2000], finished_at=timezone.now())
        raise
    steps.tick("commit")
    seconds = time.perf_counter() - clock
    KpiRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), rows_written=written, seconds=seconds)
    run.rows_written, run.seconds = written, seconds
    logger.debug("KPI computation %s: %s", run.pk, steps.steps)
    return Result(run, written, seconds, steps.steps)
