from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Organisation and people")

    def ready(self) -> None:
        from celery.schedules import crontab

        from portal import schedule

        from . import audit, home, importers, menu, permissions, timeline  # noqa: F401  (registrations)
        from .hardship import home as _h, importers as _i, menu as _m, permissions as _p, timeline as _t  # noqa: F401
        from .partyorg import importers as _pi, menu as _pm, permissions as _pp, tasks as _pk, timeline as _pt  # noqa: F401

        schedule.register(
            "members-term-reminders", "members.partyorg.tasks.term_reminders", crontab(hour=8, minute=40),
            why="reminds branch and committee heads six months and one month before a branch term ends",
        )
