"""manage.py compute_kpis [--period P]... [--as-of DATETIME] (data-exchange.md)."""
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from evaluation import engine
from evaluation.choices import RunTrigger
from evaluation.periods import Period, maintained_periods, parse_moment


class Command(BaseCommand):
    help = ("Compute and store the KPI snapshots of every org unit, synchronously, with the code the Celery "
            "task runs. Without --period: the current and previous month, quarter and year.")

    def add_arguments(self, parser):
        parser.add_argument("--period", action="append", default=[], metavar="P",
                            help="YYYY-MM, YYYY-Qn or YYYY; may be repeated")
        parser.add_argument("--as-of", dest="as_of", metavar="DATETIME",
                            help="compute as of this moment (local time unless it carries an offset)")

    def handle(self, *args, period, as_of, **options):
        try:
            periods = sorted({Period.parse(p) for p in period}) or maintained_periods(timezone.now())
            moment = parse_moment(as_of) if as_of else None
        except ValueError as error:
            raise CommandError(str(error)) from None
        result = engine.compute(periods, as_of=moment, trigger=RunTrigger.COMMAND)
        run = result.run
        self.stdout.write(
            f"periods {' '.join(run.periods)}; as of {timezone.localtime(run.as_of).isoformat()}; "
            f"{result.rows_written} snapshot rows written in {result.seconds:.2f} s"
        )
