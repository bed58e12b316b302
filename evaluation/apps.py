from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        from . import home, menu, permissions, signals  # noqa: F401  (registrations)
        from .tasks import register_schedule

        signals.connect()
        register_schedule()
