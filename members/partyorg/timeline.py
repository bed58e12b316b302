from django.utils.translation import gettext as _

from portal.labels import choice_labels
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
    kind, labels = _("Membership transfer"), choice_labels(Transfer, "kind")
    return [
        TimelineEntry(t.completed_on, kind, f"{labels.get(t.kind, t.kind)}：{t.from_name} → {t.to_name}",
                      icon="arrow-left-right", url=t.get_absolute_url())
        for t in transfers.select_related("from_unit", "to_unit")[:limit]
    ]


@timeline_provider
def mobile_entries(person, user, limit):
    if not has_permission(user, "mobile.view"):
        return []
    periods = visible(MobileMember.objects.filter(person=person), user, "mobile.view")[:limit]
    kind, until = _("Mobile member"), _("until %(date)s")
    return [
        TimelineEntry(p.started_on, kind, f"{p.place} · {p.work_unit}", icon="geo-alt",
                      detail=until % {"date": p.ended_on.isoformat()} if p.ended_on else "")
        for p in periods
    ]
