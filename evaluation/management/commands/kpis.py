"""manage.py kpis --period P [--org CODE] [--format csv|json] (data-exchange.md)."""
import csv
import json

from django.core.management.base import BaseCommand, CommandError

from evaluation.periods import Period
from evaluation.selectors import snapshot_rows
from members.models import OrgUnit
from portal.export import csv_rows

HEADER = ["org_code", "period", "kpi", "value", "numerator", "denominator", "as_of"]


class Command(BaseCommand):
    help = "Print the stored KPI snapshots of every org unit (or one) for a period."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, metavar="P", help="YYYY-MM, YYYY-Qn or YYYY")
        parser.add_argument("--org", metavar="CODE", help="only this org unit")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, period, org, format, **options):
        try:
            period = Period.parse(period)
        except ValueError as error:
            raise CommandError(str(error)) from None
        units = OrgUnit.objects.all()
        if org:
            units = units.filter(code=org)
            if not units.exists():
                raise CommandError(f"No org unit has the code {org!r}.")
        rows = snapshot_rows(period.key, units)
        if format == "json":
            # Numbers stay numbers: values are rounded to 4 decimals, empty is null.
            self.stdout.write(json.dumps([dict(zip(HEADER, row)) for row in rows], ensure_ascii=False, indent=1,
                                         default=float))
            return
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerows(csv_rows(HEADER, rows))
