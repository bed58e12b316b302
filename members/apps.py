from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Organisation and people")

    def ready(self) -> None:
        from . import audit, home, importers, menu, permissions, timeline  # noqa: F401  (registrations)
        from .hardship import home as _h, importers as _i, menu as _m, permissions as _p, timeline as _t  # noqa: F401
