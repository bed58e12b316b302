from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities and responsibility lists")

    def ready(self) -> None:
        from celery.schedules import crontab

        from portal import schedule

        from . import home, importers, menu, permissions, timeline  # noqa: F401  (registrations)

        schedule.register(
            "activities-responsibility-sweep", "activities.tasks.responsibility_sweep", crontab(minute=10, hour="7"),
            why="notifies responsible people and secretaries of 责任清单 items that turned yellow or red",
        )
        schedule.register(
            "activities-meeting-reminders", "activities.tasks.meeting_reminders", crontab(minute=20, hour="8"),
            why="reminds branch secretaries of 三会一课 windows closing within a week without a held meeting",
        )
