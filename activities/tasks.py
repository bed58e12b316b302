"""Celery entry points: thin, take ids, idempotent (points and notifications carry unique keys)."""
from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import ActivityStatus, ItemStatus


@shared_task(acks_late=True)
def award_activity_points(activity_id: int) -> int:
    from . import services
    from .models import Activity

    activity = Activity.objects.filter(pk=activity_id, status=ActivityStatus.HELD).first()
    if activity is None:
        return 0
    return services.award_points_for_activity(activity)


@shared_task(acks_late=True)
def notify_activity_participants(activity_id: int) -> int:
    from . import services
    from .models import Activity

    activity = Activity.objects.filter(pk=activity_id).exclude(status=ActivityStatus.CANCELLED).first()
    return services.notify_participants(activity) if activity else 0


def _notify_once(user, *, title, url, key, existing: set[tuple[int, str]]) -> int:
    from portal.notifications import notify

    if (user.pk, key) in existing:
        return 0
    return notify(user, title=title[:200], url=url, key=key) is not None


@shared_task(acks_late=True)
def responsibility_sweep(today: str | None = None) -> int:
    """Yellow (≤ 3 days left) and red (overdue) items: notify the responsible person's account and,
    when red, the heads of the lead unit (portal.recipients: the nearest unit up with a secretary or
    staff member), once per item, deadline and colour."""
    from portal.models import Notification, User
    from portal.recipients import Recipients

    from .models import ResponsibilityItem
    from .workflow import YELLOW_DAYS

    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    items = list(
        ResponsibilityItem.objects.exclude(status=ItemStatus.APPROVED)
        .filter(deadline__isnull=False, deadline__lte=day + datetime.timedelta(days=YELLOW_DAYS))
        .select_related("lead_org_unit").order_by("deadline", "id")[:20000]
    )
    if not items:
        return 0
    heads = Recipients()
    accounts = {u.person_id: u for u in User.objects.filter(person_id__in={i.responsible_id for i in items}, is_active=True)}
    keys = set()
    plan = []
    for item in items:
        colour = "red" if item.deadline < day else "yellow"
        key = f"item-{colour}:{item.pk}:{item.deadline:%Y%m%d}"
        if colour == "red":
            title = _("Overdue: %(title)s (deadline %(d)s)") % {"title": item.title, "d": item.deadline}
        else:
            title = _("Due soon: %(title)s (deadline %(d)s)") % {"title": item.title, "d": item.deadline}
        recipients = [accounts[item.responsible_id]] if item.responsible_id in accounts else []
        if colour == "red":
            recipients += heads.nearest(item.lead_org_unit).users
        for user in recipients:
            plan.append((user, title, item.get_absolute_url(), key))
            keys.add(key)
    existing = set(Notification.objects.filter(key__in=keys).values_list("user_id", "key"))
    return sum(_notify_once(u, title=t, url=url, key=k, existing=existing) for u, t, url, k in plan)


REMINDER_DAYS = 7


@shared_task(acks_late=True)
def meeting_reminders(now: str | None = None) -> int:
    """三会一课 windows that close within REMINDER_DAYS and have no held meeting yet: remind the
    heads of the branch (portal.recipients: its secretary, or the nearest unit up with a secretary
    or staff member), once per branch, type and window."""
    from django.urls import reverse

    from members.choices import OrgKind
    from members.models import OrgUnit
    from portal import robots
    from portal.models import Notification, RobotKind
    from portal.recipients import Recipients

    from . import compliance
    from .choices import ActivityType, CellState
    from .meeting_summary import held_months

    moment = datetime.datetime.fromisoformat(now) if now else timezone.now()
    local = timezone.localtime(moment)
    windows = [w for w in compliance.windows_ending_in(compliance.month_start(local.year, local.month),
                                                      compliance.month_end(local.year, local.month))
               if w.start <= moment < w.end <= moment + datetime.timedelta(days=REMINDER_DAYS)]
    if not windows:
        return 0
    earliest = min(w.start for w in windows)
    branches = {b.pk: b for b in OrgUnit.objects.filter(kind=OrgKind.BRANCH)}
    held = held_months(branches, earliest, max(w.end for w in windows))
    heads = Recipients()
    group_robots = robots.RobotDirectory(RobotKind.MEETING)
    plan, keys = [], set()
    for branch in branches.values():
        for window in windows:
            if compliance.window_state(window, held.get(branch.pk, {}), moment) != CellState.DUE:
                continue
            key = f"meeting-due:{branch.pk}:{window.type}:{timezone.localtime(window.start):%Y%m}"

            def reminder(branch=branch, window=window):
                return _("%(branch)s: no %(type)s held yet; the window closes on %(end)s") % {
                    "branch": branch.name, "type": ActivityType(window.type).label,
                    "end": (timezone.localtime(window.end) - datetime.timedelta(days=1)).date()}, ""

            title = reminder()[0]
            for user in heads.nearest(branch).users:
                plan.append((user, title, reverse("activities:compliance"), key))
                keys.add(key)
            robots.announce(RobotKind.MEETING, unit=branch, key=key, url=reverse("activities:compliance"),
                            compose=reminder, directory=group_robots)
    existing = set(Notification.objects.filter(key__in=keys).values_list("user_id", "key"))
    return sum(_notify_once(u, title=t, url=url, key=k, existing=existing) for u, t, url, k in plan)
