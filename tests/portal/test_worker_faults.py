"""Background work survives a killed worker: with acks_late and a short broker visibility timeout,
a task whose worker's main process is SIGKILLed mid-task is delivered again to the next worker and
done once more -- exactly once more -- and its notification (keyed, once-only) is not doubled."""
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from portal.celery import app
from portal.models import Notification
from tests.conftest import make_user

VISIBILITY_TIMEOUT = 2  # seconds, for the test's workers only (settings: BROKER_VISIBILITY_TIMEOUT)


def start_worker(queue: str):
    db = connection.settings_dict
    host = db["HOST"] or ""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=(f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host.replace('/', '%2F')}:{db['PORT'] or 5432}/{db['NAME']}"
                      if host else f"postgres://{db['USER']}@/{db['NAME']}"),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL, REDIS_URL=settings.REDIS_URL, EMAIL_URL="consolemail://",
        CONN_MAX_AGE="0", CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-Q", queue,
         "-I", "tests.portal.worker_tasks", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(settings.BASE_DIR),
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    wait_for(lambda: any("ready." in line for line in lines) or process.poll() is not None, lines, 90)
    assert process.poll() is None, "".join(lines)
    return process, lines


def wait_for(predicate, lines, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time; worker output:\n" + "".join(lines[-40:]))


def stop(process) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.django_db(transaction=True)
def test_a_task_of_a_killed_worker_is_redone_once_without_a_second_notification(tree):
    user = make_user("employee", tree.group_a, username="waiting")
    user.email = ""
    user.save()
    broker = redis.Redis.from_url(settings.REDIS_URL)
    queue, marker = f"test-{uuid.uuid4().hex[:8]}", f"test-runs-{uuid.uuid4().hex[:8]}"
    broker.set(f"{marker}:hold", "1")
    first, first_lines = start_worker(queue)
    second = None
    try:
        app.send_task("tests.notify_then_wait", args=[user.pk, f"done:{marker}", marker], queue=queue)
        # Mid-task: it has run and notified, and is still working.
        wait_for(lambda: broker.llen(marker) == 1, first_lines)
        wait_for(lambda: Notification.objects.filter(user=user).count() == 1, first_lines)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=15)
        broker.delete(f"{marker}:hold")

        second, second_lines = start_worker(queue)
        # The message was never acknowledged: after the visibility timeout it is delivered again.
        wait_for(lambda: broker.llen(f"{marker}:done") == 1, second_lines)
        runs = [int(pid) for pid in broker.lrange(marker, 0, -1)]
        assert runs[0] == first.pid and runs[1] == second.pid and len(runs) == 2
        # Done now and acknowledged: later sweeps for abandoned messages find nothing to redo.
        time.sleep(VISIBILITY_TIMEOUT * 3)
        assert broker.llen(marker) == 2 and broker.llen(f"{marker}:done") == 1
        assert Notification.objects.filter(user=user).count() == 1
    finally:
        broker.delete(f"{marker}:hold")
        for process in (first, second):
            if process is not None:
                stop(process)
        broker.delete(marker, f"{marker}:done")
