from django.core.management.base import BaseCommand

from demands.chain import verify_chains, verify_checkpoints


class Command(BaseCommand):
    help = (
        "Verify the hash chain of every demand's timeline and the signed daily checkpoints of the chain "
        "heads; print every broken chain and every demand rewritten after a checkpoint, exit 1 if any."
    )

    def handle(self, **options):
        from demands.models import ChainCheckpoint, Demand

        broken = verify_chains()
        for item in broken:
            self.stderr.write(f"BROKEN {item}")
        rewritten = verify_checkpoints()
        for item in rewritten:
            self.stderr.write(f"REWRITTEN {item}")
        total = Demand.objects.count()
        if broken:
            self.stderr.write(f"{len(broken)} of {total} demand timelines are broken.")
        if rewritten:
            self.stderr.write(f"{len(rewritten)} of {total} demand timelines do not match their signed checkpoints.")
        if broken or rewritten:
            raise SystemExit(1)
        self.stdout.write(
            f"All {total} demand timelines are intact; {ChainCheckpoint.objects.count()} signed checkpoints match."
        )
