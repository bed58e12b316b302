"""Notifications in the portal and by e-mail. `notify` is idempotent per (user, key)."""
from __future__ import annotations

from django.db import IntegrityError, transaction

from .models import Notification


def notify(user, *, title: str, body: str = "", url: str = "", key: str | None = None, email: bool = True) -> Notification | None:
    """Create a notification (and send it by e-mail after the transaction commits).
    With a `key`, the same notification is never created or sent twice; returns None then."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(user=user, title=title, body=body, url=url, key=key)
    except IntegrityError:
        return None
    if email and user.email:
        from .tasks import send_notification_email

        transaction.on_commit(lambda: send_notification_email.delay(notification.pk))
    return notification
