import csv

from django.core.management.base import BaseCommand, CommandError

from demands import text_services, textmodel


class Command(BaseCommand):
    help = ("Score the current demand text model on a labelled file: title,content,category (label or code), "
            "optionally urgency and tone. Prints accuracy, macro-F1 and a per-class table.")

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, file, **options):
        try:
            rows = textmodel.read_labelled_csv(open(file, "rb").read())
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"cannot read {file}: {error}") from error
        if not rows or not {"title", "category"} <= set(rows[0]):
            raise CommandError(f"{file} needs the columns title,content,category and at least one row")
        try:
            result = text_services.evaluate(rows)
        except text_services.NoModel as error:
            raise CommandError(str(error)) from error
        if result.unknown_categories:
            self.stderr.write("skipped rows of unknown categories: " + ", ".join(result.unknown_categories))
        if not result.category.size:
            raise CommandError("no row with a known category")
        scores = result.category
        self.stdout.write(f"rows: {scores.size}")
        self.stdout.write(f"accuracy: {scores.accuracy:.3f}")
        self.stdout.write(f"macro-F1: {scores.macro_f1:.3f}")
        if result.urgency_accuracy is not None:
            self.stdout.write(f"urgency accuracy: {result.urgency_accuracy:.3f}")
        if result.tone_accuracy is not None:
            self.stdout.write(f"tone accuracy: {result.tone_accuracy:.3f}")
        self.stdout.write(f"{'class':<12}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}")
        for label, precision, recall, f1, support in scores.per_class:
            self.stdout.write(f"{label:<12}{precision:>10.3f}{recall:>10.3f}{f1:>10.3f}{support:>9}")
