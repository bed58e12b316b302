"""三会一课 meeting windows exactly as kpis.md ("Meeting windows") defines them: the one declaration
of the rule, in the forms its readers need. No database access here.

Per branch, `branch_committee` and `party_group` have one window per calendar month,
`general_assembly` and `party_lecture` one per calendar quarter. A window is met by a *counted*
meeting (held, of a 三会一课 type) of its type with `held_at` in [start, end) attached to the branch
or one of its descendants.

The rule "a meeting meets a window" exists here once, as `COUNTED` (which meetings) and
`WINDOW_TERMS` (type equal, start ≤ held_at < end), and is rendered

* in Python: `meets()`, and at month grain `window_met()` (windows are whole local months, so a
  meeting meets a window exactly when its local month is one of the window's months) — the
  maintained summary (activities.meeting_summary), the matrix, the home page and the reminders;
* in SQL: `counted_meetings()` (the ORM compiles `COUNTED`) and `meets_sql()` — the KPI engine
  and its drill-down.

tests/activities/test_compliance_rule.py proves the forms agree on the boundaries.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from .choices import MEETING_TYPES, MONTHLY_MEETING_TYPES, QUARTERLY_MEETING_TYPES, ActivityStatus, CellState

# --- The declaration ------------------------------------------------------------------------------
# Which activities count towards a window: held meetings of a 三会一课 type.
COUNTED = Q(status=ActivityStatus.HELD, type__in=MEETING_TYPES)
# (meeting column, comparison, window column): the window's type, start (inclusive), end (exclusive).
WINDOW_TERMS = (("type", "=", "type"), ("held_at", ">=", "start"), ("held_at", "<", "end"))
_PY_OPS = {"=": lambda a, b: a == b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b}


def is_counted(*, status: str, type: str) -> bool:
    """Python form of COUNTED."""
    return status == ActivityStatus.HELD and type in MEETING_TYPES


def meets(window: Window, *, status: str, type: str, held_at: datetime.datetime) -> bool:
    """Python form: does one meeting meet `window`?"""
    meeting = {"type": type, "held_at": held_at}
    bounds = {"type": window.type, "start": window.start, "end": window.end}
    return is_counted(status=status, type=type) and all(
        _PY_OPS[op](meeting[m], bounds[w]) for m, op, w in WINDOW_TERMS)


def counted_meetings(*, since: datetime.datetime, before: datetime.datetime, using=None):
    """SQL form of COUNTED: the counted meetings with held_at in [since, before)."""
    Activity = apps.get_model("activities", "Activity")
    manager = Activity.objects if using is None else Activity.objects.using(using)
    return manager.filter(COUNTED, held_at__gte=since, held_at__lt=before)


def meets_sql(meeting: str, window: str) -> str:
    """SQL form of WINDOW_TERMS: a condition between a row `meeting` (type, held_at) of
    `counted_meetings` and a row `window` with columns type, start, "end"."""
    return " AND ".join(f'{meeting}.{m} {op} {window}."{w}"' for m, op, w in WINDOW_TERMS)



def local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone())


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def month_start(year: int, month: int) -> datetime.datetime:
    return local_midnight(datetime.date(year, month, 1))


def month_end(year: int, month: int) -> datetime.datetime:
    return month_start(*_add_months(year, month, 1))


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


@dataclass(frozen=True)
class Window:
    type: str
    start: datetime.datetime  # inclusive, local midnight
    end: datetime.datetime  # exclusive

    @cached_property  # the matrix links every window of every branch: formatted once per window
    def dates(self) -> tuple[str, str]:
        """First and last day, as the activity list's filter takes them (YYYY-MM-DD, local; its
        held_to is inclusive, so the last day is the one before the exclusive end)."""
        last_day = timezone.localtime(self.end).date() - datetime.timedelta(days=1)
        return f"{timezone.localtime(self.start):%Y-%m-%d}", f"{last_day:%Y-%m-%d}"

    @cached_property  # a matrix asks every window of every branch: computed once per window
    def month_key(self) -> tuple[int, int]:
        """(year, month) of the window's first month (the quarter's first month for quarterly ones)."""
        local = timezone.localtime(self.start)
        return local.year, local.month

    @cached_property
    def months(self) -> list[tuple[int, int]]:
        year, month = self.month_key
        count = 3 if self.type in QUARTERLY_MEETING_TYPES else 1
        return [_add_months(year, month, i) for i in range(count)]


def windows_ending_in(start: datetime.datetime, end: datetime.datetime) -> list[Window]:
    """Every meeting window of one branch with start < window.end ≤ end (the windows that count for
    a period [start, end)). Periods are months, quarters or years starting at local midnight."""
    local_start = timezone.localtime(start)
    year, month = local_start.year, local_start.month
    windows: list[Window] = []
    # Walk the months whose end may lie in (start, end].
    while True:
        m_start, m_end = month_start(year, month), month_end(year, month)
        if m_end > end:
            break
        if m_end > start:
            for type_ in MONTHLY_MEETING_TYPES:
                windows.append(Window(type_, m_start, m_end))
            if month % 3 == 0:  # the month closes a quarter
                q_start = month_start(*_add_months(year, month, -2))
                for type_ in QUARTERLY_MEETING_TYPES:
                    windows.append(Window(type_, q_start, m_end))
        year, month = _add_months(year, month, 1)
    return windows


def counting_windows(start: datetime.datetime, end: datetime.datetime, as_of: datetime.datetime) -> list[Window]:
    """The windows that count for the KPI of period [start, end) computed at `as_of`:
    they end inside the period and have ended by as_of."""
    return [w for w in windows_ending_in(start, end) if w.end <= as_of]


def window_met(window: Window, held_months: Mapping[tuple[str, int, int], int]) -> bool:
    """Month-grain form of `meets`: `held_months` maps (type, year, month) → number of counted
    meetings (held_at's local month), as activities.meeting_summary keeps them."""
    return any(held_months.get((window.type, y, m), 0) for y, m in window.months)


def window_state(window: Window, held_months: Mapping[tuple[str, int, int], int], as_of: datetime.datetime) -> str:
    if window_met(window, held_months):
        return CellState.HELD
    return CellState.MISSING if window.end <= as_of else CellState.DUE


def cell_state(states: Iterable[str]) -> str:
    """A matrix cell summarises its windows: missing if any is missing, else due if any is due."""
    states = list(states)
    if CellState.MISSING in states:
        return CellState.MISSING
    if CellState.DUE in states:
        return CellState.DUE
    return CellState.HELD


def compliance_counts(windows: list[Window], held_months, as_of) -> tuple[int, int]:
    """(met, required) over the windows that have ended by as_of — the KPI's numerator/denominator."""
    ended = [w for w in windows if w.end <= as_of]
    return sum(1 for w in ended if window_met(w, held_months)), len(ended)
