from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from .models import Notification


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    """Send one notification by e-mail, at most once: the row is claimed before sending."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.email:
        return False
    body = notification.body
    if notification.url:
        body = f"{body}\n\n{settings.PORTAL_BASE_URL.rstrip('/')}{notification.url}"
    send_mail(notification.title, body.strip(), settings.DEFAULT_FROM_EMAIL, [notification.user.email])
    return True


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_robot_message(self, delivery_id: int) -> bool:
    """Post one group-robot message (portal.robots.deliver); transient failures come back with
    growing pauses (30 s, 1, 2, 4 min …) until the delivery's attempts run out."""
    from . import robots

    outcome = robots.deliver(delivery_id)
    if outcome.retry:
        raise self.retry(countdown=min(30 * 2 ** self.request.retries, 3600))
    return outcome.sent


@shared_task(name="portal.preview_import", acks_late=True)
def preview_import(batch_id: int) -> bool:
    """Check an uploaded import file (portal/dataexchange/batches.py); once per batch."""
    from .dataexchange.batches import batch_preview

    return batch_preview(batch_id)


@shared_task(name="portal.apply_import", acks_late=True)
def apply_import(batch_id: int) -> bool:
    """Write a confirmed import file; once per batch."""
    from .dataexchange.batches import batch_apply

    return batch_apply(batch_id)


@shared_task(acks_late=True)
def import_sweep() -> int:
    """Marks failed the import batches whose job lost its worker (portal/dataexchange/batches.py)."""
    from .dataexchange.batches import batch_sweep_stale

    return batch_sweep_stale()
