"""SLA rules on top of the pure work calendar: deadlines from the policy of a category × urgency,
the warning windows, and the colour of a demand.

- Response deadline: `response_hours` working hours after `received_at`.
- Resolution deadline: close of business of the `resolution_days`-th working day after the day of
  `received_at`.
- 即将到期 (yellow): an open deadline falls within the warning window (RESPONSE_WARNING_HOURS
  working hours for the response, RESOLUTION_WARNING_HOURS for the resolution).
- 已超期 (red): an open deadline has passed. The response deadline is open until the first
  response; the resolution deadline until the demand is resolved (or otherwise finished).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from . import calendar
from .choices import OPEN_STATUSES, Colour, Urgency

# Without any policy in the database (working hours, working days).
DEFAULT_POLICY: dict[str, tuple[int, int]] = {
    Urgency.URGENT: (4, 3),
    Urgency.NORMAL: (8, 10),
    Urgency.LOW: (16, 20),
}
RESPONSE_WARNING_HOURS = 2
RESOLUTION_WARNING_HOURS = calendar.HOURS_PER_DAY  # one working day

# The one declaration of a demand's deadlines, read by the Python forms here (colour, is_overdue)
# and the SQL forms in demands.selectors (overdue_q, due_soon_q) that the queues, the home tiles,
# the dashboard, the reports and the SLA sweep use: (kind, due field, the field whose value
# closes the deadline early or None). A deadline is open while the demand is open (OPEN_STATUSES)
# and its closing field is empty; it is overdue when an open deadline lies strictly before now.
DEADLINES = (("response", "response_due_at", "first_response_at"), ("resolution", "resolution_due_at", None))


@dataclass
class Sla:
    """Policies and calendar overrides loaded once (two queries) and reused for many demands."""

    policies: dict[tuple[int | None, str], tuple[int, int]] = field(default_factory=dict)
    overrides: dict[datetime.date, bool] = field(default_factory=dict)
    # Years whose official calendar the portal has loaded (beyond what chinese_calendar covers).
    loaded_years: frozenset[int] = frozenset()
    _day_cache: dict[tuple[datetime.date, int], datetime.datetime] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, *, policies: bool = True) -> Sla:
        """`policies=False` loads only the calendar's days (one query): enough for `thresholds`."""
        from .models import SlaPolicy, WorkCalendarDay, WorkCalendarYear

        loaded = {
            (category_id, urgency): (hours, days)
            for category_id, urgency, hours, days in SlaPolicy.objects.values_list(
                "category_id", "urgency", "response_hours", "resolution_days"
            )
        } if policies else {}
        overrides = dict(WorkCalendarDay.objects.values_list("date", "is_workday"))
        loaded_years = frozenset(WorkCalendarYear.objects.values_list("year", flat=True)) if policies else frozenset()
        return cls(policies=loaded, overrides=overrides, loaded_years=loaded_years)

    def policy(self, category_id: int | None, urgency: str) -> tuple[int, int]:
        return (
            self.policies.get((category_id, urgency))
            or self.policies.get((None, urgency))
            or DEFAULT_POLICY.get(urgency, DEFAULT_POLICY[Urgency.NORMAL])
        )

    def prepare(self, first: datetime.datetime, last: datetime.datetime) -> None:
        """Before computing many deadlines for receipts between `first` and `last`."""
        self._index = calendar.WorkingTimeIndex(
            calendar.local(first).date() - datetime.timedelta(days=1), calendar.local(last).date() + datetime.timedelta(days=400),
            self.overrides,
        )

    def response_due(self, category_id: int | None, urgency: str, received_at: datetime.datetime) -> datetime.datetime:
        hours, _days = self.policy(category_id, urgency)
        index = getattr(self, "_index", None)
        due = index.add_working_hours(received_at, hours) if index is not None else None
        return due or calendar.add_working_hours(received_at, hours, self.overrides)

    def resolution_due(self, category_id: int | None, urgency: str, received_at: datetime.datetime) -> datetime.datetime:
        _hours, days = self.policy(category_id, urgency)
        # Depends only on the local date of receipt: cached for big imports.
        key = (calendar.local(received_at).date(), days)
        if key not in self._day_cache:
            self._day_cache[key] = calendar.add_working_days(received_at, days, self.overrides)
        return self._day_cache[key]

    def due_dates(self, category_id, urgency, received_at) -> tuple[datetime.datetime, datetime.datetime]:
        return self.response_due(category_id, urgency, received_at), self.resolution_due(category_id, urgency, received_at)

    def is_unconfirmed(self, received_at: datetime.datetime, *dues: datetime.datetime | None) -> bool:
        """Was any of these deadlines counted through a year whose calendar is not confirmed?"""
        return any(due is not None and calendar.is_unconfirmed(received_at, due, self.loaded_years) for due in dues)

    def thresholds(self, now: datetime.datetime) -> Thresholds:
        return Thresholds(
            now=now,
            response=calendar.add_working_hours(now, RESPONSE_WARNING_HOURS, self.overrides),
            resolution=calendar.add_working_hours(now, RESOLUTION_WARNING_HOURS, self.overrides),
        )


@dataclass(frozen=True)
class Thresholds:
    """A deadline at or before `response`/`resolution` (and not yet passed) is due soon."""

    now: datetime.datetime
    response: datetime.datetime
    resolution: datetime.datetime


def current_thresholds(now: datetime.datetime | None = None) -> Thresholds:
    """The warning windows as of now (pages colouring deadlines): one query, the calendar."""
    from django.utils import timezone

    return Sla.load(policies=False).thresholds(now or timezone.now())


# The fields open_deadlines (and so is_overdue, colour and the deadline badge) reads: what a list
# loading only part of each demand (`.only()`) must load to show its deadlines.
DEADLINE_FIELDS = ("status", *(name for _kind, due, closed_by in DEADLINES for name in (due, closed_by) if name))


def open_deadlines(demand) -> list[tuple[str, datetime.datetime]]:
    if demand.status not in OPEN_STATUSES:
        return []
    return [(kind, getattr(demand, due)) for kind, due, closed_by in DEADLINES
            if getattr(demand, due) is not None and (closed_by is None or getattr(demand, closed_by) is None)]


def is_overdue(demand, now: datetime.datetime) -> bool:
    """Python form of demands.selectors.overdue_q."""
    return any(due < now for _kind, due in open_deadlines(demand))


def colour(demand, thresholds: Thresholds) -> str:
    deadlines = open_deadlines(demand)
    if not deadlines:
        return Colour.NONE
    if is_overdue(demand, thresholds.now):
        return Colour.RED
    limit = {"response": thresholds.response, "resolution": thresholds.resolution}
    if any(due <= limit[kind] for kind, due in deadlines):
        return Colour.YELLOW
    return Colour.BLUE
