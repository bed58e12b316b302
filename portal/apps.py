from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from . import importers, menu  # noqa: F401  (registrations)
        from . import tables2_speed

        tables2_speed.install()
