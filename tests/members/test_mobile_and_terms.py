"""Mobile members and branch terms: current periods, elections closing terms, the reminder sweep
(once only, across the new year), overdue terms, scope, import round trip and API."""
from __future__ import annotations

import datetime

import pytest
import time_machine

from members.partyorg import services, workflow
from members.partyorg.models import BranchTerm, MobileMember
from members.partyorg.tasks import term_reminders
from portal import dataexchange as dx
from portal.models import Notification
from tests.conftest import client_for
from tests.factories import PersonFactory
from tests.factories.partyorg import BranchTermFactory, MobileMemberFactory

pytestmark = pytest.mark.django_db


def at(day: str):
    """Noon in Shanghai on `day`."""
    d = datetime.date.fromisoformat(day)
    return time_machine.travel(datetime.datetime(d.year, d.month, d.day, 4, tzinfo=datetime.UTC), tick=False)


# --- Pure rules ------------------------------------------------------------------------------------
def test_term_dates_and_reminder_due_across_the_new_year():
    assert workflow.term_ends_on(datetime.date(2024, 2, 29), 3) == datetime.date(2027, 2, 28)
    assert workflow.default_term_years("branch") == 3 and workflow.default_term_years("committee") == 5
    ends = datetime.date(2027, 6, 30)
    assert workflow.reminder_due(datetime.date(2026, 12, 29), ends, set()) is None
    assert workflow.reminder_due(datetime.date(2026, 12, 31), ends, set()) == "six_month"
    assert workflow.reminder_due(datetime.date(2026, 12, 31), ends, {"six_month"}) is None
    ends = datetime.date(2027, 1, 31)
    assert workflow.reminder_due(datetime.date(2026, 12, 30), ends, {"six_month"}) is None
    assert workflow.reminder_due(datetime.date(2026, 12, 31), ends, {"six_month"}) == "one_month"
    assert workflow.reminder_due(datetime.date(2027, 1, 31), ends, set()) is None  # ended: overdue, listed
    assert workflow.is_overdue(datetime.date(2027, 1, 31), ends, None)
    assert not workflow.is_overdue(datetime.date(2027, 1, 30), ends, None)
    assert not workflow.period_is_current(datetime.date(2027, 1, 1), datetime.date(2026, 3, 1), datetime.date(2026, 12, 31))
    assert workflow.period_is_current(datetime.date(2026, 12, 31), datetime.date(2026, 3, 1), datetime.date(2026, 12, 31))


# --- Terms -----------------------------------------------------------------------------------------
def test_recording_an_election_closes_the_old_term(tree, owner):
    with at("2026-06-01"):
        first = services.term_record_election(unit=tree.branch_a, elected_on=datetime.date(2023, 5, 20), by=owner)
        assert first.ends_on == datetime.date(2026, 5, 20) and first.term_years == 3
        second = services.term_record_election(unit=tree.branch_a, elected_on=datetime.date(2026, 5, 28), by=owner,
                                               members="张三 书记\n李四 组织委员")
        first.refresh_from_db()
        assert first.closed_on == datetime.date(2026, 5, 28) and second.closed_on is None
        with pytest.raises(Exception):
            services.term_record_election(unit=tree.branch_a, elected_on=datetime.date(2026, 5, 1), by=owner)
        with pytest.raises(Exception):
            services.term_record_election(unit=tree.branch_a, elected_on=datetime.date(2026, 7, 1), by=owner)
        committee = services.term_record_election(unit=tree.root, elected_on=datetime.date(2025, 1, 10), by=owner)
        assert committee.term_years == 5


def test_reminders_are_sent_once_each_and_roll_into_the_next_year(tree, owner, staff, outsider):
    six = BranchTermFactory(unit=tree.branch_a, elected_on=datetime.date(2024, 6, 30), term_years=3)  # ends 2027-06-30
    one = BranchTermFactory(unit=tree.branch_b, elected_on=datetime.date(2024, 1, 31), term_years=3)  # ends 2027-01-31
    with at("2026-12-29"):
        term_reminders()  # branch B's six-month reminder; branch A's is due from 2026-12-30
    six.refresh_from_db()
    assert six.six_month_reminder_at is None
    with at("2026-12-31"):
        assert term_reminders() >= 2
    six.refresh_from_db()
    one.refresh_from_db()
    assert six.six_month_reminder_at is not None and six.one_month_reminder_at is None
    assert one.one_month_reminder_at is not None
    with at("2026-12-31"):
        assert term_reminders() == 0  # a re-run (or a second worker) sends nothing
    # The secretary of each branch and the committee's staff above it, once per term and reminder.
    assert Notification.objects.filter(user=owner, key__startswith=f"term:{six.pk}:six_month").count() == 1
    assert Notification.objects.filter(user=staff, key__startswith=f"term:{six.pk}:six_month").count() == 1
    assert Notification.objects.filter(user=outsider, key__startswith=f"term:{one.pk}:one_month").count() == 1
    assert not Notification.objects.filter(user=outsider, key__startswith=f"term:{six.pk}").exists()
    with at("2027-05-31"):
        assert term_reminders() == 2  # branch A's one-month reminder, in the new year: its secretary and staff
        assert term_reminders() == 0


def test_a_claimed_reminder_is_not_sent_again(tree, owner):
    term = BranchTermFactory(unit=tree.branch_a, elected_on=datetime.date(2024, 6, 30), term_years=3)
    assert services.term_send_reminder(term.pk, "six_month", datetime.date(2026, 12, 31)) >= 1
    assert services.term_send_reminder(term.pk, "six_month", datetime.date(2026, 12, 31)) == 0


def test_overdue_terms_listed_for_the_committee_in_scope(client, tree, staff, outsider, owner):
    late = BranchTermFactory(unit=tree.branch_a, elected_on=datetime.date(2023, 3, 1), term_years=3)
    BranchTermFactory(unit=tree.branch_b, elected_on=datetime.date(2025, 3, 1), term_years=3)
    with at("2026-12-06"):
        page = client_for(client, staff).get("/members/terms/overdue/").content.decode()
        assert tree.branch_a.name in page and tree.branch_b.name not in page
        assert client_for(client, outsider).get(late.get_absolute_url()).status_code == 404
        assert client_for(client, owner).get(late.get_absolute_url()).status_code == 200


def test_election_page(client, tree, owner):
    with at("2026-12-06"):
        response = client_for(client, owner).post("/members/terms/new/", {
            "unit": tree.branch_a.pk, "elected_on": "2026-11-30", "term_years": "", "members": "张三 书记"})
        assert response.status_code == 302
        term = BranchTerm.objects.get()
        assert term.ends_on == datetime.date(2029, 11, 30)
        # The next election closes this term (the form does not refuse it for the open term).
        assert client.post("/members/terms/new/", {"unit": tree.branch_a.pk, "elected_on": "2026-12-05",
                                                   "members": "李四 书记"}).status_code == 302
        term.refresh_from_db()
        assert term.closed_on == datetime.date(2026, 12, 5)
        assert client.post("/members/terms/new/", {"unit": tree.branch_a.pk, "elected_on": "2026-12-06",
                                                   "term_years": "99"}).status_code == 200
        bad = client.post("/members/terms/new/", {"unit": tree.branch_a.pk, "elected_on": "2027-01-01", "members": "王五"})
        assert bad.status_code == 200 and "王五" in bad.content.decode()


# --- Mobile members --------------------------------------------------------------------------------
def test_current_mobile_members_per_branch_and_scope(client, tree, owner, outsider, django_assert_max_num_queries):
    away = MobileMemberFactory(person__org_unit=tree.group_a, person__name="赵六", ended_on=None)
    back = MobileMemberFactory(person__org_unit=tree.group_a, person__name="钱七", ended_on=datetime.date(2026, 6, 30))
    with at("2026-12-06"):
        page = client_for(client, owner).get("/members/mobile/?current=true").content.decode()
        assert "赵六" in page and "钱七" not in page
        assert "钱七" in client.get("/members/mobile/?current=false").content.decode()
        assert "赵六" not in client_for(client, outsider).get("/members/mobile/").content.decode()
        assert client_for(client, outsider).get(f"/members/mobile/{away.pk}/").status_code == 404
        for _ in range(5):
            MobileMemberFactory(person__org_unit=tree.branch_a)
        client_for(client, owner)
        with django_assert_max_num_queries(20):
            assert client.get("/members/mobile/").status_code == 200
    # They stay in their branch.
    away.person.refresh_from_db()
    assert away.person.org_unit == tree.group_a and back.person.org_unit == tree.group_a


def test_mobile_period_checks(tree):
    period = MobileMemberFactory(person__org_unit=tree.branch_a, ended_on=datetime.date(2026, 6, 30))
    problems = services.mobile_period_problems(person=period.person, started_on=datetime.date(2026, 6, 1), ended_on=None)
    assert "started_on" in problems
    assert not services.mobile_period_problems(person=period.person, started_on=datetime.date(2026, 7, 1), ended_on=None)
    masses = PersonFactory(org_unit=tree.branch_a)
    assert "person" in services.mobile_period_problems(person=masses, started_on=datetime.date(2026, 7, 1), ended_on=None)


# --- Import round trips and API ----------------------------------------------------------------------
def _round_trip(name, queryset):
    kind = dx.get_kind(name)
    rows = list(kind.export_rows(queryset))
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(kind.export_header())
    writer.writerows(rows)
    return dx.run_import(name, buffer.getvalue().encode(), "x.csv")


def test_mobile_and_term_import_round_trip(tree):
    person = PersonFactory(org_unit=tree.branch_a, political_status="full_member")
    csv_text = ("工号,外出工作单位,外出地点,联系方式,外出开始日期,外出结束日期,备注\n"
                f"{person.employee_no},某项目部,新疆哈密,13800000000,2026-03-01,,援疆\n")
    result = dx.run_import("mobile_members", csv_text.encode(), "m.csv")
    assert result.ok and result.created == 1, result.errors
    again = _round_trip("mobile_members", MobileMember.objects.all())
    assert again.ok and again.unchanged == 1, again.errors
    terms = ("组织编码,选举日期,任期年限,班子成员,换届日期\n"
             "A,2020-05-01,3,,2023-05-01\nA,2023-05-01,,张三 书记,\n")
    result = dx.run_import("branch_terms", terms.encode(), "t.csv")
    assert result.ok and result.created == 2, result.errors
    assert BranchTerm.objects.get(closed_on__isnull=True).ends_on == datetime.date(2026, 5, 1)
    again = _round_trip("branch_terms", BranchTerm.objects.all())
    assert again.ok and again.unchanged == 2, again.errors
    two_open = "组织编码,选举日期\nB,2020-05-01\nB,2023-05-01\n"
    assert not dx.run_import("branch_terms", two_open.encode(), "t.csv").ok


def test_api_mobile_and_terms(client, tree, owner, outsider):
    person = PersonFactory(org_unit=tree.branch_a, political_status="full_member")
    response = client_for(client, owner).post("/api/mobile-members/", {
        "person": person.pk, "work_unit": "项目部", "place": "哈密", "contact": "138", "started_on": "2026-03-01"},
        content_type="application/json")
    assert response.status_code == 201, response.content
    assert client_for(client, outsider).get(f"/api/mobile-members/{response.json()['id']}/").status_code == 404
    with at("2026-12-06"):
        response = client_for(client, owner).post("/api/branch-terms/", {
            "unit": tree.branch_a.pk, "elected_on": "2026-11-30"}, content_type="application/json")
        assert response.status_code == 201 and response.json()["ends_on"] == "2029-11-30", response.content
        assert client_for(client, outsider).post("/api/branch-terms/", {
            "unit": tree.branch_a.pk, "elected_on": "2026-12-01"}, content_type="application/json").status_code == 400
