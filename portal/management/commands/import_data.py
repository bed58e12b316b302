from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import dataexchange


class Command(BaseCommand):
    help = "Import a ledger file (xlsx or CSV) of KIND exactly per data-exchange.md; all or nothing."
    # The system checks (URLs, templates, models) say nothing about a data file and cost every
    # scripted import a second or two; migrate and the server run them.
    requires_system_checks: list[str] = []  # noqa: RUF012 — Django's attribute

    def add_arguments(self, parser):
        parser.add_argument("kind")
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, kind, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {file}")
        try:
            # A command runs one import and nothing else: the collector may rest meanwhile.
            with dataexchange.collector_paused():
                result = dataexchange.run_import(kind, path.read_bytes(), path.name, dry_run=dry_run)
        except KeyError as error:
            raise CommandError(error.args[0]) from None
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, column {error.column or '-'}: {error.message}")
            self.stderr.write(f"{len(result.errors)} problem(s); nothing was written.")
            raise SystemExit(1)
        prefix = "dry run: " if dry_run else ""
        self.stdout.write(
            f"{prefix}{kind}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
