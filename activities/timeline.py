from django.utils.translation import gettext as _

from portal.labels import choice_labels
from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission

from .choices import AttendanceStatus
from .models import Activity, Attendance


@timeline_provider
def attended_activities(person, user, limit):
    """Activities the person attended (present), newest first. One query."""
    if not has_permission(user, "activities.view") and user.person_id != person.pk:
        return []
    rows = (
        Attendance.objects.filter(person=person, status=AttendanceStatus.PRESENT)
        .select_related("activity").order_by("-activity__held_at")[:limit]
    )
    kind, labels = _("Activity"), choice_labels(Activity, "type")
    return [
        TimelineEntry(a.activity.held_at, kind, a.activity.title, url=a.activity.get_absolute_url(),
                      icon="calendar-check", detail=labels.get(a.activity.type, a.activity.type))
        for a in rows
    ]
