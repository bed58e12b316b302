"""The generic list kit: bounded count, export of the filtered list, sorting, pagination without a
full COUNT, and a constant number of queries per page as the data grows."""
import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from members.choices import DevelopmentStage as S
from members.models import DevelopmentRecord, Person, PointsEntry, RevealLog
from portal.generic import bounded_count
from portal.roles import Role
from tests.conftest import PAGE_QUERY_BUDGET, make_user, page_queries
from tests.factories import OrgUnitFactory, PersonFactory, UserFactory


def login(client, user):
    client.force_login(user)
    return client


def csv_rows(response):
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # BOM, so Excel on Chinese Windows reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(response):
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [["" if v is None else str(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]


# --- bounded_count -------------------------------------------------------------------------------
def test_bounded_count_exact_under_the_limit(tree):
    for _ in range(5):
        PersonFactory(org_unit=tree.branch_a)
    assert bounded_count(Person.objects.all(), limit=10) == (5, False)
    assert bounded_count(Person.objects.all(), limit=5) == (5, False)


def test_bounded_count_more_above_the_limit(tree, settings):
    for _ in range(7):
        PersonFactory(org_unit=tree.branch_a)
    assert bounded_count(Person.objects.all(), limit=6) == (6, True)
    settings.PORTAL_EXACT_COUNT_LIMIT = 3
    assert bounded_count(Person.objects.all()) == (3, True)


def test_bounded_count_query_has_a_limit(tree, count_queries):
    with count_queries() as ctx:
        bounded_count(Person.objects.all(), limit=100)
    sql = ctx.captured_queries[0]["sql"]
    assert "COUNT(*)" in sql and "LIMIT 101" in sql


def test_list_page_says_more_than(client, admin_user, tree, settings):
    settings.PORTAL_EXACT_COUNT_LIMIT = 3
    for _ in range(5):
        PersonFactory(org_unit=tree.branch_a)
    # Filtered (unfiltered huge lists show an estimate instead, see below).
    response = login(client, admin_user).get(reverse("members:person_list"), {"org_unit": tree.branch_a.pk})
    assert response.context["row_count"] == 3 and response.context["row_count_more"]
    assert "超过 3 条记录" in response.content.decode()


# --- Export -------------------------------------------------------------------------------------
@pytest.fixture
def people(tree):
    return [
        PersonFactory(org_unit=tree.group_a, name="党员甲", political_status="full_member", phone="13800000001"),
        PersonFactory(org_unit=tree.branch_a, name="群众乙", political_status="masses"),
        PersonFactory(org_unit=tree.branch_b, name="党员丙", political_status="full_member"),
    ]


def test_csv_export_of_the_filtered_list(client, staff, people):
    response = login(client, staff).get(reverse("members:person_list"), {"political_status": "full_member", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:2] == ["employee_no", "name"]
    assert sorted(r[1] for r in rows[1:]) == ["党员丙", "党员甲"]


def test_xlsx_export_of_the_filtered_list(client, staff, people):
    response = login(client, staff).get(reverse("members:person_list"), {"q": "群众", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = xlsx_rows(response)
    assert rows[0][0] == "employee_no"
    assert [r[1] for r in rows[1:]] == ["群众乙"]


def test_export_obeys_scope(client, outsider, owner, people):
    rows = csv_rows(login(client, outsider).get(reverse("members:person_list"), {"export": "csv"}))
    names = {r[1] for r in rows[1:]}
    assert "党员丙" in names and "党员甲" not in names and "群众乙" not in names
    rows = xlsx_rows(login(client, owner).get(reverse("members:person_list"), {"export": "xlsx"}))
    names = {r[1] for r in rows[1:]}
    assert {"党员甲", "群众乙"} <= names and "党员丙" not in names


def test_export_is_masked_by_default_even_for_accounts_that_may_reveal(client, tree, owner, people):
    rows = csv_rows(login(client, owner).get(reverse("members:person_list"), {"export": "csv", "q": "党员甲"}))
    assert rows[1][4] == "138****0001"
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a, may_view_sensitive=True, username="sec")
    rows = csv_rows(login(client, secretary).get(reverse("members:person_list"), {"export": "csv", "q": "党员甲"}))
    assert rows[1][4] == "138****0001"
    rows = csv_rows(login(client, make_user(Role.ADMIN, tree.root, username="adm")).get(
        reverse("members:person_list"), {"export": "csv", "q": "党员甲"}))
    assert rows[1][4] == "138****0001"
    assert not RevealLog.objects.exists()


def test_orgunit_export_is_scoped(client, owner):
    rows = csv_rows(login(client, owner).get(reverse("members:orgunit_list"), {"export": "csv"}))
    assert rows[0] == ["code", "name", "kind", "parent_code"]
    assert {r[0] for r in rows[1:]} == {"A", "A1"}


def test_account_export_has_no_passwords(client, admin_user, owner):
    rows = csv_rows(login(client, admin_user).get(reverse("portal:account_list"), {"export": "csv"}))
    assert rows[0] == ["username", "employee_no", "role", "scope_org_code", "password"]
    assert all(r[4] == "" for r in rows[1:])
    assert ["owner", owner.person.employee_no, "branch_secretary", "A", ""] in rows


def test_export_needs_permission(client, handler, member):
    assert login(client, handler).get(reverse("members:person_list"), {"export": "csv"}).status_code == 403
    assert login(client, member).get(reverse("members:orgunit_list"), {"export": "csv"}).status_code == 403


def test_export_with_an_invalid_filter_exports_nothing(client, owner, tree, people):
    response = login(client, owner).get(reverse("members:person_list"), {"org_unit": tree.branch_b.pk, "export": "csv"})
    assert response.status_code == 302


# --- Sorting, filtering, pagination -------------------------------------------------------------
def test_sort_by_a_column(client, admin_user, tree):
    for name in ("丙", "甲", "乙"):
        PersonFactory(org_unit=tree.branch_a, name=f"排序{name}")
    login(client, admin_user)

    def names(sort):
        table = client.get(reverse("members:person_list"), {"sort": sort, "q": "排序"}).context["table"]
        return [row.record.name for row in table.page.object_list]

    assert names("name") == sorted(names("name")) and len(names("name")) == 3
    assert names("-name") == list(reversed(names("name")))


def test_filters(client, admin_user, tree, people):
    login(client, admin_user)
    def names(**params):
        return {p.name for p in client.get(reverse("members:person_list"), params).context["table"].data}
    assert names(org_unit=tree.branch_a.pk) == {"党员甲", "群众乙"}  # with sub-units
    assert names(political_status="full_member") == {"党员甲", "党员丙"}
    assert names(q="党员") == {"党员甲", "党员丙"}
    Person.objects.filter(name="党员甲").update(tags=["青年"])
    assert names(tag="青年") == {"党员甲"}


def test_pagination(client, admin_user, tree):
    for i in range(30):
        PersonFactory(org_unit=tree.branch_a)
    login(client, admin_user)
    # In the list's own order, keyset pages (tests/portal/test_keyset.py); numbered pages otherwise.
    first = client.get(reverse("members:person_list"))
    assert len(first.context["table"].data) == 25
    assert first.context["keyset"]["next"]
    second = client.get(reverse("members:person_list"), {"page": 2})
    assert len(second.context["table"].page.object_list) == Person.objects.count() - 25
    assert client.get(reverse("members:person_list"), {"page": "abc"}).status_code in (200, 404)


@pytest.mark.parametrize("url_name,table", [
    ("members:person_list", "members_person"),
    ("members:orgunit_list", "members_orgunit"),
    ("portal:account_list", "portal_user"),
])
def test_no_full_count_on_unfiltered_lists(client, admin_user, tree, count_queries, url_name, table):
    for _ in range(30):
        PersonFactory(org_unit=tree.branch_a)
    login(client, admin_user)
    with count_queries() as ctx:
        assert client.get(reverse(url_name)).status_code == 200
    # (Not the account's own query, which counts its unread notifications in a subquery.)
    counts = [q["sql"] for q in ctx.captured_queries
              if q["sql"].lstrip().upper().startswith("SELECT COUNT(") and f'FROM "{table}"' in q["sql"]]
    assert counts, "the list shows a (bounded) count"
    for sql in counts:
        assert "LIMIT" in sql, sql


# --- Query counts stay constant as rows grow, within the page budget -----------------------------


def grow_people(tree, n):
    for i in range(n):
        PersonFactory(org_unit=tree.group_a if i % 2 else tree.branch_a, tags=["青年"])


def test_person_list_queries_constant(client, owner, tree):
    login(client, owner)
    grow_people(tree, 3)
    few = page_queries(client, reverse("members:person_list"))
    grow_people(tree, 27)
    many = page_queries(client, reverse("members:person_list"))
    assert few == many <= PAGE_QUERY_BUDGET


def test_orgunit_list_queries_constant(client, admin_user, tree):
    login(client, admin_user)
    few = page_queries(client, reverse("members:orgunit_list"))
    for i in range(30):
        OrgUnitFactory(parent=tree.branch_a, kind="group")
    many = page_queries(client, reverse("members:orgunit_list"))
    assert few == many <= PAGE_QUERY_BUDGET


def test_account_list_queries_constant(client, admin_user, tree):
    login(client, admin_user)

    def grow(n):
        for i in range(n):
            UserFactory(role=Role.EMPLOYEE, scope_org=tree.branch_a, person=PersonFactory(org_unit=tree.branch_a))

    grow(3)
    few = page_queries(client, reverse("portal:account_list"))
    grow(27)
    many = page_queries(client, reverse("portal:account_list"))
    assert few == many <= PAGE_QUERY_BUDGET


def grow_record(person, user, start, n):
    """n more of what a person's page shows: points, changes (history), demands, visits, life
    events, meetings attended (timeline)."""
    from tests.factories.activities import ActivityFactory, AttendanceFactory
    from tests.factories.demands import LifeEventFactory, VisitFactory, make_demand

    for i in range(start, start + n):
        PointsEntry.objects.create(person=person, points=i + 1, reason=f"奖励{i}", awarded_on=datetime.date(2025, 1, 1) + datetime.timedelta(days=i), awarded_by=user)
        person.position = f"岗位{i}"
        person.save()
        make_demand(person.org_unit, submitter=person, title=f"诉求{i}")
        VisitFactory(person=person, visitor=PersonFactory(org_unit=person.org_unit))
        LifeEventFactory(person=person)
        AttendanceFactory(activity=ActivityFactory(org_unit=person.org_unit), person=person)


@pytest.mark.parametrize("fixture", ["owner", "member", "admin_user"])
def test_person_detail_queries_constant(client, request, tree, fixture):
    user = request.getfixturevalue(fixture)
    person = user.person if fixture == "member" else PersonFactory(org_unit=tree.group_a)
    DevelopmentRecord.objects.create(person=person, stage=S.ACTIVIST, reached_on=datetime.date(2024, 1, 1))
    login(client, user)
    url = reverse("members:person_detail", args=[person.pk])
    # A first request: the test's one transaction then attributes the later changes to the user (as
    # pghistory's middleware does in real requests), so both measurements resolve the actors.
    client.get(url)
    grow_record(person, user, 0, 3)
    few = page_queries(client, url)
    grow_record(person, user, 3, 27)
    DevelopmentRecord.objects.create(person=person, stage=S.CANDIDATE, reached_on=datetime.date(2025, 1, 2))
    many = page_queries(client, url)
    assert few == many <= PAGE_QUERY_BUDGET
    # The development records are read once, for the timeline and the development panel both.
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len([q for q in queries if 'FROM "members_developmentrecord"' in q["sql"]]) == 1


def grow_home_world(tree, user, handler, n):
    """n more of everything the home widgets show: people due for conversion, points, demands in
    every queue (and the user's own, resolved ones to rate), life events to visit, responsibility
    items (mine, waiting for approval, overdue), upcoming activities the user is invited to, held
    meetings, campaigns and appraisals asking for the user's rating, unread notifications."""
    from django.utils import timezone

    from activities.models import ResponsibilityItem
    from evaluation.models import AppraisalRound, AppraisalVoter, Campaign, RaterAssignment, RaterGroup
    from portal.models import Notification
    from portal.roles import has_permission
    from tests.factories.activities import ActivityFactory, AttendanceFactory
    from tests.factories.demands import LifeEventFactory, accepted, make_demand, resolved

    staff_user = make_user(Role.STAFF, tree.root)
    assignee = user if has_permission(user, "demands.handle") else handler
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for i in range(n):
        person = PersonFactory(org_unit=tree.group_a, political_status="probationary_member")
        DevelopmentRecord.objects.create(person=person, stage=S.PROBATIONARY, reached_on=datetime.date(2024, 1, 1))
        make_demand(tree.group_a, by=staff_user, submitter=person, title=f"待受理{i}")
        accepted(make_demand(tree.group_a, by=staff_user, submitter=person, title=f"办理中{i}"), by=staff_user,
                 handler=assignee)
        LifeEventFactory(person=person)
        ResponsibilityItem.objects.create(ref=f"ZR-H{user.pk}-{n}-{i}", title=f"待审批{i}", lead_org_unit=tree.branch_a,
                                          responsible=person, status="submitted", deadline=yesterday)
        ActivityFactory(org_unit=tree.group_a, type="party_group", status="held",
                        held_at=timezone.now() - datetime.timedelta(days=i % 20))
        Notification.objects.create(user=user, title=f"通知{i}", key=f"home-{n}-{i}")
        campaign = Campaign.objects.create(name=f"考核{n}-{i}", org_unit=tree.root, year=2026, status="open")
        campaign.subjects.set([tree.branch_a, tree.branch_b, tree.department])
        RaterAssignment.objects.create(group=RaterGroup.objects.create(campaign=campaign, kind="peer", weight=100),
                                       rater=user)
        AppraisalVoter.objects.create(voter=user, round=AppraisalRound.objects.create(
            name=f"评议{n}-{i}", org_unit=tree.root, year=2026, status="open"))
        if user.person_id:
            PointsEntry.objects.create(person=user.person, points=1, reason="x", awarded_on=datetime.date(2025, 1, 1))
            resolved(make_demand(user.person.org_unit, by=staff_user, submitter=user.person, title=f"我的诉求{i}"),
                     by=staff_user, handler=handler)
            ResponsibilityItem.objects.create(ref=f"ZR-M{user.pk}-{n}-{i}", title=f"我的事项{i}",
                                              lead_org_unit=tree.branch_a, responsible=user.person)
            invited = ActivityFactory(org_unit=tree.group_a, status="planned",
                                      held_at=timezone.now() + datetime.timedelta(days=1 + i))
            AttendanceFactory(activity=invited, person=user.person)


@pytest.mark.parametrize("fixture", ["member", "staff", "handler", "owner", "manager", "admin_user"])
def test_home_queries_constant_within_budget(client, request, tree, handler, fixture):
    """Every role's home page, with every widget that role has, makes the same number of queries
    with 3 or 30 records of each kind, within the page budget."""
    user = request.getfixturevalue(fixture)
    login(client, user)
    grow_home_world(tree, user, handler, 3)
    few = page_queries(client, reverse("home"))
    widgets_few = [template for template, _ in client.get(reverse("home")).context["widgets"]]
    grow_home_world(tree, user, handler, 27)
    many = page_queries(client, reverse("home"))
    response = client.get(reverse("home"))
    assert [template for template, _ in response.context["widgets"]] == widgets_few
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)
    widgets = dict(response.context["widgets"])
    # The widgets still show the facts, grown with the data.
    assert response.context["unread_notifications"] == user.notifications.filter(read_at__isnull=True).count() >= 30
    if "demands/widgets/queues.html" in widgets:
        assert widgets["demands/widgets/queues.html"]["counts"]["pending"] == (30, False)
        assert widgets["demands/widgets/queues.html"]["due_visits"] == (30, False)
    if "evaluation/widgets/ratings.html" in widgets:
        # Cross rating: three units per campaign, less the rater's own unit and the units above it.
        own = [p for p in (user.scope_org and user.scope_org.path, user.person_id and user.person.org_unit.path) if p]
        per_campaign = len([u for u in (tree.branch_a, tree.branch_b, tree.department)
                            if not any(path.startswith(u.path) for path in own)])
        assert widgets["evaluation/widgets/ratings.html"] == {"todo": 30 * per_campaign, "ballots": 30}
    if "members/widgets/scope_summary.html" in widgets:
        people = Person.objects.filter(is_active=True)
        if user.role != Role.ADMIN:
            people = people.filter(org_unit__path__startswith=user.scope_org.path)
        members = people.filter(political_status__in=["full_member", "probationary_member"])
        assert widgets["members/widgets/scope_summary.html"]["counts"] == {"total": people.count(), "members": members.count()}
        assert members.count() >= 30
        assert len(widgets["members/widgets/scope_summary.html"]["due"]) == 5
    if "members/widgets/my_record.html" in widgets:
        assert widgets["members/widgets/my_record.html"]["points"] == 30
    if "demands/widgets/mine.html" in widgets:
        mine = widgets["demands/widgets/mine.html"]
        assert len(mine["recent"]) == 5 and len(mine["to_rate"]) == 3 and mine["open_count"] == 0
    if "activities/widgets/my_items.html" in widgets:
        assert len(widgets["activities/widgets/my_items.html"]["items"]) == 8
    if "activities/widgets/secretary.html" in widgets:
        secretary = widgets["activities/widgets/secretary.html"]
        assert len(secretary["pending"]) == 5 and len(secretary["red"]) == 5


def test_huge_unfiltered_list_shows_the_planner_estimate(client, admin_user, tree, settings, count_queries):
    from django.db import connection

    settings.PORTAL_EXACT_COUNT_LIMIT = 3
    for _ in range(40):
        PersonFactory(org_unit=tree.branch_a)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_person")
    login(client, admin_user)
    with count_queries() as ctx:
        response = client.get(reverse("members:person_list"))
    assert response.context["row_count_estimated"]
    assert response.context["row_count"] == Person.objects.count()  # ANALYZE just read them all
    assert f"约 {Person.objects.count()} 条记录" in response.content.decode()
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and 'FROM "members_person"' in q["sql"]]

    # Filtered, the same list is counted (up to the limit), never estimated.
    filtered = client.get(reverse("members:person_list"), {"q": Person.objects.first().name})
    assert not filtered.context["row_count_estimated"]


def test_estimates_are_rounded_to_two_figures():
    from portal.generic import about

    assert [about(n) for n in (7, 99, 123, 1_003_245, 34_567)] == [7, 99, 120, 1_000_000, 35_000]
