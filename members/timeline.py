from django.utils.translation import gettext as _

from portal.labels import choice_labels
from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission

from .models import DevelopmentRecord


@timeline_provider
def development_entries(person, user, limit):
    if not has_permission(user, "development.view") and user.person_id != person.pk:
        return []
    kind, labels = _("Development"), choice_labels(DevelopmentRecord, "stage")
    return [TimelineEntry(r.reached_on, kind, labels.get(r.stage, r.stage), icon="flag", detail=r.note)
            for r in person.development.all()[:limit]]


@timeline_provider
def points_entries(person, user, limit):
    if not has_permission(user, "points.view"):
        return []
    kind = _("Points")
    return [TimelineEntry(p.awarded_on, kind, f"{p.points:+d} {p.reason}", icon="star") for p in person.points.all()[:limit]]
