"""Notification e-mails go through a real Celery worker, exactly once."""
import pytest
from django.core import mail

from portal.models import Notification
from portal.notifications import notify
from portal.tasks import send_notification_email


@pytest.mark.celery_worker
def test_notification_email_is_sent_by_a_real_worker(celery_worker, owner):
    owner.email = "owner@example.com"
    owner.save()
    notification = notify(owner, title="请处理诉求", body="一件诉求即将到期", url="/demands/1/", key="k1")
    celery_worker(lambda: Notification.objects.filter(pk=notification.pk, emailed_at__isnull=False).exists())
    # The console e-mail backend of the worker printed the message.
    celery_worker(lambda: any("To: owner@example.com" in line for line in celery_worker.output), timeout=10)


def test_notify_is_idempotent_per_key(owner):
    assert notify(owner, title="A", key="same", email=False) is not None
    assert notify(owner, title="A", key="same", email=False) is None
    assert Notification.objects.filter(user=owner).count() == 1


def test_email_task_sends_at_most_once(owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    owner.email = "owner@example.com"
    owner.save()
    notification = notify(owner, title="B", key="b", email=False)
    assert send_notification_email(notification.pk) is True
    assert send_notification_email(notification.pk) is False
    assert len(mail.outbox) == 1
