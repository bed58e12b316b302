from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Organisation and people")

    def ready(self) -> None:
        from celery.schedules import crontab

        from portal import schedule

        from . import home, importers, menu, permissions, timeline  # noqa: F401  (registrations)
        from .partyorg import importers as _i, menu as _m, permissions as _p, tasks as _k, timeline as _t  # noqa: F401

        schedule.register(
            "members-term-reminders", "members.partyorg.tasks.term_reminders", crontab(hour=8, minute=40),
            why="reminds branch and committee heads six months and one month before a branch term ends",
        )
