"""Points are awarded on attendance by rule, never twice for the same attendance."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import PointsRule
from activities.selectors import points_ranking
from activities.tasks import award_activity_points
from members.models import PointsEntry
from members.services import points_award
from tests.factories import PersonFactory
from tests.factories.activities import ActivityFactory, AttendanceFactory

pytestmark = pytest.mark.django_db


def test_default_rules_exist():
    assert PointsRule.objects.get(type="party_lecture").points == 2


def test_award_is_never_doubled(tree, person_a, django_capture_on_commit_callbacks):
    activity = ActivityFactory(org_unit=tree.branch_a, type="party_lecture")
    present = AttendanceFactory(activity=activity, person=person_a, status="present")
    AttendanceFactory(activity=activity, status="leave")
    assert services.award_points_for_activity(activity) == 1
    assert services.award_points_for_activity(activity) == 0
    assert award_activity_points(activity.pk) == 0
    entry = PointsEntry.objects.get(person=person_a)
    assert (entry.points, entry.source, entry.source_key) == (2, "attendance", f"attendance:{present.pk}")
    assert entry.awarded_on == timezone.localdate(activity.held_at)


def test_planned_or_cancelled_activities_award_nothing(tree, person_a):
    for status in ("planned", "cancelled"):
        activity = ActivityFactory(org_unit=tree.branch_a, status=status)
        AttendanceFactory(activity=activity, person=person_a)
        assert services.award_points_for_activity(activity) == 0
    assert not PointsEntry.objects.exists()


def test_inactive_rule_awards_nothing(tree, person_a):
    PointsRule.objects.filter(type="branch_committee").update(is_active=False)
    activity = ActivityFactory(org_unit=tree.branch_a, type="branch_committee")
    AttendanceFactory(activity=activity, person=person_a)
    assert services.award_points_for_activity(activity) == 0


def test_roster_then_qr_then_roster_awards_once(tree, member, django_capture_on_commit_callbacks):
    activity = ActivityFactory(org_unit=tree.branch_a, type="theme_party_day",  # check-in still open
                               held_at=timezone.now() - datetime.timedelta(hours=1))
    attendance = AttendanceFactory(activity=activity, person=member.person, status="absent")
    with django_capture_on_commit_callbacks(execute=True):
        services.attendance_record(activity=activity, statuses={attendance.pk: "present"})
    with django_capture_on_commit_callbacks(execute=True):
        services.attendance_check_in(activity=activity, person=member.person)
    with django_capture_on_commit_callbacks(execute=True):
        services.attendance_record(activity=activity, statuses={attendance.pk: "absent"})
        services.attendance_record(activity=activity, statuses={attendance.pk: "present"})
    assert PointsEntry.objects.filter(person=member.person).count() == 1


def test_marking_held_from_the_roster_page_awards_points(client, owner, tree, person_a, django_capture_on_commit_callbacks):
    activity = ActivityFactory(org_unit=tree.branch_a, type="party_lecture", status="planned",
                               held_at=timezone.now() - datetime.timedelta(hours=1))
    attendance = AttendanceFactory(activity=activity, person=person_a, status="absent")
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("activities:activity_attendance", args=[activity.pk]),
                               {f"status-{attendance.pk}": "present", "mark_held": "1"})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.status == "held"
    assert PointsEntry.objects.get(person=person_a).points == 2


def test_ranking_per_year_and_branch(tree):
    first, second, outside = PersonFactory(org_unit=tree.group_a), PersonFactory(org_unit=tree.branch_a), PersonFactory(org_unit=tree.branch_b)
    points_award(person=first, points=5, reason="a", on=datetime.date(2026, 3, 1))
    points_award(person=second, points=7, reason="b", on=datetime.date(2026, 3, 1))
    points_award(person=first, points=9, reason="last year", on=datetime.date(2025, 3, 1))
    points_award(person=outside, points=50, reason="c", on=datetime.date(2026, 3, 1))
    ranking = points_ranking(tree.branch_a, 2026)
    assert [(p.pk, p.total, p.rank) for p in ranking] == [(second.pk, 7, 1), (first.pk, 5, 2)]


def test_ranking_and_ledger_pages(client, owner, member, tree, person_a, person_b):
    points_award(person=person_a, points=3, reason="出席", on=datetime.date(2026, 3, 1))
    points_award(person=person_b, points=4, reason="出席", on=datetime.date(2026, 3, 1))
    points_award(person=member.person, points=6, reason="自己的", on=datetime.date(2026, 3, 1))
    client.force_login(owner)
    response = client.get(reverse("activities:ranking"), {"year": 2026})
    assert person_a.name in response.content.decode() and person_b.name not in response.content.decode()
    export = client.get(reverse("activities:ranking"), {"year": 2026, "unit": tree.branch_a.pk, "export": "csv"})
    assert person_a.employee_no in b"".join(export.streaming_content).decode("utf-8-sig")
    ledger = client.get(reverse("activities:ledger")).content.decode()
    assert person_a.name in ledger and person_b.name not in ledger
    client.force_login(member)
    assert client.get(reverse("activities:ranking")).status_code == 403
    ledger = client.get(reverse("activities:ledger")).content.decode()
    assert "自己的" in ledger and person_a.name not in ledger


def test_points_rules_page_admin_only(client, admin_user, owner):
    client.force_login(owner)
    assert client.get(reverse("activities:points_rules")).status_code == 403
    client.force_login(admin_user)
    response = client.get(reverse("activities:points_rules"))
    assert response.status_code == 200
    total = PointsRule.objects.count()
    data = {"form-TOTAL_FORMS": total, "form-INITIAL_FORMS": total}
    for i, rule in enumerate(PointsRule.objects.order_by("type")):
        data.update({f"form-{i}-id": rule.pk, f"form-{i}-type": rule.type, f"form-{i}-points": rule.points,
                     f"form-{i}-is_active": "on"})
    data["form-0-points"] = "-1"
    response = client.post(reverse("activities:points_rules"), data)
    assert response.status_code == 200  # error shown beside the field, nothing saved
    data["form-0-points"] = "4"
    assert client.post(reverse("activities:points_rules"), data).status_code == 302
    assert PointsRule.objects.order_by("type").first().points == 4
