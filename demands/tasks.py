"""Celery entry points of the demands app: thin, idempotent, they call services."""
from celery import shared_task

from . import services


def periods_to_compute(period: str | None) -> list[str]:
    """The given month; else the current one, and on the 1st the month before too (its last day
    was not in yesterday night's run)."""
    from django.utils import timezone

    from .hot_topics import previous_period

    if period:
        return [period]
    today = timezone.localdate()
    current = today.strftime("%Y-%m")
    return [previous_period(current), current] if today.day == 1 else [current]


@shared_task(acks_late=True)
def sla_sweep() -> dict:
    """Beat, every ten minutes. Claims each demand's SLA flag before notifying, so a second run
    (or two workers at once) notifies nothing twice."""
    return services.sla_sweep()


@shared_task(acks_late=True)
def visit_reminders() -> int:
    """Beat, daily. Notification keys make it idempotent per life event and level."""
    return services.visit_reminders()


@shared_task(acks_late=True)
def sign_chain_checkpoints() -> int:
    """Beat, daily. Signs the head of every demand chain that grew (HMAC, key outside the
    database); idempotent per demand and position."""
    from .chain import write_checkpoints

    return write_checkpoints()


@shared_task(acks_late=True)
def train_demand_model(reason: str = "nightly") -> dict:
    """Beat, nightly; also queued after a large demands import. A version that scores worse than
    the current one is stored but not promoted (text_services.train)."""
    from . import text_services

    row = text_services.train(note=reason)
    return {"version": row.version, "macro_f1": row.macro_f1, "promoted": row.is_current}


@shared_task(acks_late=True)
def hot_topics(period: str | None = None) -> int:
    """Beat, nightly (and the month before on the 1st): recomputes 热点诉求 into HotTopic."""
    from . import hot_topics as topics

    return sum(topics.compute(p) for p in periods_to_compute(period))


@shared_task(acks_late=True)
def compute_priority_list() -> int:
    """Beat, hourly (the SLA time left changes), and queued after the weights change: recomputes
    the stored 服务优先级清单 (DemandPriority) whole, so a re-run only refreshes it."""
    from . import priority

    return priority.compute()


@shared_task(acks_late=True)
def heat_map(period: str | None = None) -> int:
    """Beat, nightly: recounts the month's 需求热力图 (VisitHeatCell) whole; idempotent."""
    from . import heatmap

    return sum(heatmap.compute(p) for p in periods_to_compute(period))
