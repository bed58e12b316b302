"""The maintained 三会一课 summary (MeetingMonth): counted meetings per branch, local month and type.

Written only here: `activity_changed` after a meeting is recorded, edited, marked held or cancelled
(services.activity_saved; the API's delete), `refresh_moments` after an import, `refresh` with no
arguments by the `rebuild_meeting_summary` command. A refresh recomputes the rows of the given
branches and months from the activities (compliance.counted_meetings), so it is idempotent and a
re-run is harmless. Readers get `held_months`, the shape compliance.window_met takes.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from members.choices import OrgKind
from members.models import OrgUnit
from portal.recipients import ancestor_ids

from . import compliance
from .models import MeetingMonth

TABLE = MeetingMonth._meta.db_table


def _month_of(moment: datetime.datetime) -> tuple[int, int]:
    local = timezone.localtime(moment)
    return local.year, local.month


@transaction.atomic
def refresh(*, branch_ids: Iterable[int] | None = None, since: datetime.datetime | None = None,
            before: datetime.datetime | None = None) -> int:
    """Recompute the rows of `branch_ids` (None: every branch) for the local months in
    [since, before) (month starts; None: all time). Returns the number of rows written."""
    ids = None if branch_ids is None else sorted(set(branch_ids))
    if ids == []:
        return 0
    lowest = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
    highest = datetime.datetime(9000, 1, 1, tzinfo=datetime.UTC)
    since, before = since or lowest, before or highest
    rows = MeetingMonth.objects.filter(month__gte=timezone.localtime(since).date(), month__lt=timezone.localtime(before).date())
    if ids is not None:
        rows = rows.filter(branch_id__in=ids)
    rows.delete()
    meetings_sql, meetings_params = (
        compliance.counted_meetings(since=since, before=before).values("org_unit_id", "type", "held_at")
        .order_by().query.sql_with_params()
    )
    # A unit's materialised path lists its ancestors' ids and its own: each meeting is credited to
    # the branches among them (an equi-join, not a prefix match of every unit with every branch).
    sql = f"""
        INSERT INTO {TABLE} (branch_id, month, type, held)
        SELECT b.id, date_trunc('month', h.held_at AT TIME ZONE %s)::date, h.type, COUNT(*)
        FROM ({meetings_sql}) h
        JOIN {OrgUnit._meta.db_table} u ON u.id = h.org_unit_id
        CROSS JOIN LATERAL unnest(string_to_array(rtrim(u.path, '/'), '/')) AS s(seg)
        JOIN {OrgUnit._meta.db_table} b ON b.id = s.seg::bigint AND b.kind = %s
        {"WHERE b.id = ANY(%s)" if ids is not None else ""}
        GROUP BY 1, 2, 3
    """
    params = [settings.TIME_ZONE, *meetings_params, OrgKind.BRANCH]
    if ids is not None:
        params.append(ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def refresh_placings(placings: Iterable[tuple[int, datetime.datetime]]) -> None:
    """Refresh the branches above the units and the months of the given (unit id, moment) pairs."""
    placings = [(unit_id, moment) for unit_id, moment in placings if unit_id and moment]
    if not placings:
        return
    paths = dict(OrgUnit.objects.filter(pk__in={u for u, _m in placings}).values_list("pk", "path"))
    by_month: dict[tuple[int, int], set[int]] = defaultdict(set)
    for unit_id, moment in placings:
        by_month[_month_of(moment)] |= set(ancestor_ids(OrgUnit(path=paths.get(unit_id, ""))))
    branches = set(OrgUnit.objects.filter(pk__in=set().union(*by_month.values()), kind=OrgKind.BRANCH)
                   .values_list("pk", flat=True))
    for (year, month), ancestors in by_month.items():
        refresh(branch_ids=ancestors & branches, since=compliance.month_start(year, month),
                before=compliance.month_end(year, month))


def activity_changed(activity) -> None:
    """After an activity was created, edited, marked held, cancelled or deleted: the months and
    branches it left and those it entered."""
    refresh_placings(activity.placings)
    activity.remember_placing()


def refresh_moments(moments: Iterable[datetime.datetime]) -> None:
    """After a bulk write (an import): every branch, for the months from the earliest moment to
    the latest."""
    moments = [m for m in moments if m is not None]
    if not moments:
        return
    first, last = _month_of(min(moments)), _month_of(max(moments))
    refresh(since=compliance.month_start(*first), before=compliance.month_end(*last))


def held_months(branch_ids: Iterable[int], since: datetime.datetime, before: datetime.datetime) -> dict[int, dict]:
    """{branch id: {(type, year, month): counted meetings}} for the months in [since, before). One query."""
    result: dict[int, dict] = defaultdict(dict)
    with connection.cursor() as cursor:
        # Year and month as integers from the database: tens of thousands of rows for a year's matrix.
        cursor.execute(
            f"SELECT branch_id, type, EXTRACT(YEAR FROM month)::int, EXTRACT(MONTH FROM month)::int, held FROM {TABLE}"
            " WHERE branch_id = ANY(%s) AND month >= %s AND month < %s",
            [list(branch_ids), timezone.localtime(since).date(), timezone.localtime(before).date()],
        )
        for branch_id, type_, year, month, held in cursor.fetchall():
            result[branch_id][(type_, year, month)] = held
    return result
