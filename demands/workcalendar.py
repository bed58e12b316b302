"""Loading a year's official work calendar (holidays and 调休 make-up working days) and what follows:
the year becomes confirmed, and the open demands whose deadlines were counted through it are
recomputed, each change recorded on the demand's timeline.

One service for the `calendar` import kind, `import_data calendar FILE` and the bulk editor page.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from . import calendar
from .choices import OPEN_STATUSES, SlaFlag
from .models import Demand, DemandEvent, WorkCalendarDay, WorkCalendarYear
from .sla import Sla
from .workflow import Action, EventKind


@dataclass(frozen=True)
class OfficialDay:
    date: datetime.date
    is_workday: bool  # False: 放假 (holiday); True: 调休上班 (make-up working day)
    name: str = ""


@dataclass
class Loaded:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    recomputed: int = 0


@transaction.atomic
def load_calendar_years(days: Iterable[OfficialDay], *, years: Iterable[int] = (), by=None) -> Loaded:
    """The official calendar of the years of `days` (and of `years`, which may have no listed
    day): the listed days replace that year's stored ones, days not listed follow the weekend rule
    (or the chinese_calendar package where it covers the year). The years become confirmed and the
    open demands' deadlines are recomputed."""
    days = list(days)
    years = sorted(set(years) | {d.date.year for d in days})
    result = Loaded()
    stored = {d.date: d for d in WorkCalendarDay.objects.filter(date__year__in=years)}
    listed = {d.date for d in days}
    for day in days:
        current = stored.get(day.date)
        if current is None:
            WorkCalendarDay.objects.create(date=day.date, is_workday=day.is_workday, note=day.name[:100])
            result.created += 1
        elif (current.is_workday, current.note) != (day.is_workday, day.name[:100]):
            current.is_workday, current.note = day.is_workday, day.name[:100]
            current.save(update_fields=["is_workday", "note"])
            result.updated += 1
        else:
            result.unchanged += 1
    gone = [pk for date, pk in ((d, s.pk) for d, s in stored.items()) if date not in listed]
    result.removed = WorkCalendarDay.objects.filter(pk__in=gone).delete()[0] if gone else 0
    for year in years:
        WorkCalendarYear.objects.update_or_create(year=year, defaults={"loaded_by": by})
    result.recomputed = recompute_open_deadlines(years)
    return result


def recompute_open_deadlines(years: Iterable[int], *, sla: Sla | None = None) -> int:
    """Open demands whose deadline lies in one of `years` or was counted on an unconfirmed
    calendar: deadlines recomputed with the calendar as it is now (from the receipt, or for the
    resolution of a reopened demand from its reopening), the mark cleared when the calendar is
    confirmed, and each change recorded on the demand's timeline. Returns how many changed."""
    from .services import _lock, now_s, record_event

    years = sorted(set(years))
    if not years:
        return 0
    sla = sla or Sla.load()
    in_years = Q()
    for year in years:
        start = datetime.datetime(year, 1, 1, tzinfo=calendar.TZ)
        end = datetime.datetime(year + 1, 1, 1, tzinfo=calendar.TZ)
        in_years |= Q(resolution_due_at__gte=start, resolution_due_at__lt=end)
        in_years |= Q(first_response_at__isnull=True, response_due_at__gte=start, response_due_at__lt=end)
    candidates = list(
        Demand.objects.filter(status__in=OPEN_STATUSES).filter(in_years | Q(deadline_unconfirmed=True)).values_list("pk", flat=True)
    )
    reopened = dict(
        DemandEvent.objects.filter(demand_id__in=candidates, action=Action.REOPEN)
        .values("demand_id").annotate(at=Max("at")).values_list("demand_id", "at")
    )
    changed = 0
    for pk in candidates:
        demand = _lock(Demand(pk=pk))
        if demand.status not in OPEN_STATUSES:
            continue
        resolution_from = reopened.get(pk) or demand.received_at
        response_due = sla.response_due(demand.category_id, demand.urgency, demand.received_at)
        resolution_due = sla.resolution_due(demand.category_id, demand.urgency, resolution_from)
        if pk in reopened:
            response_due = demand.response_due_at  # the response was counted once, from the receipt
        unconfirmed = sla.is_unconfirmed(demand.received_at, response_due, resolution_due)
        data = {}
        fields = ["deadline_unconfirmed", "updated_at"]
        if response_due != demand.response_due_at and demand.first_response_at is None:
            data["response_due_at"] = {"from": _iso(demand.response_due_at), "to": _iso(response_due)}
            demand.response_due_at, demand.response_flag = response_due, SlaFlag.NONE
            fields += ["response_due_at", "response_flag"]
        if resolution_due != demand.resolution_due_at:
            data["resolution_due_at"] = {"from": _iso(demand.resolution_due_at), "to": _iso(resolution_due)}
            demand.resolution_due_at, demand.resolution_flag = resolution_due, SlaFlag.NONE
            fields += ["resolution_due_at", "resolution_flag"]
        if not data and unconfirmed == demand.deadline_unconfirmed:
            continue
        demand.deadline_unconfirmed = unconfirmed
        demand.save(update_fields=fields)
        record_event(
            demand, EventKind.RECOMPUTED, actor_label="system", at=now_s(), from_status=demand.status,
            to_status=demand.status, data={"calendar_years": years, **data},
        )
        changed += 1
    return changed


def mark_unconfirmed_deadlines(today: datetime.date | None = None) -> int:
    """Open demands whose deadlines were written without the mark (imports, the demo data) and
    reach past the last confirmed year are marked; run by the SLA sweep. One UPDATE."""
    today = today or timezone.localdate()
    loaded = frozenset(WorkCalendarYear.objects.values_list("year", flat=True))
    first_unconfirmed = datetime.datetime(calendar.last_confirmed_year(today, loaded) + 1, 1, 1, tzinfo=calendar.TZ)
    beyond = Q(resolution_due_at__gte=first_unconfirmed) | Q(first_response_at__isnull=True, response_due_at__gte=first_unconfirmed)
    return Demand.objects.filter(beyond, status__in=OPEN_STATUSES, deadline_unconfirmed=False).update(deadline_unconfirmed=True)


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def calendar_status(today: datetime.date | None = None) -> dict:
    """For the admin's home page and the calendar pages: the years loaded, the last confirmed
    year, and whether next year must be loaded (from 1 October until it is)."""
    today = today or timezone.localdate()
    loaded = frozenset(WorkCalendarYear.objects.values_list("year", flat=True))
    next_year = today.year + 1
    return {
        "loaded_years": sorted(loaded),
        "last_confirmed_year": calendar.last_confirmed_year(today, loaded),
        "next_year": next_year,
        "next_year_missing": today.month >= 10 and not calendar.is_confirmed_year(next_year, loaded),
    }
