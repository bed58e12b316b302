import datetime

from django.utils import timezone

from portal.registry import home_widget
from portal.roles import has_permission
from portal.scope import visible

from . import selectors
from .choices import ActivityType, ItemStatus
from .models import ResponsibilityItem


@home_widget("activities/widgets/secretary.html", "tasks.approve", order=30)
def secretary_widget(request):
    user = request.user
    return {
        "pending": selectors.pending_approvals(user, limit=5),
        "red": selectors.red_items(user, permission="tasks.approve", limit=5),
        "meetings_due": [(branch, ActivityType(type_).label, end) for branch, type_, end in
                         selectors.meetings_due_this_month(user)[:8]]
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
    user = request.user
    items = visible(ResponsibilityItem.objects.exclude(status=ItemStatus.APPROVED), user, "tasks.view")
    if user.person_id:
        items = items.filter(responsible_id=user.person_id)
    else:
        return None
    return {"items": list(items.select_related("lead_org_unit").order_by("deadline", "id")[:8])}
