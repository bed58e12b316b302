"""A task for the worker-fault test (tests/portal/test_worker_faults.py), loaded into the test's
workers with `celery worker -I tests.portal.worker_tasks`."""
import os
import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task(name="tests.notify_then_wait")
def notify_then_wait(user_id: int, key: str, marker: str) -> None:
    """Records each execution (the worker's pid) in Redis, notifies once per key, then waits while
    the test holds `marker:hold` -- the moment the test kills the worker."""
    from portal.models import User
    from portal.notifications import notify

    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.rpush(marker, os.getpid())
    notify(User.objects.get(pk=user_id), title="任务已完成", key=key, email=False)
    while broker.get(f"{marker}:hold"):
        time.sleep(0.1)
    broker.rpush(f"{marker}:done", os.getpid())
