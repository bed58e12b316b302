"""The work calendar and deadline arithmetic (pure, no database)."""
import datetime

import pytest

from demands import calendar
from demands.calendar import TZ, add_working_days, add_working_hours, is_workday, working_hours_between


def at(y, m, d, h=0, minute=0):
    return datetime.datetime(y, m, d, h, minute, tzinfo=TZ)


def test_official_holidays_and_make_up_days_2026():
    assert not is_workday(datetime.date(2026, 10, 1))  # National Day
    assert not is_workday(datetime.date(2026, 10, 7))
    assert not is_workday(datetime.date(2026, 9, 25))  # Mid-Autumn Festival (a Friday)
    assert is_workday(datetime.date(2026, 9, 30))  # Wednesday before the holiday
    assert is_workday(datetime.date(2026, 10, 10))  # make-up Saturday
    assert is_workday(datetime.date(2026, 9, 20))  # make-up Sunday
    assert not is_workday(datetime.date(2026, 10, 17))  # an ordinary Saturday


def test_years_beyond_the_official_data_fall_back_to_monday_to_friday():
    assert calendar.OFFICIAL_LAST_YEAR >= 2026
    year = calendar.OFFICIAL_LAST_YEAR + 1
    monday = next(datetime.date(year, 3, d) for d in range(1, 8) if datetime.date(year, 3, d).weekday() == 0)
    assert is_workday(monday)
    assert not is_workday(monday + datetime.timedelta(days=5))  # Saturday
    assert not calendar.is_official_calendar_year(year)


def test_overrides_win_over_the_official_calendar():
    overrides = {datetime.date(2026, 10, 17): True, datetime.date(2026, 10, 12): False}
    assert is_workday(datetime.date(2026, 10, 17), overrides)
    assert not is_workday(datetime.date(2026, 10, 12), overrides)


def test_response_received_the_afternoon_before_national_day():
    # Wed 30 Sep 15:00 + 8 working hours: 2.5 h that afternoon, then Thu 8 Oct (after the
    # seven-day holiday) 3.5 h in the morning and 2 h after lunch.
    assert add_working_hours(at(2026, 9, 30, 15), 8) == at(2026, 10, 8, 15, 30)


def test_resolution_received_the_afternoon_before_national_day_counts_the_make_up_saturday():
    # 8 Oct (1), 9 Oct (2), Sat 10 Oct make-up (3), 12 Oct (4), 13 Oct (5): close of business.
    assert add_working_days(at(2026, 9, 30, 16, 45), 5) == at(2026, 10, 13, 17, 30)


def test_make_up_saturday_is_counted_in_working_hours():
    # Fri 9 Oct 16:30 + 4 h: 1 h on Friday, 3 h on the make-up Saturday morning.
    assert add_working_hours(at(2026, 10, 9, 16, 30), 4) == at(2026, 10, 10, 11, 30)


def test_make_up_sunday_before_mid_autumn():
    # Sat 19 Sep is a rest day, Sun 20 Sep a working day.
    assert add_working_hours(at(2026, 9, 19, 10), 1) == at(2026, 9, 20, 9, 30)


def test_lunch_break_is_not_working_time():
    assert add_working_hours(at(2026, 11, 23, 11), 2) == at(2026, 11, 23, 14, 30)
    assert add_working_hours(at(2026, 11, 23, 12, 30), 1) == at(2026, 11, 23, 14, 30)


def test_a_period_end_is_a_valid_deadline():
    assert add_working_hours(at(2026, 11, 23, 8, 30), 3.5) == at(2026, 11, 23, 12)


def test_received_at_night_or_at_the_weekend_starts_next_working_morning():
    assert add_working_hours(at(2026, 11, 23, 20), 1) == at(2026, 11, 24, 9, 30)
    assert add_working_hours(at(2026, 11, 21, 10), 1) == at(2026, 11, 23, 9, 30)  # Saturday


def test_working_days_do_not_count_the_day_of_receipt():
    # Monday morning + 1 working day → Tuesday close of business.
    assert add_working_days(at(2026, 11, 23, 8, 0), 1) == at(2026, 11, 24, 17, 30)
    # Friday evening + 1 → Monday.
    assert add_working_days(at(2026, 11, 27, 22, 0), 1) == at(2026, 11, 30, 17, 30)


def test_utc_input_is_converted_to_shanghai_time():
    utc = datetime.datetime(2026, 9, 30, 7, 0, tzinfo=datetime.timezone.utc)  # 15:00 in Shanghai
    assert add_working_hours(utc, 8) == at(2026, 10, 8, 15, 30)


def test_overrides_move_deadlines():
    overrides = {datetime.date(2026, 11, 24): False}
    assert add_working_days(at(2026, 11, 23, 9), 1, overrides) == at(2026, 11, 25, 17, 30)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        add_working_hours(datetime.datetime(2026, 1, 1, 9), 1)  # naive
    with pytest.raises(ValueError):
        add_working_days(at(2026, 1, 5, 9), 0)
    with pytest.raises(ValueError):
        add_working_hours(at(2026, 1, 5, 9), -1)
    with pytest.raises(ValueError):
        # A calendar where nothing is ever a working day.
        add_working_days(at(2026, 1, 5, 9), 1, overrides=_Never())


class _Never(dict):
    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return False


def test_working_hours_between():
    assert working_hours_between(at(2026, 9, 30, 15), at(2026, 10, 8, 15, 30)) == 8
    assert working_hours_between(at(2026, 10, 8, 15, 30), at(2026, 9, 30, 15)) == -8
    assert calendar.HOURS_PER_DAY == 7.5


def test_the_index_for_imports_gives_the_same_deadlines():
    import random

    overrides = {datetime.date(2026, 11, 24): False, datetime.date(2026, 11, 28): True}
    index = calendar.WorkingTimeIndex(datetime.date(2026, 9, 1), datetime.date(2027, 3, 1), overrides)
    rng = random.Random(7)
    moments = [at(2026, 9, 30, 15), at(2026, 9, 30, 17, 30), at(2026, 10, 9, 16, 30), at(2026, 11, 23, 12),
               at(2026, 11, 23, 12, 30), at(2026, 11, 21, 10)]
    moments += [at(2026, 9, 1) + datetime.timedelta(minutes=rng.randint(0, 150 * 24 * 60), seconds=rng.randint(0, 59))
                for _ in range(2000)]
    for moment in moments:
        for hours in (1, 2, 3.5, 4, 7.5, 8, 16, 40):
            assert index.add_working_hours(moment, hours) == add_working_hours(moment, hours, overrides), (moment, hours)
    assert index.add_working_hours(at(2028, 1, 1), 4) is None  # outside: the caller falls back


# --- Confirmed years: a deadline past the last confirmed year is marked ----------------------------------
def test_a_year_is_confirmed_by_the_package_or_by_loading_it():
    assert calendar.is_confirmed_year(2026)
    assert not calendar.is_confirmed_year(2027)
    assert calendar.is_confirmed_year(2027, {2027})


def test_twenty_working_days_from_2026_12_04_cross_into_an_unconfirmed_year():
    due = add_working_days(at(2026, 12, 4, 10), 20)
    assert due.year == 2027  # 元旦 counted as a working day: only the weekend rule
    assert calendar.is_unconfirmed(at(2026, 12, 4, 10), due)
    assert not calendar.is_unconfirmed(at(2026, 12, 4, 10), due, {2027})
    assert not calendar.is_unconfirmed(at(2026, 12, 4, 10), add_working_days(at(2026, 12, 4, 10), 5))


def test_a_loaded_year_moves_the_deadline_past_its_holidays():
    overrides = {datetime.date(2027, 1, 1): False}
    assert add_working_days(at(2026, 12, 31, 10), 1) == at(2027, 1, 1, 17, 30)
    assert add_working_days(at(2026, 12, 31, 10), 1, overrides) == at(2027, 1, 4, 17, 30)


def test_last_confirmed_year_rolls_over():
    assert calendar.last_confirmed_year(datetime.date(2026, 12, 4)) == 2026
    assert calendar.last_confirmed_year(datetime.date(2026, 12, 4), {2027}) == 2027
    assert calendar.last_confirmed_year(datetime.date(2027, 1, 2), {2027, 2028}) == 2028
    assert calendar.last_confirmed_year(datetime.date(2028, 3, 1)) == 2027
