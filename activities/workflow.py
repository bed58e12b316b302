"""Pure rules: deadline colours of responsibility items, progress roll-up, the project lifecycle
and responsibility item transitions. No database access here, so they are easy to test."""
from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.utils import timezone

from .choices import ApprovalState, Colour, ItemStatus, ProjectStage

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


# --- Projects -----------------------------------------------------------------------------------
PROJECT_STAGE_ORDER = [ProjectStage.PROPOSAL, ProjectStage.PLANNING, ProjectStage.EXECUTION,
                       ProjectStage.EVALUATION, ProjectStage.CLOSED]


def project_next_stage(stage: str) -> str | None:
    index = PROJECT_STAGE_ORDER.index(stage)
    return PROJECT_STAGE_ORDER[index + 1] if index + 1 < len(PROJECT_STAGE_ORDER) else None


def project_may_submit(stage: str, approval: str) -> bool:
    return stage != ProjectStage.CLOSED and approval in (ApprovalState.DRAFT, ApprovalState.RETURNED)


def project_may_decide(stage: str, approval: str) -> bool:
    return stage != ProjectStage.CLOSED and approval == ApprovalState.PENDING
