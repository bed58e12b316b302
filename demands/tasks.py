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
