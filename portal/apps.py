from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from celery.schedules import crontab

        from . import menu  # noqa: F401  (registrations)
        from . import schedule

        schedule.register(
            "portal-import-sweep", "portal.tasks.import_sweep", crontab(minute=40),
            why="marks failed the import batches whose job lost its worker, so their page does not say 'importing' for ever",
        )
        from .safetext import install_form_and_api_cleaning

        install_form_and_api_cleaning()
        from .filters import install_datetime_check

        install_datetime_check()
