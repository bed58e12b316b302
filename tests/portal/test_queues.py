"""Celery's two queues with real workers: an "interactive" and a "heavy" worker (as they would run
on different hosts) on a Redis the test starts; each task is taken by the worker of its queue
(settings.CELERY_TASK_ROUTES, docs/operations.md)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from evaluation.periods import Period
from portal.celery import app
from tests.portal import engines

@pytest.fixture(scope="module")
def broker():
    try:
        server = engines.start_redis()
    except engines.Missing as missing:
        pytest.skip(str(missing))
    yield f"redis://127.0.0.1:{server.port}/0"
    server.stop()


class Worker:
    def __init__(self, queue: str, broker_url: str):
        db = connection.settings_dict
        env = {**os.environ, "CELERY_BROKER_URL": broker_url, "EMAIL_URL": "consolemail://", "CONN_MAX_AGE": "0",
               "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                               f"{db['PORT'] or 5432}/{db['NAME']}"}
        self.name = f"{queue}@test"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-Q", queue, "-n", self.name,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(settings.BASE_DIR),
        )
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_for(predicate, what: str, workers, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}:\n" + "\n---\n".join(w.output()[-3000:] for w in workers))
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_each_task_is_taken_by_the_worker_of_its_queue(broker):
    from evaluation.tasks import compute_kpis, generate_report
    from portal.tasks import send_notification_email

    interactive, heavy = Worker(settings.PORTAL_QUEUE_INTERACTIVE, broker), Worker(settings.PORTAL_QUEUE_HEAVY, broker)
    workers = (interactive, heavy)
    try:
        wait_for(lambda: all("ready." in w.output() for w in workers), "the workers did not start", workers)
        month = Period.containing(timezone.now(), "month").key
        with app.connection_for_write(broker) as conn:
            sent = {
                "interactive": [send_notification_email.apply_async((0,), connection=conn).id],
                "heavy": [compute_kpis.apply_async(([month],), connection=conn).id,
                          generate_report.apply_async((0,), connection=conn).id],
            }
        every = [task_id for ids in sent.values() for task_id in ids]
        wait_for(lambda: all(f"[{task_id}] succeeded" in interactive.output() + heavy.output() for task_id in every),
                 "the tasks did not finish", workers)
        for worker, queue in ((interactive, "interactive"), (heavy, "heavy")):
            assert f"{worker.name} ready." in worker.output()
            other = heavy if worker is interactive else interactive
            for task_id in sent[queue]:
                assert f"[{task_id}] succeeded" in worker.output()
                assert task_id not in other.output()
    finally:
        for worker in workers:
            worker.stop()


def test_routes_put_long_work_on_the_heavy_queue_and_a_plain_worker_takes_both():
    def queue_of(name):
        return app.amqp.router.route({}, name)["queue"].name

    heavy, interactive = settings.PORTAL_QUEUE_HEAVY, settings.PORTAL_QUEUE_INTERACTIVE
    assert {queue_of(n) for n in ("evaluation.compute_kpis", "evaluation.recompute_touched",
                                  "evaluation.monthly_reports", "evaluation.generate_report",
                                  "demands.train_similarity_model", "portal.preview_import",
                                  "portal.apply_import")} == {heavy}
    assert {queue_of(n) for n in ("portal.tasks.send_notification_email", "demands.tasks.sla_sweep",
                                  "activities.tasks.meeting_reminders")} == {interactive}
    assert {queue.name for queue in app.conf.task_queues} == {interactive, heavy}  # what a worker without -Q takes
