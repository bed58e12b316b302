from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import dataexchange
from portal.export import csv_rows, xlsx_bytes


class Command(BaseCommand):
    help = "Export KIND to FILE (.xlsx or .csv) in the import format, so it re-imports unchanged."

    def add_arguments(self, parser):
        parser.add_argument("kind")
        parser.add_argument("file")

    def handle(self, kind, file, **options):
        import csv

        try:
            header, rows = dataexchange.export_table(kind)
        except KeyError as error:
            raise CommandError(error.args[0]) from None
        path = Path(file)
        count = 0

        def counted(rows):
            nonlocal count
            for row in rows:
                count += 1
                yield row

        if path.suffix.lower() == ".xlsx":
            path.write_bytes(xlsx_bytes(header, counted(rows), sheet_title=kind))
        elif path.suffix.lower() == ".csv":
            with path.open("w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                writer.writerows(csv_rows(header, counted(rows)))
        else:
            raise CommandError("FILE must end in .xlsx or .csv")
        self.stdout.write(f"{kind}: {count} rows written to {path}")
