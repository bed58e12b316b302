"""Writes of the evaluation app: recompute hints, targets and manual values, campaigns, democratic
appraisal, PDCA actions, reports. Reads live in selectors.py; the KPI engine in engine.py."""
from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .periods import Period, touched_periods

logger = logging.getLogger(__name__)

# --- Debounced recompute after data changes ------------------------------------------------------
TOUCHED_KEY = "portal:evaluation:kpis:touched"
DEBOUNCE_KEY = "portal:evaluation:kpis:debounce"
# Changes arriving within this many seconds are computed together.
DEBOUNCE_SECONDS = 60


def redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def periods_touched(moments, *, cumulative: bool = False, now: datetime.datetime | None = None) -> set[Period]:
    """The periods (already begun) whose figures records stamped at `moments` can change."""
    now = now or timezone.now()
    periods: set[Period] = set()
    for moment in moments:
        if moment is None:
            continue
        periods |= touched_periods(moment, through_year_end=cumulative)
    return {p for p in periods if p.start <= now}


def kpis_touched(moments, *, cumulative: bool = False) -> set[Period]:
    """Tell the engine that records stamped at `moments` (datetimes or dates) changed. After the
    transaction commits, the periods are added to a Redis set and one recompute is scheduled
    DEBOUNCE_SECONDS later (a Redis key makes later calls join the pending one). Cheap: no
    computation here. Other apps' services may call this after bulk writes."""
    periods = periods_touched(moments, cumulative=cumulative)
    if periods and getattr(settings, "EVALUATION_RECOMPUTE_ON_CHANGE", True):
        keys = sorted(p.key for p in periods)
        transaction.on_commit(lambda: _schedule(keys))
    return periods


def _schedule(keys: list[str]) -> None:
    try:
        client = redis_client()
        client.sadd(TOUCHED_KEY, *keys)
        if client.set(DEBOUNCE_KEY, "1", nx=True, ex=DEBOUNCE_SECONDS * 5):
            from .tasks import recompute_touched

            recompute_touched.apply_async(countdown=DEBOUNCE_SECONDS)
    except Exception:  # the beat recomputes anyway; a hint must never break a save
        logger.exception("could not schedule a KPI recompute")


def pop_touched() -> list[str]:
    """Take the touched periods atomically (and let the next change schedule a new run)."""
    client = redis_client()
    pipe = client.pipeline(transaction=True)
    pipe.delete(DEBOUNCE_KEY)
    pipe.smembers(TOUCHED_KEY)
    pipe.delete(TOUCHED_KEY)
    _, members, _ = pipe.execute()
    return sorted(m.decode() for m in members)


def restore_touched(keys: list[str]) -> None:
    if keys:
        redis_client().sadd(TOUCHED_KEY, *keys)
