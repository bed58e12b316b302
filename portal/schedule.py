"""The one beat schedule. Each app registers its periodic tasks in AppConfig.ready() with a reason:

    schedule.register("demands-sla-sweep", "demands.tasks.sla_sweep", crontab(minute="*/10"),
                      why="marks 即将到期/已超期 and escalates overdue demands")

django-celery-beat's DatabaseScheduler copies these entries into the database when beat starts,
where administrators can see and pause them.
"""
from __future__ import annotations

from django.conf import settings

REASONS: dict[str, str] = {}


def register(name: str, task: str, schedule, *, why: str, kwargs: dict | None = None) -> None:
    settings.CELERY_BEAT_SCHEDULE[name] = {"task": task, "schedule": schedule, "kwargs": kwargs or {}}
    REASONS[name] = why
