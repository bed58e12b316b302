"""Home page widgets: the work queues (staff, secretaries), what is assigned to me (handlers),
my demands (employees)."""
from django.utils import timezone

from portal.registry import home_widget
from portal.roles import has_permission
from portal.scope import visible

from . import selectors
from .choices import OPEN_STATUSES
from .sla import Sla
from .tables import deadline_badge


@home_widget("demands/widgets/queues.html", "demands.manage", order=30)
def work_queues(request):
    user = request.user
    limits = Sla.load().thresholds(timezone.now())
    counts = selectors.queue_counts(user, ("pending", "todo", "due_soon", "overdue", "to_visit"), limits=limits)
    due_visits = None
    if has_permission(user, "lifeevents.view"):
        from portal.generic import bounded_count

        due_visits = bounded_count(selectors.due_visits(user), limit=999)
    return {"counts": counts, "due_visits": due_visits}


@home_widget("demands/widgets/assigned.html", "demands.handle", order=31)
def assigned_to_me(request):
    user = request.user
    limits = Sla.load().thresholds(timezone.now())
    items = list(selectors.queue("todo", user, limits=limits)[:6])
    if not items and user.role != "handler":
        return None
    return {"items": [(d, deadline_badge(d, limits)) for d in items[:5]], "more": len(items) > 5}


@home_widget("demands/widgets/mine.html", "demands.submit", order=32)
def my_demands(request):
    user = request.user
    if not user.person_id:
        return None
    mine = selectors.my_demands(user)
    recent = list(mine[:5])
    if not recent and user.role != "employee":
        return None
    open_count = mine.filter(status__in=OPEN_STATUSES).order_by()[:100].count()
    to_rate = list(visible(mine.filter(status="resolved"), user, "demands.view")[:3])
    return {"recent": recent, "open_count": open_count, "to_rate": to_rate}
