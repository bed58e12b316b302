from django.utils.translation import gettext as _

from portal.numbers import fixed
from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission
from portal.scope import visible

from .models import AssistanceRecord, HouseholdEvent


@timeline_provider
def hardship_steps(person, user, limit):
    if not has_permission(user, "hardship.view"):
        return []
    steps = visible(HouseholdEvent.objects.filter(household__person=person), user, "hardship.view").select_related("household")
    return [
        TimelineEntry(s.on, _("Hardship assistance"), f"{s.label} {s.household.ref}", url=s.household.get_absolute_url(),
                      icon="house-heart", detail=s.note)
        for s in steps.order_by("-on", "-id")[:limit]
    ]


@timeline_provider
def hardship_assistance(person, user, limit):
    if not has_permission(user, "hardship.view"):
        return []
    records = visible(AssistanceRecord.objects.filter(household__person=person), user, "hardship.view")
    entries = []
    for r in records.order_by("-given_on", "-id")[:limit]:
        what = f"{r.get_kind_display()} ¥{fixed(r.amount, 2)}" if r.amount is not None else f"{r.get_kind_display()}：{r.service}"
        entries.append(TimelineEntry(r.given_on, _("Assistance given"), what, url=r.get_absolute_url(), icon="cash-coin"))
    return entries
