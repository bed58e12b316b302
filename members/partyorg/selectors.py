"""Reads for transfers, mobile members and terms, always through the scope layer."""
from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from portal.scope import visible

from .choices import OPEN_TRANSFER_STATUSES
from .models import BranchTerm, MobileMember, Transfer


def pending_transfers(user) -> QuerySet:
    """Open transfers in the user's scope, oldest request first."""
    return visible(Transfer.objects.filter(status__in=OPEN_TRANSFER_STATUSES), user, "transfers.view").select_related(
        "person", "from_unit", "to_unit").order_by("requested_on", "id")


def current_mobile_q(today: datetime.date, prefix: str = "") -> Q:
    """Periods under way on `today` (workflow.period_is_current, as a database filter)."""
    return Q(**{f"{prefix}started_on__lte": today}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gte": today}))


def current_mobile_members(user, today: datetime.date) -> QuerySet:
    return visible(MobileMember.objects.filter(current_mobile_q(today)), user, "mobile.view").select_related(
        "person", "person__org_unit")


def overdue_terms(user, today: datetime.date) -> QuerySet:
    """Open terms whose end has passed without a recorded election (workflow.is_overdue)."""
    return visible(BranchTerm.objects.filter(closed_on__isnull=True, ends_on__lte=today), user, "terms.view").select_related(
        "unit").order_by("ends_on", "id")


def terms_ending_between(start: datetime.date, end: datetime.date) -> QuerySet:
    """Open terms ending in [start, end] (the reminder sweep; not a page, no scope)."""
    return BranchTerm.objects.filter(closed_on__isnull=True, ends_on__gte=start, ends_on__lte=end)
