import time

from django.core.management.base import BaseCommand, CommandError

from demands import heatmap, hot_topics, priority


class Command(BaseCommand):
    help = ("Compute now what the beat computes: the hot topics and the heat map of a month (default: the current "
            "one) and the service priority list. Prints what was stored and how long each took.")

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM (hot topics and heat map)")
        parser.add_argument("--only", choices=["hot-topics", "priority", "heat-map"], action="append")

    def handle(self, period=None, only=None, **options):
        if period:
            try:
                hot_topics.month_bounds(period)
            except ValueError as error:
                raise CommandError("give the period as YYYY-MM") from error
        parts = only or ["hot-topics", "priority", "heat-map"]
        jobs = {"hot-topics": lambda: f"{hot_topics.compute(period)} hot topics",
                "priority": lambda: f"{priority.compute()} open demands ranked",
                "heat-map": lambda: f"{heatmap.compute(period)} visits counted"}
        for part in parts:
            started, cpu = time.perf_counter(), time.process_time()
            result = jobs[part]()
            self.stdout.write(f"{part}: {result} ({time.perf_counter() - started:.1f} s, "
                              f"{time.process_time() - cpu:.1f} s CPU in this process)")
