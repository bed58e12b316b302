"""Celery entry points of the demands app: thin, idempotent, they call services."""
from celery import shared_task

from . import services


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

    return topics.compute(period)
