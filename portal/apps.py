from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from . import importers, menu  # noqa: F401  (registrations)
        from .safetext import install_form_and_api_cleaning

        install_form_and_api_cleaning()
        from .filters import install_datetime_check

        install_datetime_check()
