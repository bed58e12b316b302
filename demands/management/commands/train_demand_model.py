from django.core.management.base import BaseCommand, CommandError

from demands import text_services


class Command(BaseCommand):
    help = ("Train the demand text model from this deployment's classified demands (the shipped corpus until "
            "there are enough), score it on a held-out split and promote it unless it scores worse than the "
            "current version. Prints the training size, held-out accuracy and macro-F1.")

    def handle(self, **options):
        try:
            row = text_services.train(note="train_demand_model")
        except text_services.NoModel as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"version: {row.version}")
        self.stdout.write(f"source: {row.source}")
        self.stdout.write(f"training size: {row.training_size}")
        self.stdout.write(f"held-out size: {row.heldout_size}")
        self.stdout.write(f"held-out accuracy: {row.accuracy:.3f}")
        self.stdout.write(f"held-out macro-F1: {row.macro_f1:.3f}")
        if row.previous_macro_f1 is not None:
            self.stdout.write(f"current version on the same split: macro-F1 {row.previous_macro_f1:.3f}")
        self.stdout.write(f"training time: {row.duration_ms / 1000:.1f} s")
        self.stdout.write("promoted" if row.is_current else f"not promoted: {row.note}")
