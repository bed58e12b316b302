from django.utils.translation import gettext as _

from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission
from portal.scope import visible

from .choices import TransferStatus
from .models import MobileMember, Transfer


@timeline_provider
def transfer_entries(person, user, limit):
    if not has_permission(user, "transfers.view"):
        return []
    transfers = visible(Transfer.objects.filter(person=person, status=TransferStatus.COMPLETED, completed_on__isnull=False),
                        user, "transfers.view")
    return [
        TimelineEntry(t.completed_on, _("Membership transfer"), f"{t.get_kind_display()}：{t.from_name} → {t.to_name}",
                      icon="arrow-left-right", url=t.get_absolute_url())
        for t in transfers.select_related("from_unit", "to_unit")[:limit]
    ]


@timeline_provider
def mobile_entries(person, user, limit):
    if not has_permission(user, "mobile.view"):
        return []
    periods = visible(MobileMember.objects.filter(person=person), user, "mobile.view")[:limit]
    return [
        TimelineEntry(p.started_on, _("Mobile member"), f"{p.place} · {p.work_unit}", icon="geo-alt",
                      detail=_("until %(date)s") % {"date": p.ended_on.isoformat()} if p.ended_on else "")
        for p in periods
    ]
