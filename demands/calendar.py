"""The work calendar and deadline arithmetic. Pure: no database, no clock.

A day is a working day when an administrator's override says so; otherwise when the official
Chinese calendar (the `chinese_calendar` package: 法定节假日 and 调休 make-up working days) says so;
for years that package does not cover yet, Monday to Friday.

Working hours are the two periods of WORK_PERIODS (Asia/Shanghai). Deadlines:

- `add_working_hours(start, n)`: the moment when n working hours have passed after `start`,
  counting only time inside the working periods of working days.
- `add_working_days(start, n)`: the close of business (the end of the last period) of the n-th
  working day after the day of `start` — the day of receipt itself does not count, whatever the
  hour (自受理之次日起计算).

Confirmed years: a year's calendar is confirmed when the package covers it or the portal has loaded
that year's official calendar (WorkCalendarYear). A deadline counted through a year that is not
confirmed rests on the weekend rule alone (元旦 would be a working day): `is_unconfirmed` says so,
and the demand carries the mark until the year is loaded.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")

# The one place where working hours are defined (local time).
WORK_PERIODS: tuple[tuple[datetime.time, datetime.time], ...] = (
    (datetime.time(8, 30), datetime.time(12, 0)),
    (datetime.time(13, 30), datetime.time(17, 30)),
)
HOURS_PER_DAY = sum(
    (datetime.datetime.combine(datetime.date.min, end) - datetime.datetime.combine(datetime.date.min, start)).seconds
    for start, end in WORK_PERIODS
) / 3600  # 7.5

# How far a search for the next working day may go before we decide the calendar is broken
# (an override table that declares years of holidays).
_MAX_DAYS = 3660

Overrides = Mapping[datetime.date, bool]


def _official_years() -> tuple[int, int]:
    constants = chinese_calendar.constants
    days = list(constants.holidays) + list(constants.workdays)
    return min(days).year, max(days).year


OFFICIAL_FIRST_YEAR, OFFICIAL_LAST_YEAR = _official_years()


@lru_cache(maxsize=8192)
def official_is_workday(day: datetime.date) -> bool:
    """The official calendar; Monday to Friday for years it does not cover."""
    if OFFICIAL_FIRST_YEAR <= day.year <= OFFICIAL_LAST_YEAR:
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # pragma: no cover - defensive, the range check covers it
            pass
    return day.weekday() < 5


def is_official_calendar_year(year: int) -> bool:
    return OFFICIAL_FIRST_YEAR <= year <= OFFICIAL_LAST_YEAR


def is_confirmed_year(year: int, loaded_years: frozenset[int] | set[int] = frozenset()) -> bool:
    """The package covers the year, or the portal has loaded its official calendar."""
    return is_official_calendar_year(year) or year in loaded_years


def is_unconfirmed(start: datetime.datetime, end: datetime.datetime, loaded_years: frozenset[int] | set[int] = frozenset()) -> bool:
    """Was a deadline from `start` to `end` counted through a year whose calendar is not confirmed?"""
    first, last = local(start).year, local(end).year
    return any(not is_confirmed_year(year, loaded_years) for year in range(first, last + 1))


def last_confirmed_year(today: datetime.date, loaded_years: frozenset[int] | set[int] = frozenset()) -> int:
    """The last year of the unbroken run of confirmed years starting with `today`'s year (the
    year before when even this one is not confirmed)."""
    year = today.year
    while is_confirmed_year(year, loaded_years):
        year += 1
    return year - 1


def is_workday(day: datetime.date, overrides: Overrides | None = None) -> bool:
    if overrides is not None and day in overrides:
        return overrides[day]
    return official_is_workday(day)


def next_workday(day: datetime.date, overrides: Overrides | None = None) -> datetime.date:
    """The first working day strictly after `day`."""
    for _ in range(_MAX_DAYS):
        day += datetime.timedelta(days=1)
        if is_workday(day, overrides):
            return day
    raise ValueError("no working day within ten years; check the calendar overrides")


def local(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        raise ValueError("deadline arithmetic needs a timezone-aware datetime")
    return moment.astimezone(TZ)


def _at(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, time, tzinfo=TZ)


def close_of_business(day: datetime.date) -> datetime.datetime:
    return _at(day, WORK_PERIODS[-1][1])


def add_working_hours(start: datetime.datetime, hours: float, overrides: Overrides | None = None) -> datetime.datetime:
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = datetime.timedelta(hours=hours)
    moment = local(start)
    if not remaining:
        return moment
    day = moment.date()
    for _ in range(_MAX_DAYS):
        if is_workday(day, overrides):
            for period_start, period_end in WORK_PERIODS:
                begin = max(moment, _at(day, period_start))
                end = _at(day, period_end)
                if begin >= end:
                    continue
                available = end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += datetime.timedelta(days=1)
        moment = _at(day, datetime.time(0))
    raise ValueError("no working time within ten years; check the calendar overrides")


def add_working_days(start: datetime.datetime, days: int, overrides: Overrides | None = None) -> datetime.datetime:
    if days < 1:
        raise ValueError("a deadline in working days needs at least one day")
    day = local(start).date()
    for _ in range(days):
        day = next_workday(day, overrides)
    return close_of_business(day)


def working_hours_between(start: datetime.datetime, end: datetime.datetime, overrides: Overrides | None = None) -> float:
    """Working hours from `start` to `end` (negative when `end` is earlier). For display only."""
    if end < start:
        return -working_hours_between(end, start, overrides)
    a, b = local(start), local(end)
    total = datetime.timedelta()
    day = a.date()
    while day <= b.date():
        if is_workday(day, overrides):
            for period_start, period_end in WORK_PERIODS:
                begin, finish = max(a, _at(day, period_start)), min(b, _at(day, period_end))
                if finish > begin:
                    total += finish - begin
        day += datetime.timedelta(days=1)
    return total.total_seconds() / 3600


class WorkingTimeIndex:
    """Deadline arithmetic for many moments at once (imports of a million demands): the working
    periods between two dates as POSIX seconds with cumulative working time, so that adding
    working hours is two binary searches. Gives the same results as add_working_hours; returns
    None outside the dates it was built for (the caller then uses add_working_hours)."""

    def __init__(self, first: datetime.date, last: datetime.date, overrides: Overrides | None = None):
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []  # working seconds before each period
        self.upto: list[float] = []  # working seconds up to the end of each period
        total = 0.0
        day = first
        while day <= last:
            if is_workday(day, overrides):
                for period_start, period_end in WORK_PERIODS:
                    start, end = _at(day, period_start).timestamp(), _at(day, period_end).timestamp()
                    self.starts.append(start)
                    self.ends.append(end)
                    self.before.append(total)
                    total += end - start
                    self.upto.append(total)
            day += datetime.timedelta(days=1)

    def add_working_hours(self, start: datetime.datetime, hours: float) -> datetime.datetime | None:
        from bisect import bisect_left, bisect_right

        if hours <= 0 or not self.starts:
            return None
        moment = start.timestamp()
        i = bisect_right(self.ends, moment)  # the first period that ends after `start`
        if i >= len(self.starts) or (i == 0 and moment < self.starts[0] - 86400):
            return None
        target = self.before[i] + max(0.0, moment - self.starts[i]) + hours * 3600
        j = bisect_left(self.upto, target)
        if j >= len(self.starts):
            return None
        return datetime.datetime.fromtimestamp(self.starts[j] + (target - self.before[j]), TZ)
