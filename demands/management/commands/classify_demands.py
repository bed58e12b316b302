import csv

from django.core.management.base import BaseCommand, CommandError

from demands import text_services, textmodel

OUT_COLUMNS = ["id", "category", "category_confidence", "urgency", "tone"]


class Command(BaseCommand):
    help = ("Classify demands with the current text model. IN.csv has id,title,content; OUT.csv gets "
            "id,category,category_confidence,urgency,tone (category by its label, urgency by code).")

    def add_arguments(self, parser):
        parser.add_argument("infile")
        parser.add_argument("outfile")

    def handle(self, infile, outfile, **options):
        try:
            rows = textmodel.read_labelled_csv(open(infile, "rb").read())
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"cannot read {infile}: {error}") from error
        if rows and "title" not in rows[0]:
            raise CommandError(f"{infile} has no title column (expected id,title,content)")
        try:
            result = text_services.classify(rows)
        except text_services.NoModel as error:
            raise CommandError(str(error)) from error
        with open(outfile, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=OUT_COLUMNS)
            writer.writeheader()
            writer.writerows(result)
        self.stdout.write(f"classified {len(result)} demands into {outfile}")
