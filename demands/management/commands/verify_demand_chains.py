from django.core.management.base import BaseCommand

from demands.chain import verify_chains


class Command(BaseCommand):
    help = "Verify the hash chain of every demand's timeline; print every broken chain and exit 1 if any."

    def handle(self, **options):
        from demands.models import Demand

        broken = verify_chains()
        for item in broken:
            self.stderr.write(f"BROKEN {item}")
        total = Demand.objects.count()
        if broken:
            self.stderr.write(f"{len(broken)} of {total} demand timelines are broken.")
            raise SystemExit(1)
        self.stdout.write(f"All {total} demand timelines are intact.")
