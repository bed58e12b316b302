from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "demands"
    verbose_name = _("Demands and visits")

    def ready(self) -> None:
        from celery.schedules import crontab

        from portal import schedule

        from django.db.models.signals import post_delete, post_save

        from . import home, importers, menu, permissions, text_services, timeline  # noqa: F401  (registrations)
        from .models import DemandCategory

        # Suggestions keep the categories in memory until one changes.
        post_save.connect(text_services.categories_changed, sender=DemandCategory, dispatch_uid="text-categories-saved")
        post_delete.connect(text_services.categories_changed, sender=DemandCategory, dispatch_uid="text-categories-deleted")

        schedule.register(
            "demands-sla-sweep", "demands.tasks.sla_sweep", crontab(minute="*/10"),
            why="marks demands 即将到期 (yellow) / 已超期 (red), notifies handlers and unit heads, escalates (督办) overdue ones",
        )
        schedule.register(
            "demands-chain-checkpoints", "demands.tasks.sign_chain_checkpoints", crontab(hour=1, minute=30),
            why="signs the head of every demand timeline that grew (HMAC with CHAIN_SIGNING_KEY); verify_demand_chains checks them",
        )
        schedule.register(
            "demands-visit-reminders", "demands.tasks.visit_reminders", crontab(hour=8, minute=0),
            why="reminds unit heads of 五必访 visits due within two days or overdue",
        )
        schedule.register(
            "demands-train-text-model", "demands.tasks.train_demand_model", crontab(hour=2, minute=30),
            why="retrains the demand text model (suggested category, urgency, lead unit) from the day's classified demands",
        )
        schedule.register(
            "demands-hot-topics", "demands.tasks.hot_topics", crontab(hour=3, minute=0),
            why="clusters the month's demands into 热点诉求 per unit (the manager's home page card); never on page load",
        )
        schedule.register(
            "demands-priority-list", "demands.tasks.compute_priority_list", crontab(minute=15),
            why="ranks the open demands into the stored 服务优先级清单 (the SLA time left changes by the hour); never on page load",
        )
        schedule.register(
            "demands-heat-map", "demands.tasks.heat_map", crontab(hour=3, minute=30),
            why="counts the month's visits into the stored 需求热力图 (units × categories); never on page load",
        )
