"""Periods of kpis.md: a month `YYYY-MM`, a quarter `YYYY-Qn` or a year `YYYY`.

`start` is 00:00 Asia/Shanghai on the first day (inclusive), `end` 00:00 on the first day after it
(exclusive); `as_of(P) = min(end(P), moment)`. Pure functions, no database.
"""
from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = (MONTH, QUARTER, YEAR)
_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")


def local_midnight(day: datetime.date) -> datetime.datetime:
    """00:00 local time (Asia/Shanghai) on `day`, as an aware datetime."""
    return datetime.datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)


def local_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(LOCAL_TZ).date()


def date_due_at(day: datetime.date) -> datetime.datetime:
    """A date-only deadline `day` falls due at 00:00 local on the day after (kpis.md)."""
    return local_midnight(day + datetime.timedelta(days=1))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind_order: int  # months sort before quarters before years of the same start
    number: int  # month 1–12, quarter 1–4, 1 for a year

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, 0, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls(year, 1, quarter)

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(year, 2, 1)

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2026-03`, `2026-Q1` or `2026`; raises ValueError with a readable message."""
        match = _PATTERN.match((text or "").strip())
        if not match:
            raise ValueError(_("“%(text)s” is not a period: use YYYY-MM, YYYY-Qn or YYYY.") % {"text": text})
        year = int(match["year"])
        if not 1900 <= year <= 2999:
            raise ValueError(_("The year %(year)s is out of range.") % {"year": year})
        if match["month"]:
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise ValueError(_("“%(text)s” is not a period: the month must be 01–12.") % {"text": text})
            return cls.month(year, month)
        if match["quarter"]:
            return cls.quarter(year, int(match["quarter"]))
        return cls.of_year(year)

    @classmethod
    def containing(cls, moment: datetime.datetime | datetime.date, kind: str) -> Period:
        day = local_date(moment) if isinstance(moment, datetime.datetime) else moment
        if kind == MONTH:
            return cls.month(day.year, day.month)
        if kind == QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        return cls.of_year(day.year)

    # --- properties -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return KINDS[self.kind_order]

    @functools.cached_property  # asked for ~1,000 times per dashboard; a Period never changes
    def key(self) -> str:
        if self.kind == MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}"

    def __str__(self) -> str:
        return self.key

    @property
    def first_month(self) -> int:
        return {MONTH: self.number, QUARTER: 3 * self.number - 2, YEAR: 1}[self.kind]

    @property
    def month_count(self) -> int:
        return {MONTH: 1, QUARTER: 3, YEAR: 12}[self.kind]

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.first_month, 1)

    @property
    def end_day(self) -> datetime.date:
        """The first day after the period (exclusive)."""
        year, month = _add_months(self.year, self.first_month, self.month_count)
        return datetime.date(year, month, 1)

    @property
    def last_day(self) -> datetime.date:
        return self.end_day - datetime.timedelta(days=1)

    @property
    def start(self) -> datetime.datetime:
        return local_midnight(self.first_day)

    @property
    def end(self) -> datetime.datetime:
        return local_midnight(self.end_day)

    @property
    def year_start(self) -> datetime.datetime:
        return local_midnight(datetime.date(self.year, 1, 1))

    def as_of(self, moment: datetime.datetime) -> datetime.datetime:
        """min(end(P), moment): anything stamped at or after it has not happened yet."""
        return min(self.end, moment)

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.number}
        if self.kind == QUARTER:
            return _("Q%(quarter)d %(year)d") % {"year": self.year, "quarter": self.number}
        return _("Year %(year)d") % {"year": self.year}

    # --- navigation -------------------------------------------------------------------------
    def shifted(self, steps: int) -> Period:
        if self.kind == MONTH:
            return Period.month(*_add_months(self.year, self.number, steps))
        if self.kind == QUARTER:
            index = self.year * 4 + self.number - 1 + steps
            return Period.quarter(index // 4, index % 4 + 1)
        return Period.of_year(self.year + steps)

    def previous(self) -> Period:
        return self.shifted(-1)

    def same_period_last_year(self) -> Period:
        return Period(self.year - 1, self.kind_order, self.number)

    def months(self) -> list[Period]:
        return [Period.month(*_add_months(self.year, self.first_month, i)) for i in range(self.month_count)]

    def containing_periods(self) -> list[Period]:
        """This period and the longer ones that contain it (month → quarter → year)."""
        periods = [self]
        if self.kind == MONTH:
            periods.append(Period.quarter(self.year, (self.number - 1) // 3 + 1))
        if self.kind != YEAR:
            periods.append(Period.of_year(self.year))
        return periods

    def contains(self, moment: datetime.datetime) -> bool:
        return self.start <= moment < self.end


def parse_periods(texts) -> list[Period]:
    periods = sorted({Period.parse(t) for t in texts})
    return periods


def year_periods(year: int) -> list[Period]:
    """12 months, 4 quarters and the year: the 17 periods of a full recompute of one year."""
    return (
        [Period.month(year, m) for m in range(1, 13)]
        + [Period.quarter(year, q) for q in range(1, 5)]
        + [Period.of_year(year)]
    )


def maintained_periods(now: datetime.datetime) -> list[Period]:
    """What the beat schedule keeps fresh: the current and previous month, quarter and year."""
    periods = []
    for kind in KINDS:
        current = Period.containing(now, kind)
        periods += [current, current.previous()]
    return sorted(periods)


def touched_periods(moment: datetime.datetime | datetime.date, *, through_year_end: bool = False) -> set[Period]:
    """The periods whose figures a record stamped at `moment` can change: its month, quarter and
    year, plus the month that closes its quarter (meeting windows end there). With
    `through_year_end`, also every later month and quarter of the year (cumulative KPIs such as
    education coverage count from 1 January to as_of)."""
    month = Period.containing(moment, MONTH)
    quarter = Period.containing(moment, QUARTER)
    periods = {month, quarter, Period.of_year(month.year), quarter.months()[-1]}
    if through_year_end:
        periods |= {Period.month(month.year, m) for m in range(month.number, 13)}
        periods |= {Period.quarter(month.year, q) for q in range(quarter.number, 5)}
    return periods


def parse_moment(text: str) -> datetime.datetime:
    """ISO 8601 date or datetime; without an offset it is Asia/Shanghai local time."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            return local_midnight(datetime.date.fromisoformat(text))
        moment = datetime.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(_("“%(text)s” is not a date and time (e.g. 2026-03-31 23:30).") % {"text": text}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment
