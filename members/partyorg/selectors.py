"""Reads for transfers, mobile members and terms: the database forms of the rules in workflow.py,
used by the lists, filters and the reminder sweep (scope is applied by the list views)."""
from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from .choices import OPEN_TRANSFER_STATUSES
from .models import BranchTerm


def open_transfer_q() -> Q:
    """Transfers still under way (draft to approved): the pending list, the one-open-per-person rule."""
    return Q(status__in=OPEN_TRANSFER_STATUSES)


def current_mobile_q(today: datetime.date, prefix: str = "") -> Q:
    """Periods under way on `today` (workflow.period_is_current, as a database filter)."""
    return Q(**{f"{prefix}started_on__lte": today}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gte": today}))


def overdue_term_q(today: datetime.date) -> Q:
    """Open terms whose end has come without a recorded election (workflow.is_overdue)."""
    return Q(closed_on__isnull=True, ends_on__lte=today)


def terms_ending_between(start: datetime.date, end: datetime.date) -> QuerySet:
    """Open terms ending in [start, end] (the reminder sweep; not a page, no scope)."""
    return BranchTerm.objects.filter(closed_on__isnull=True, ends_on__gte=start, ends_on__lte=end)
