import csv

from django.core.management.base import BaseCommand, CommandError

from demands import text_services, textmodel


class Command(BaseCommand):
    help = ("Score the current demand text model on a labelled file: title,content,category (label or code), "
            "optionally urgency and tone. Prints accuracy, macro-F1 and a per-class table.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--train", metavar="HISTORY.csv",
            help="instead of the current model, score one trained (and not stored) as the nightly training would on "
                 "this labelled history (title,content,category): 80 %% of it plus the shipped corpus, e.g. "
                 "demands/textdata/history.csv",
        )

    def handle(self, file, train=None, **options):
        try:
            rows = textmodel.read_labelled_csv(open(file, "rb").read())
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"cannot read {file}: {error}") from error
        if not rows or not {"title", "category"} <= set(rows[0]):
            raise CommandError(f"{file} needs the columns title,content,category and at least one row")
        model = None
        if train:
            try:
                history = text_services.history_from_rows(textmodel.read_labelled_csv(open(train, "rb").read()))
            except (OSError, UnicodeDecodeError, csv.Error) as error:
                raise CommandError(f"cannot read {train}: {error}") from error
            if len(set(history.labels)) < 2:
                raise CommandError(f"{train} needs labelled rows of at least two active categories")
            fitted = text_services.fit_and_score(history)
            model = fitted.model
            self.stdout.write(f"trained on {fitted.training_size} rows ({len(history.labels)} of {train} less its held-out "
                              f"{len(fitted.heldout_labels)}, plus the corpus); its own held-out macro-F1: "
                              f"{fitted.scores.macro_f1:.3f}")
        try:
            result = text_services.evaluate(rows, model=model)
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
