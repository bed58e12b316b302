"""Pure rules: deadline colours of responsibility items, progress roll-up, the project lifecycle
and responsibility item transitions. No database access here, so they are easy to test."""
from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import ApprovalState, Colour, ItemStatus, ProjectAction, ProjectStage, RiskLevel

YELLOW_DAYS = 3  # 黄: three days or less left


def due_moment(deadline: datetime.date) -> datetime.datetime:
    """A date deadline d falls due at 00:00 local time on d + 1 (kpis.md, common rules)."""
    next_day = deadline + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min), timezone.get_default_timezone())


def deadline_colour(deadline: datetime.date | None, *, done: bool = False, now: datetime.datetime | None = None) -> str:
    """蓝 on track, 黄 when three days or less remain, 红 once the deadline has fallen due."""
    if done:
        return Colour.DONE
    if deadline is None:
        return Colour.BLUE
    now = now or timezone.now()
    if now >= due_moment(deadline):
        return Colour.RED
    today = timezone.localdate(now)
    if (deadline - today).days <= YELLOW_DAYS:
        return Colour.YELLOW
    return Colour.BLUE


def checkin_window(held_at: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """When QR check-in is open: from ACTIVITY_CHECKIN_OPENS_MINUTES before the start until the
    meeting ends, ACTIVITY_DURATION_MINUTES after the start (settings)."""
    from django.conf import settings

    opens = held_at - datetime.timedelta(minutes=settings.ACTIVITY_CHECKIN_OPENS_MINUTES)
    return opens, held_at + datetime.timedelta(minutes=settings.ACTIVITY_DURATION_MINUTES)


def has_been_held(status: str, held_at: datetime.datetime, now: datetime.datetime | None = None) -> bool:
    """Minutes and photos belong to a meeting that has taken place: marked held and started."""
    from .choices import ActivityStatus

    return status == ActivityStatus.HELD and held_at <= (now or timezone.now())


def colour_date_bounds(today: datetime.date) -> dict[str, tuple[datetime.date | None, datetime.date | None]]:
    """The same colours as date ranges on `deadline` for database filters (open items only):
    red: deadline < today; yellow: today ≤ deadline ≤ today + 3; blue: later or no deadline."""
    return {
        Colour.RED: (None, today - datetime.timedelta(days=1)),
        Colour.YELLOW: (today, today + datetime.timedelta(days=YELLOW_DAYS)),
        Colour.BLUE: (today + datetime.timedelta(days=YELLOW_DAYS + 1), None),
    }


def rollup_progress(children: Iterable[tuple[int, int]]) -> int | None:
    """A parent's progress from its children's (progress, weight): the weighted mean, rounded
    half up. None when there are no children (a leaf keeps its own progress)."""
    total = weight_sum = 0
    for progress, weight in children:
        total += progress * weight
        weight_sum += weight
    if not weight_sum:
        return None
    return int((total * 2 + weight_sum) // (weight_sum * 2))


# --- Responsibility items -----------------------------------------------------------------------
# status -> statuses it may move to
ITEM_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ItemStatus.IN_PROGRESS: (ItemStatus.SUBMITTED,),
    ItemStatus.RETURNED: (ItemStatus.SUBMITTED,),
    ItemStatus.SUBMITTED: (ItemStatus.APPROVED, ItemStatus.RETURNED),
    ItemStatus.APPROVED: (),
}


def item_may_move(current: str, target: str) -> bool:
    return target in ITEM_TRANSITIONS.get(current, ())


# Units that may supervise a responsibility item: the party committees and the functional and mass
# units (党群工作部 and the other departments, the union, the youth league, the women's committee),
# wherever they sit in the tree — not branches and party groups, which carry items themselves.
SUPERVISING_KINDS = ("committee", "general_branch", "department", "union", "league", "women")


def shift_years(day: datetime.date | None, years: int) -> datetime.date | None:
    """The same day `years` later (or earlier); 29 February becomes 28 February in a common year."""
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- Projects -----------------------------------------------------------------------------------
PROJECT_STAGE_ORDER = [ProjectStage.PROPOSAL, ProjectStage.PLANNING, ProjectStage.EXECUTION,
                       ProjectStage.EVALUATION, ProjectStage.CLOSED]

S, A, P = ProjectStage, ApprovalState, ProjectAction
# The project lifecycle as one table: (stage, approval state, action) → (stage, approval state).
# Every stage is submitted by the project's unit and approved or returned by a second person with
# approval reach over the unit (portal.separation); approving the closing evaluation closes it.
PROJECT_STEPS: dict[tuple[str, str, str], tuple[str, str]] = {}
for _stage, _next in zip(PROJECT_STAGE_ORDER, PROJECT_STAGE_ORDER[1:]):
    PROJECT_STEPS.update({
        (_stage, A.DRAFT, P.SUBMIT): (_stage, A.PENDING),
        (_stage, A.RETURNED, P.SUBMIT): (_stage, A.PENDING),
        (_stage, A.PENDING, P.APPROVE): (_next, A.DRAFT),
        (_stage, A.PENDING, P.RETURN): (_stage, A.RETURNED),
    })
del _stage, _next

# The permission each action needs (its reach over the project's unit is checked by portal.scope).
PROJECT_ACTION_PERMISSION = {P.SUBMIT: "projects.change", P.APPROVE: "projects.approve", P.RETURN: "projects.approve"}


def project_step(stage: str, approval: str, action: str) -> tuple[str, str] | None:
    """Where `action` takes a project, or None when it is not allowed in this state."""
    return PROJECT_STEPS.get((stage, approval, action))


def project_next_stage(stage: str) -> str | None:
    index = PROJECT_STAGE_ORDER.index(stage)
    return PROJECT_STAGE_ORDER[index + 1] if index + 1 < len(PROJECT_STAGE_ORDER) else None


def project_may_submit(stage: str, approval: str) -> bool:
    return project_step(stage, approval, P.SUBMIT) is not None


def project_may_decide(stage: str, approval: str) -> bool:
    return project_step(stage, approval, P.APPROVE) is not None


def closing_problems(*, milestones: Iterable[tuple[str, int, str]], budget, spent, overrun_reason: str,
                     risks: Iterable[tuple[str, str, bool, str]]) -> list[str]:
    """What stands in the way of closing a project, as messages for the page (empty: it may close).

    milestones: (title, progress, reason it is unfinished); risks: (description, level, open, reason
    it is accepted). Each unfinished milestone needs a reason, an overrun needs a reason, and every
    open high risk is closed or accepted with a reason."""
    problems = []
    for title, progress, reason in milestones:
        if progress < 100 and not (reason or "").strip():
            problems.append(_("Milestone “%(title)s” is at %(progress)s%%: give the reason it is unfinished.")
                            % {"title": title, "progress": progress})
    if spent > budget and not (overrun_reason or "").strip():
        problems.append(_("%(spent)s spent of a %(budget)s budget: acknowledge the overrun with a reason.")
                        % {"spent": f"{spent:,.2f}", "budget": f"{budget:,.2f}"})
    for description, level, is_open, reason in risks:
        if is_open and level == RiskLevel.HIGH and not (reason or "").strip():
            problems.append(_("The high risk “%(risk)s” is still open: close it or accept it with a reason.")
                            % {"risk": description})
    return problems
