import datetime

from django.utils import timezone

from portal.batch import once_per_request, short_lists
from portal.registry import home_widget
from portal.roles import has_permission

from . import selectors
from .choices import ActivityType

PENDING_SHOWN = 5
RED_SHOWN = 5
MY_ITEMS_SHOWN = 8
MEETINGS_DUE_SHOWN = 8


def item_lists(request) -> dict[str, list]:
    """The responsibility items the widgets of this user show, in one query for all of them."""

    def load():
        user, parts = request.user, {}
        if has_permission(user, "tasks.approve"):
            parts["pending"] = (selectors.pending_approvals_queryset(user), PENDING_SHOWN)
            parts["red"] = (selectors.red_items_queryset(user, permission="tasks.approve"), RED_SHOWN)
        if has_permission(user, "tasks.progress") and user.person_id:
            parts["mine"] = (selectors.my_open_items_queryset(user), MY_ITEMS_SHOWN)
        return short_lists(parts)

    return once_per_request(request, "activities.items", load)


@home_widget("activities/widgets/secretary.html", "tasks.approve", order=30)
def secretary_widget(request):
    user = request.user
    items = item_lists(request)
    return {
        "pending": items["pending"],
        "red": items["red"],
        "meetings_due": [(branch, ActivityType(type_).label, end) for branch, type_, end in
                         selectors.meetings_due_this_month(user, limit=MEETINGS_DUE_SHOWN)]
        if has_permission(user, "activities.compliance") else [],
    }


@home_widget("activities/widgets/upcoming.html", "activities.checkin", order=25)
def upcoming_widget(request):
    if not request.user.person_id:
        return None
    from .models import Activity

    upcoming = list(
        Activity.objects.filter(attendances__person_id=request.user.person_id, status="planned",
                                held_at__gte=timezone.now() - datetime.timedelta(hours=12))
        .select_related("org_unit").order_by("held_at")[:5]
    )
    return {"upcoming": upcoming}


@home_widget("activities/widgets/my_items.html", "tasks.progress", order=28)
def my_items_widget(request):
    if not request.user.person_id:
        return None
    return {"items": item_lists(request)["mine"]}
