"""Pages: who may and who may not, out of scope is 404, bad input is shown, constant query counts."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, ActivityPhoto, Attendance
from members.models import DevelopmentRecord
from portal.models import Notification
from tests.conftest import PAGE_QUERY_BUDGET, page_queries
from tests.factories import PersonFactory
from tests.factories.activities import ActivityFactory, AttendanceFactory, ItemFactory, local

pytestmark = pytest.mark.django_db

PAGES = ["activities:activity_list", "activities:compliance", "activities:item_list", "activities:review",
         "activities:project_list", "activities:ledger", "activities:ranking", "activities:development_board",
         "activities:activity_create", "activities:item_create", "activities:item_copy", "activities:project_create"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("name, employee_status", [
    ("activities:activity_list", 200), ("activities:compliance", 403), ("activities:item_list", 200),
    ("activities:review", 403), ("activities:project_list", 200), ("activities:ledger", 200),
    ("activities:ranking", 403), ("activities:development_board", 403), ("activities:activity_create", 403),
    ("activities:item_create", 403), ("activities:item_copy", 403), ("activities:project_create", 403),
])
def test_pages_by_role(client, owner, member, name, employee_status):
    client.force_login(owner)
    assert client.get(reverse(name)).status_code == 200
    client.force_login(member)
    assert client.get(reverse(name)).status_code == employee_status


def test_activity_list_and_detail_scope(client, tree, owner, outsider, member, manager):
    mine = ActivityFactory(org_unit=tree.group_a, title="甲支部党小组会")
    theirs = ActivityFactory(org_unit=tree.branch_b, title="乙支部支委会")
    AttendanceFactory(activity=mine, person=member.person)
    client.force_login(owner)
    page = client.get(reverse("activities:activity_list")).content.decode()
    assert mine.title in page and theirs.title not in page
    assert client.get(reverse("activities:activity_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("activities:activity_edit", args=[theirs.pk])).status_code == 404
    client.force_login(member)
    page = client.get(reverse("activities:activity_list")).content.decode()
    assert mine.title in page and theirs.title not in page
    detail = client.get(reverse("activities:activity_detail", args=[mine.pk])).content.decode()
    assert 'id="my-attendance"' in detail and 'id="roster-form"' not in detail
    client.force_login(manager)
    detail = client.get(reverse("activities:activity_detail", args=[mine.pk])).content.decode()
    assert 'id="roster-form"' not in detail  # managers read
    assert client.post(reverse("activities:activity_attendance", args=[mine.pk])).status_code == 403


def test_plan_invite_notify_record(client, tree, owner, member, person_a, django_capture_on_commit_callbacks):
    client.force_login(owner)
    response = client.post(reverse("activities:activity_create"), {"type": "party_lecture", "title": "",
                                                                   "org_unit": tree.branch_b.pk, "held_at": "bad"})
    assert response.status_code == 200 and not Activity.objects.exists()
    form = response.context["form"]
    assert {"title", "org_unit", "held_at"} <= set(form.errors)
    future = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("activities:activity_create"), {"type": "party_lecture", "title": "专题党课",
                                                                   "org_unit": tree.branch_a.pk, "held_at": future,
                                                                   "status": "held"})
    assert "status" in response.context["form"].errors
    response = client.post(reverse("activities:activity_create"), {"type": "party_lecture", "title": "专题党课",
                                                                   "org_unit": tree.branch_a.pk, "held_at": future,
                                                                   "status": "planned", "location": "会议室"})
    activity = Activity.objects.get()
    assert response["Location"] == activity.get_absolute_url() and activity.created_by == owner
    member.person.political_status = "full_member"
    member.person.save()
    client.post(reverse("activities:activity_invite", args=[activity.pk]), {"unit": tree.branch_a.pk})
    client.post(reverse("activities:activity_invite", args=[activity.pk]), {"people": [person_a.pk]})
    assert set(activity.attendances.values_list("person_id", flat=True)) == {member.person_id, person_a.pk}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("activities:activity_notify", args=[activity.pk]))
    assert Notification.objects.filter(user=member).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("activities:activity_notify", args=[activity.pk]))
    assert Notification.objects.filter(user=member).count() == 1
    # The member asks for leave; the roster shows it.
    client.force_login(member)
    client.post(reverse("activities:activity_leave", args=[activity.pk]), {"reason": "出差"})
    assert Attendance.objects.get(activity=activity, person=member.person).status == "leave"
    client.force_login(owner)
    attendance = Attendance.objects.get(activity=activity, person=person_a)
    response = client.post(reverse("activities:activity_attendance", args=[activity.pk]), {f"status-{attendance.pk}": "bogus"})
    assert Attendance.objects.get(pk=attendance.pk).status == "absent"
    client.post(reverse("activities:activity_attendance", args=[activity.pk]), {f"status-{attendance.pk}": "present",
                                                                              "mark_held": "1"})
    activity.refresh_from_db()
    assert activity.status == "planned"  # a future activity cannot be marked held
    assert Attendance.objects.get(pk=attendance.pk).status == "absent"


def test_photos_are_checked_and_served_in_scope(client, tree, owner, outsider):
    activity = ActivityFactory(org_unit=tree.branch_a)
    client.force_login(owner)
    client.post(reverse("activities:activity_photo", args=[activity.pk]),
                {"photo": SimpleUploadedFile("x.png", b"not a png", content_type="image/png")})
    assert not ActivityPhoto.objects.exists()
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    client.post(reverse("activities:activity_photo", args=[activity.pk]),
                {"photo": SimpleUploadedFile("会场.png", png, content_type="image/png")})
    photo = ActivityPhoto.objects.get()
    assert client.get(reverse("activities:photo_file", args=[photo.pk])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("activities:photo_file", args=[photo.pk])).status_code == 404


def test_activity_list_constant_queries_and_export(client, tree, owner):
    def make(n):
        for _ in range(n):
            activity = ActivityFactory(org_unit=tree.group_a)
            AttendanceFactory.create_batch(2, activity=activity)

    client.force_login(owner)
    make(3)
    few = page_queries(client, reverse("activities:activity_list"))
    make(27)
    many = page_queries(client, reverse("activities:activity_list"))
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)
    response = client.get(reverse("activities:activity_list"), {"export": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "ref,type,title,org_unit_code,held_at,status,attendees" and len(lines) == 31


def test_detail_pages_constant_queries(client, tree, owner):
    activity = ActivityFactory(org_unit=tree.group_a)
    AttendanceFactory.create_batch(3, activity=activity)
    client.force_login(owner)
    url = reverse("activities:activity_detail", args=[activity.pk])
    few = page_queries(client, url)
    AttendanceFactory.create_batch(27, activity=activity)
    many = page_queries(client, url)
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)


def test_development_board_and_timeline_and_home(client, tree, owner, member, person_a):
    DevelopmentRecord.objects.create(person=person_a, stage="applicant", reached_on=datetime.date(2025, 1, 1))
    DevelopmentRecord.objects.create(person=person_a, stage="activist", reached_on=datetime.date(2025, 3, 1))
    probationary = PersonFactory(org_unit=tree.group_a, name="王预备")
    DevelopmentRecord.objects.create(person=probationary, stage="probationary", reached_on=datetime.date(2025, 1, 10))
    client.force_login(owner)
    board = client.get(reverse("activities:development_board")).content.decode()
    assert person_a.name in board and "2026-03-01" in board  # a year as activist
    assert "王预备" in board and "2026-01-10" in board  # conversion due
    activity = ActivityFactory(org_unit=tree.group_a, title="学习党章", held_at=local(2026, 5, 1, 9))
    AttendanceFactory(activity=activity, person=member.person)
    client.force_login(member)
    person_page = client.get(reverse("members:person_detail", args=[member.person_id])).content.decode()
    assert "学习党章" in person_page
    upcoming = ActivityFactory(org_unit=tree.group_a, title="下周主题党日", status="planned",
                               held_at=timezone.now() + datetime.timedelta(days=7))
    AttendanceFactory(activity=upcoming, person=member.person, status="absent")
    home = client.get("/").content.decode()
    assert 'id="widget-upcoming"' in home and "下周主题党日" in home
    item = ItemFactory(lead_org_unit=tree.branch_a, deadline=timezone.localdate() - datetime.timedelta(days=2), title="逾期的清单")
    client.force_login(owner)
    home = client.get("/").content.decode()
    assert 'id="widget-secretary"' in home and item.title in home


def test_compliance_page(client, tree, owner):
    ActivityFactory(org_unit=tree.group_a, type="party_group", held_at=local(2026, 2, 10, 9))
    client.force_login(owner)
    page = client.get(reverse("activities:compliance"), {"year": 2026}).content.decode()
    assert 'data-branch="A"' in page and 'data-branch="B"' not in page
    assert 'data-type="party_group" data-state="held"' in page
    assert client.get(reverse("activities:compliance"), {"year": "x", "by": "quarter"}).status_code == 200
