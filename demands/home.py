"""Home page widgets: the work queues (staff, secretaries), what is assigned to me (handlers),
my demands (employees). Whatever the role and the data, the widgets make three queries together:
the warning thresholds (the calendar), every count, every short list — each read once per request."""
from portal.batch import bounded_counts, once_per_request, short_lists
from portal.registry import home_widget
from portal.roles import has_permission
from portal.scope import visible

from . import selectors
from .choices import OPEN_STATUSES
from .sla import DEADLINE_FIELDS, current_thresholds
from .tables import deadline_badge

QUEUE_TILES = ("pending", "todo", "due_soon", "overdue", "to_visit")
ASSIGNED_SHOWN = 5
RECENT_SHOWN = 5
TO_RATE_SHOWN = 3
# What the short lists show (title, status, the deadline badge): no related record, so the one
# UNION ALL query of the lists joins nothing (planning it with every join cost ~10 ms).
LIST_FIELDS = ("ref", "title", "received_at", "deadline_unconfirmed", *DEADLINE_FIELDS)


def thresholds(request):
    return once_per_request(request, "demands.thresholds", current_thresholds)


def demand_counts(request) -> dict[str, tuple[int, bool]]:
    """Every count the widgets of this user show, bounded: the work queues, the due visits, my open
    demands."""

    def load():
        user, querysets = request.user, {}
        if has_permission(user, "demands.manage"):
            querysets.update(selectors.queue_querysets(user, QUEUE_TILES, limits=thresholds(request)))
            if has_permission(user, "lifeevents.view"):
                querysets["due_visits"] = selectors.due_visits(user)
        if has_permission(user, "demands.submit") and user.person_id:
            querysets["my_open"] = selectors.my_demands(user).filter(status__in=OPEN_STATUSES)
        return bounded_counts(querysets, limit=selectors.QUEUE_COUNT_LIMIT)

    return once_per_request(request, "demands.counts", load)


def demand_lists(request) -> dict[str, list]:
    """The short lists the widgets of this user show: my to-do (one more than shown, to know if
    there are more), my latest demands and those of them waiting for my rating."""

    def load():
        user, parts = request.user, {}
        if has_permission(user, "demands.handle"):
            parts["todo"] = (selectors.queue("todo", user, limits=thresholds(request)), ASSIGNED_SHOWN + 1)
        if has_permission(user, "demands.submit") and user.person_id:
            mine = selectors.my_demands(user)
            parts["recent"] = (mine, RECENT_SHOWN)
            parts["to_rate"] = (visible(mine.filter(status="resolved"), user, "demands.view"), TO_RATE_SHOWN)
        return short_lists({name: (queryset.select_related(None).only(*LIST_FIELDS), limit)
                            for name, (queryset, limit) in parts.items()})

    return once_per_request(request, "demands.lists", load)


@home_widget("demands/widgets/queues.html", "demands.manage", order=30)
def work_queues(request):
    counts = demand_counts(request)
    return {"counts": {name: counts[name] for name in QUEUE_TILES if name in counts},
            "due_visits": counts.get("due_visits")}


@home_widget("demands/widgets/assigned.html", "demands.handle", order=31)
def assigned_to_me(request):
    user = request.user
    items = demand_lists(request)["todo"]
    if not items and user.role != "handler":
        return None
    limits = thresholds(request)
    return {"items": [(d, deadline_badge(d, limits)) for d in items[:ASSIGNED_SHOWN]], "more": len(items) > ASSIGNED_SHOWN}


@home_widget("demands/widgets/mine.html", "demands.submit", order=32)
def my_demands(request):
    user = request.user
    if not user.person_id:
        return None
    recent = demand_lists(request)["recent"]
    if not recent and user.role != "employee":
        return None
    open_count, _more = demand_counts(request)["my_open"]
    return {"recent": recent, "open_count": open_count, "to_rate": demand_lists(request)["to_rate"]}


@home_widget("demands/widgets/calendar_warning.html", "demands.configure", order=1)
def calendar_warning(request):
    """From 1 October until next year's official calendar is loaded, the administrator is warned:
    deadlines reaching into it would count 元旦 and 春节 as working days."""
    from .workcalendar import calendar_status

    state = calendar_status()
    return state if state["next_year_missing"] else None


HOT_TOPICS_SHOWN = 5


@home_widget("demands/widgets/hot_topics.html", "demands.queue", order=34)
def hot_topics(request):
    """热点诉求 of the latest computed month for the highest unit in the user's scope (managers,
    staff, secretaries). Read from HotTopic: nothing is computed on page load."""
    from .models import HotTopic

    topics = visible(HotTopic.objects.select_related("org_unit"), request.user, "demands.queue")
    latest = topics.order_by("-period", "org_unit__depth", "org_unit__path").values_list("period", "org_unit__depth", "org_unit_id").first()
    if latest is None:
        return None
    period, _depth, unit_id = latest
    return {"period": period, "topics": list(topics.filter(period=period, org_unit_id=unit_id).order_by("rank")[:HOT_TOPICS_SHOWN])}
