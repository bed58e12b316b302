"""Rebuild the 三会一课 summary (activities.MeetingMonth) of every branch from the activities: after
a restore, a bulk load outside the importers, or a move of org units."""
from django.core.management.base import BaseCommand

from activities import meeting_summary


class Command(BaseCommand):
    help = "Rebuild the 三会一课 summary (counted meetings per branch, month and type) from the activities."

    def handle(self, *args, **options):
        rows = meeting_summary.refresh()
        self.stdout.write(f"{rows} rows")
