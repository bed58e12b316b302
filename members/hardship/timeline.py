"""The person page's timeline: the household's steps and the assistance given, in one query."""
from django.db.models import CharField, DecimalField, F, Value
from django.utils.translation import gettext as _

from portal.cached_urls import id_url
from portal.labels import choice_labels
from portal.numbers import fixed
from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission
from portal.scope import visible

from .models import AssistanceRecord, HouseholdEvent
from .workflow import EVENT_LABELS

STEP, AID = "step", "aid"
COLUMNS = ("day", "entry", "what", "amount", "text", "household_id", "household_ref")


@timeline_provider
def hardship_entries(person, user, limit):
    if not has_permission(user, "hardship.view"):
        return []
    money = DecimalField(max_digits=12, decimal_places=2)
    steps = visible(HouseholdEvent.objects.filter(household__person=person), user, "hardship.view").annotate(
        day=F("on"), entry=Value(STEP, output_field=CharField()), what=F("action"),
        amount=Value(None, output_field=money), text=F("note"), household_ref=F("household__ref"),
    ).values_list(*COLUMNS)
    aid = visible(AssistanceRecord.objects.filter(household__person=person), user, "hardship.view").annotate(
        day=F("given_on"), entry=Value(AID, output_field=CharField()), what=F("kind"), text=F("service"),
        household_ref=F("household__ref"),
    ).values_list("day", "entry", "what", "amount", "text", "household_id", "household_ref")
    kinds = choice_labels(AssistanceRecord, "kind")
    step_kind, aid_kind = _("Hardship assistance"), _("Assistance given")
    entries = []
    for day, entry, what, amount, text, household_id, ref in steps.union(aid, all=True).order_by("-day")[:limit]:
        url = id_url("members:hardship_detail", household_id)
        if entry == STEP:
            entries.append(TimelineEntry(day, step_kind, f"{EVENT_LABELS.get(what, what)} {ref}", url=url,
                                         icon="house-heart", detail=text))
        else:
            shown = f"¥{fixed(amount, 2)}" if amount is not None else text
            entries.append(TimelineEntry(day, aid_kind, f"{kinds.get(what, what)} {shown}", url=url,
                                         icon="cash-coin"))
    return entries
