"""The person page timeline: the person's demands (as submitter), visits and life events.
One query per provider, at most `limit` rows, each through the scope layer."""
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.labels import choice_labels
from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission
from portal.scope import visible

from .models import Demand, LifeEvent, Visit


@timeline_provider
def demand_entries(person, user, limit):
    if not has_permission(user, "demands.view"):
        return []
    demands = (visible(Demand.objects.filter(submitter=person), user, "demands.view").order_by("-received_at")
               .only("pk", "ref", "title", "status", "received_at")[:limit])
    kind = _("Demand")
    return [
        TimelineEntry(timezone.localtime(d.received_at), kind, f"{d.ref} {d.title}", url=d.get_absolute_url(),
                      icon="chat-left-text", detail=d.get_status_display())
        for d in demands
    ]


@timeline_provider
def visit_entries(person, user, limit):
    if not has_permission(user, "visits.view"):
        return []
    visits = visible(Visit.objects.filter(person=person), user, "visits.view").select_related("visitor")[:limit]
    kind, labels = _("Visit"), choice_labels(Visit, "kind")
    return [
        TimelineEntry(v.visited_on, kind, f"{labels.get(v.kind, v.kind)} · {v.visitor.name}", url=v.get_absolute_url(),
                      icon="geo-alt", detail=v.notes[:80])
        for v in visits
    ]


@timeline_provider
def life_event_entries(person, user, limit):
    if not has_permission(user, "lifeevents.view"):
        return []
    events = visible(LifeEvent.objects.filter(person=person), user, "lifeevents.view")[:limit]
    kind, labels, due = _("Life event"), choice_labels(LifeEvent, "kind"), _("visit due by %(date)s")
    return [
        TimelineEntry(e.event_date, kind, labels.get(e.kind, e.kind), url=e.get_absolute_url(), icon="heart",
                      detail=due % {"date": f"{e.visit_due_on:%Y-%m-%d}"})
        for e in events
    ]
