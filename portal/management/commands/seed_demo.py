from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from portal import demo as portal_demo


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo organisation, people, accounts and history. Idempotent."

    def handle(self, **options):
        from members import demo as members_demo

        with transaction.atomic():
            seeded = members_demo.seed()
            accounts = portal_demo.seed(seeded["units"], seeded["people"])
            # Apps that have demo data of their own provide `<app>.demo.seed(seeded)`.
            for app in ("demands", "members.hardship", "activities", "evaluation"):
                try:
                    module = import_module(f"{app}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{app}.demo":
                        raise
                    continue
                module.seed(seeded)
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Accounts (password %s):" % portal_demo.DEMO_PASSWORD))
        for username, role, description in accounts:
            self.stdout.write(f"  {username:<12} {role:<10} {description}")
