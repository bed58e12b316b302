"""Loading a year's official calendar: the `calendar` import kind (web and `import_data`), the
bulk editor; deadlines computed past the last confirmed year are marked, and loading the year
recomputes open demands' deadlines on their timelines (the hash chain stays intact)."""
import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from demands import chain
from demands.calendar import TZ
from demands.models import Demand, WorkCalendarDay, WorkCalendarYear
from portal import dataexchange
from tests.demands.conftest import zh
from tests.factories.demands import make_demand, policy

DEC_4 = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
CALENDAR_2027 = (
    "日期,类型,名称\n2027-01-01,放假,元旦\n2027-02-06,调休上班,春节\n2027-02-10,holiday,春节\n"
).encode()


@pytest.fixture
def dec_demand(tree, owner):
    policy(None, "normal", hours=8, days=20)
    with time_machine.travel(DEC_4, tick=False):
        return make_demand(tree.group_a, by=owner)


def test_a_deadline_past_the_last_confirmed_year_is_marked(dec_demand):
    assert dec_demand.resolution_due_at == datetime.datetime(2027, 1, 1, 17, 30, tzinfo=TZ)
    assert dec_demand.deadline_unconfirmed


def test_a_deadline_inside_a_confirmed_year_is_not_marked(tree, owner):
    policy(None, "normal", hours=8, days=5)
    with time_machine.travel(DEC_4, tick=False):
        assert not make_demand(tree.group_a, by=owner).deadline_unconfirmed


def test_import_of_a_year_recomputes_open_deadlines_on_the_timeline(dec_demand):
    with time_machine.travel(datetime.datetime(2026, 12, 10, 9, tzinfo=TZ), tick=False):
        result = dataexchange.run_import("calendar", CALENDAR_2027, "calendar-2027.csv")
    assert result.ok and result.created == 3, result.errors
    assert WorkCalendarYear.objects.filter(year=2027).exists()
    assert not WorkCalendarDay.objects.get(date=datetime.date(2027, 1, 1)).is_workday
    assert WorkCalendarDay.objects.get(date=datetime.date(2027, 2, 6)).is_workday
    demand = Demand.objects.get(pk=dec_demand.pk)
    assert demand.resolution_due_at == datetime.datetime(2027, 1, 4, 17, 30, tzinfo=TZ)  # past 元旦
    assert not demand.deadline_unconfirmed
    event = demand.events.order_by("seq").last()
    assert event.action == "recomputed" and event.data["calendar_years"] == [2027]
    assert event.data["resolution_due_at"]["to"].startswith("2027-01-04")
    assert chain.verify_chains([demand.pk]) == []
    # The same file again changes nothing.
    again = dataexchange.run_import("calendar", CALENDAR_2027, "calendar-2027.csv")
    assert (again.created, again.unchanged) == (0, 3)
    assert demand.events.filter(action="recomputed").count() == 1


def test_import_problems_are_reported_beside_the_row(tree):
    result = dataexchange.run_import("calendar", "日期,类型\n2027-01-01,放假\n2027-02-30,放假\n2027-03-01,休息日\n2027-01-01,放假\n".encode(), "c.csv")
    assert not result.ok
    assert {(e.row, e.column) for e in result.errors} == {(3, "日期"), (4, "类型"), (5, "日期")}  # named as the file spells them
    assert not WorkCalendarYear.objects.exists() and not WorkCalendarDay.objects.exists()


def test_import_data_command(tmp_path, dec_demand, capsys):
    path = tmp_path / "calendar.csv"
    path.write_bytes(CALENDAR_2027)
    call_command("import_data", "calendar", str(path))
    assert "3" in capsys.readouterr().out
    assert not Demand.objects.get(pk=dec_demand.pk).deadline_unconfirmed


def test_calendar_rolls_over_after_the_year_is_loaded(tree, owner):
    """With 2027 loaded, a demand of December 2027 counted into 2028 is marked again."""
    WorkCalendarYear.objects.create(year=2027)
    policy(None, "normal", hours=8, days=20)
    with time_machine.travel(datetime.datetime(2027, 12, 6, 10, tzinfo=TZ), tick=False):
        assert make_demand(tree.group_a, by=owner).deadline_unconfirmed
    with time_machine.travel(datetime.datetime(2027, 3, 1, 10, tzinfo=TZ), tick=False):
        assert not make_demand(tree.group_a, by=owner).deadline_unconfirmed


def test_editor_loads_a_year_and_validates_each_line(client, tree, admin_user, dec_demand):
    client.force_login(admin_user)
    url = reverse("demands:calendar_year", args=[2027])
    bad = client.post(url, {"holidays": "2027-01-01 元旦\n2027-02-30 春节", "workdays": "2027-02-06"})
    assert bad.status_code == 400
    assert zh("Line %(n)d: “%(value)s” is not a date.", n=2, value="2027-02-30") in bad.content.decode()
    assert "2027-02-30 春节" in bad.content.decode()  # what was typed is kept
    assert not WorkCalendarYear.objects.exists()
    response = client.post(url, {"holidays": "2027-01-01 元旦\n2027-02-10 春节", "workdays": "2027-02-06 春节调休"})
    assert response.status_code == 302
    assert WorkCalendarYear.objects.get(year=2027).loaded_by == admin_user
    assert WorkCalendarDay.objects.get(date=datetime.date(2027, 1, 1)).note == "元旦"
    assert not Demand.objects.get(pk=dec_demand.pk).deadline_unconfirmed
    # Removing a row: the day follows the weekend rule again.
    client.post(url, {"holidays": "2027-02-10 春节", "workdays": ""})
    assert not WorkCalendarDay.objects.filter(date=datetime.date(2027, 1, 1)).exists()


def test_editor_is_for_administrators(client, tree, staff):
    client.force_login(staff)
    assert client.get(reverse("demands:calendar_year", args=[2027])).status_code in (403, 404)


@pytest.mark.parametrize("today,warned", [("2026-09-30", False), ("2026-10-01", True), ("2026-12-04", True)])
def test_admin_home_warns_from_october_until_next_year_is_loaded(client, tree, admin_user, today, warned):
    client.force_login(admin_user)
    with time_machine.travel(datetime.datetime.fromisoformat(today + "T10:00+08:00"), tick=False):
        page = client.get(reverse("home")).content.decode()
        assert ('data-testid="calendar-warning"' in page) == warned
        WorkCalendarYear.objects.create(year=2027)
        assert 'data-testid="calendar-warning"' not in client.get(reverse("home")).content.decode()


def test_demand_page_and_sla_overview_show_the_unconfirmed_badge(client, tree, admin_user, dec_demand):
    client.force_login(admin_user)
    with time_machine.travel(datetime.datetime(2026, 12, 5, 10, tzinfo=TZ), tick=False):
        assert 'data-testid="unconfirmed-calendar"' in client.get(dec_demand.get_absolute_url()).content.decode()
        assert 'data-testid="unconfirmed-calendar"' in client.get(reverse("demands:sla_overview")).content.decode()


def test_the_sweep_marks_imported_deadlines_past_the_last_confirmed_year(tree):
    """An imported demand's deadline was written without the mark: the SLA sweep adds it."""
    from demands.tasks import sla_sweep

    policy(None, "normal", hours=8, days=20)
    rows = "ref,title,category,org_unit_code,received_at\nSQ-IMP-1,食堂问题,other,A1,2026-12-04 10:00\n".encode()
    from tests.factories.demands import category

    category()
    assert dataexchange.run_import("demands", rows, "d.csv").ok
    demand = Demand.objects.get(ref="SQ-IMP-1")
    assert demand.resolution_due_at.year == 2027 and not demand.deadline_unconfirmed
    with time_machine.travel(datetime.datetime(2026, 12, 5, 9, tzinfo=TZ), tick=False):
        assert sla_sweep()["unconfirmed"] == 1
    assert Demand.objects.get(pk=demand.pk).deadline_unconfirmed


def test_an_export_of_the_calendar_reimports_unchanged(tree):
    import csv
    import io

    assert dataexchange.run_import("calendar", CALENDAR_2027, "c.csv").ok
    header, rows = dataexchange.export_table("calendar")
    assert header == ["date", "kind", "name"]
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    again = dataexchange.run_import("calendar", out.getvalue().encode(), "c.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_demand_without_a_stored_response_deadline_is_recomputed_too(client, admin_user, dec_demand):
    Demand.objects.filter(pk=dec_demand.pk).update(response_due_at=None)
    assert dataexchange.run_import("calendar", CALENDAR_2027, "c.csv").ok
    demand = Demand.objects.get(pk=dec_demand.pk)
    assert demand.response_due_at is not None and not demand.deadline_unconfirmed
    assert demand.events.order_by("seq").last().data["response_due_at"]["from"] is None
    client.force_login(admin_user)
    assert client.get(demand.get_absolute_url()).status_code == 200
