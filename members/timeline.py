from django.utils.translation import gettext as _

from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission


@timeline_provider
def development_entries(person, user, limit):
    if not has_permission(user, "development.view") and user.person_id != person.pk:
        return []
    return [
        TimelineEntry(r.reached_on, _("Development"), r.get_stage_display(), icon="flag", detail=r.note)
        for r in person.development.all()[:limit]
    ]


@timeline_provider
def points_entries(person, user, limit):
    if not has_permission(user, "points.view"):
        return []
    return [
        TimelineEntry(p.awarded_on, _("Points"), f"{p.points:+d} {p.reason}", icon="star")
        for p in person.points.all()[:limit]
    ]
