"""The records behind a KPI figure: exactly the numerator and denominator sets of the snapshot,
built from the declarations in evaluation.kpis (the engine compiles the same `Q` objects), scoped
by portal.scope.visible and limited to the unit's subtree."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Sum
from django.utils import timezone

from activities import compliance
from members.models import OrgUnit
from portal import dbrouting
from portal.scope import subtree_q, visible

from . import kpis as registry
from .kpis import COUNT, MEAN, Bounds, EducationKpi, MeetingKpi, RecordKpi
from .models import KpiSnapshot
from .periods import Period

NUMERATOR, DENOMINATOR, REST = "numerator", "denominator", "rest"
PARTS = (NUMERATOR, DENOMINATOR, REST)
PERMISSION = "kpis.view"


@dataclass
class Figure:
    """The snapshot a drill-down explains, and the bounds it was computed with."""

    kpi: object
    unit: OrgUnit
    period: Period
    snapshot: KpiSnapshot | None
    bounds: Bounds

    @classmethod
    def load(cls, code: str, unit: OrgUnit, period: Period) -> Figure:
        kpi = registry.get(code)
        snapshot = KpiSnapshot.objects.filter(kpi_id=code, org_unit=unit, period=period.key).first()
        # The list uses the snapshot's own as_of, so its counts are the snapshot's.
        as_of = snapshot.as_of if snapshot else timezone.now()
        return cls(kpi, unit, period, snapshot, Bounds.of(period, as_of))


def record_queryset(figure: Figure, part: str, user, *, category: int | None = None):
    """Records of a RecordKpi / EducationKpi figure: the numerator set, the denominator set, or the
    rest (denominator minus numerator: the late, unsatisfied, missing ones)."""
    kpi = figure.kpi
    if not isinstance(kpi, (RecordKpi, EducationKpi)):
        raise TypeError(f"{kpi.code} is not a list of records")
    model = kpi.model_class
    base = visible(model.objects.all(), user, PERMISSION).filter(kpi.unit_q(figure.unit))
    denominator = base.filter(kpi.denominator_q(figure.bounds))
    if category is not None:
        denominator = denominator.filter(category_id=category)
    if part == DENOMINATOR or kpi.measure in (COUNT, MEAN):
        return denominator
    numerator = base.filter(kpi.numerator_q(figure.bounds))
    if category is not None:
        numerator = numerator.filter(category_id=category)
    if part == NUMERATOR:
        return numerator
    return denominator.exclude(pk__in=numerator.values("pk"))


# --- 三会一课 windows ------------------------------------------------------------------------------------
def branches(figure: Figure, user):
    return visible(OrgUnit.objects.filter(MeetingKpi.branches_q(figure.unit)), user, PERMISSION)


def meeting_windows(figure: Figure, user) -> tuple[list, dict[int, set[int]]]:
    """The counting windows of the period and, per branch in scope, the indexes of the windows met
    (one query: held meetings of the windows' range joined to their ancestor branches)."""
    windows = MeetingKpi.windows(figure.bounds)
    if not windows:
        return windows, {}
    since, until = min(w.start for w in windows), max(w.end for w in windows)
    held_sql, held_params = (
        compliance.counted_meetings(since=since, before=until)
        .filter(subtree_q(figure.unit, "org_unit"))
        .values("type", "held_at", path=F("org_unit__path")).order_by().query.sql_with_params()
    )
    branch_sql, branch_params = branches(figure, user).values("id").order_by().query.sql_with_params()
    values = ", ".join(["(%s, %s, %s::timestamptz, %s::timestamptz)"] * len(windows))
    window_params = [x for i, w in enumerate(windows) for x in (i, w.type, w.start, w.end)]
    sql = f"""
        WITH h AS ({held_sql}),
        w(idx, type, start, "end") AS (VALUES {values}),
        b AS ({branch_sql})
        SELECT DISTINCT b.id, w.idx
        FROM h
        JOIN w ON {compliance.meets_sql("h", "w")}
        CROSS JOIN LATERAL unnest(string_to_array(rtrim(h.path, '/'), '/')) AS s(seg)
        JOIN b ON b.id = s.seg::bigint
    """
    met: dict[int, set[int]] = {}
    with dbrouting.read_connection().cursor() as cursor:
        cursor.execute(sql, [*held_params, *window_params, *branch_params])
        for branch_id, index in cursor.fetchall():
            met.setdefault(branch_id, set()).add(index)
    return windows, met


def meeting_totals(figure: Figure, user) -> tuple[int, int]:
    """(met, required) windows over the branches in scope: the snapshot's numerator/denominator."""
    windows, met = meeting_windows(figure, user)
    branch_count = branches(figure, user).count()
    return sum(len(v) for v in met.values()), branch_count * len(windows)


def counts(figure: Figure, user) -> dict[str, int]:
    """Exact sizes of the lists behind a figure (what the drill-down page shows next to it)."""
    if isinstance(figure.kpi, MeetingKpi):
        met, required = meeting_totals(figure, user)
        return {NUMERATOR: met, DENOMINATOR: required, REST: required - met}
    denominator = record_queryset(figure, DENOMINATOR, user)
    result = {DENOMINATOR: denominator.count()}
    if figure.kpi.measure == COUNT:
        result[NUMERATOR] = result[DENOMINATOR]
        result[REST] = 0
    elif figure.kpi.measure == MEAN:
        result[NUMERATOR] = denominator.aggregate(total=Sum(figure.kpi.mean_of))["total"] or 0
        result[REST] = 0
    else:
        result[NUMERATOR] = record_queryset(figure, NUMERATOR, user).count()
        result[REST] = result[DENOMINATOR] - result[NUMERATOR]
    return result


def parts_of(kpi, counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """The sets of records a drill-down offers, with their labels and sizes: one set for a count
    or a mean; the denominator, the numerator and the others for a rate."""
    from django.utils.translation import gettext as _

    if isinstance(kpi, RecordKpi) and kpi.measure == COUNT:
        return [(DENOMINATOR, _("Records"), counts[DENOMINATOR])]
    if isinstance(kpi, RecordKpi) and kpi.measure == MEAN:
        return [(DENOMINATOR, kpi.denominator_label, counts[DENOMINATOR])]
    return [
        (DENOMINATOR, kpi.denominator_label, counts[DENOMINATOR]),
        (NUMERATOR, kpi.numerator_label, counts[NUMERATOR]),
        (REST, _("the others"), counts[REST]),
    ]
