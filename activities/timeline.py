from django.utils.translation import gettext as _

from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission

from .choices import AttendanceStatus
from .models import Attendance


@timeline_provider
def attended_activities(person, user, limit):
    """Activities the person attended (present), newest first. One query."""
    if not has_permission(user, "activities.view") and user.person_id != person.pk:
        return []
    rows = (
        Attendance.objects.filter(person=person, status=AttendanceStatus.PRESENT)
        .select_related("activity").order_by("-activity__held_at")[:limit]
    )
    return [
        TimelineEntry(a.activity.held_at, _("Activity"), a.activity.title, url=a.activity.get_absolute_url(),
                      icon="calendar-check", detail=a.activity.get_type_display())
        for a in rows
    ]
