"""Beat tasks: 三会一课 reminders before a window closes; points through a real worker."""
import pytest
from django.utils import timezone

from activities.tasks import meeting_reminders
from members.models import PointsEntry
from portal.models import Notification
from tests.factories.activities import ActivityFactory, AttendanceFactory, local


@pytest.mark.django_db
def test_meeting_reminders_once_per_window(tree, owner, outsider):
    ActivityFactory(org_unit=tree.group_a, type="party_group", held_at=local(2026, 3, 3, 9))
    now = local(2026, 3, 27, 8, 20).isoformat()
    # Branch A still misses the committee meeting, the assembly and the lecture; B misses all four.
    assert meeting_reminders(now) == 7
    assert meeting_reminders(now) == 0
    assert Notification.objects.filter(user=owner).count() == 3
    assert Notification.objects.filter(user=outsider).count() == 4
    assert meeting_reminders(local(2026, 3, 10).isoformat()) == 0  # more than a week before the end


@pytest.mark.celery_worker
def test_points_are_awarded_by_a_real_worker(celery_worker, tree, person_a):
    from activities import services

    activity = ActivityFactory(org_unit=tree.branch_a, type="party_lecture", held_at=timezone.now())
    AttendanceFactory(activity=activity, person=person_a)
    from activities.tasks import award_activity_points

    award_activity_points.delay(activity.pk)
    award_activity_points.delay(activity.pk)
    celery_worker(lambda: PointsEntry.objects.filter(person=person_a).exists())
    celery_worker(lambda: sum("succeeded" in line for line in celery_worker.output) >= 2)
    assert PointsEntry.objects.filter(person=person_a).count() == 1
    assert services.award_points_for_activity(activity) == 0
