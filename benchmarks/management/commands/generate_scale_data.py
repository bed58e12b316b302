"""manage.py generate_scale_data — fill a database of its own with a large, realistic group company
for load tests: 5,000 org units, 100,000 people, 1,000,000 demands with their timelines, 100,000
activities with 2,000,000 attendance rows, 50,000 responsibility items, 20,000 mediation cases,
life events and visits, over the last three years (at --scale 1), and one account per role:

    createdb portal_scale
    DATABASE_URL=postgres://…/portal_scale python manage.py migrate
    DATABASE_URL=postgres://…/portal_scale python manage.py generate_scale_data [--scale 0.1] [--seed 2]

The same --seed, --scale, --years and --until on an empty database give the same rows. See
benchmarks/scale/ and docs/performance.md ("Scale data").
"""
from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from benchmarks import scale
from portal.roles import Role


def _moment(value: str) -> datetime.datetime:
    from evaluation.periods import parse_moment

    try:
        return parse_moment(value)
    except ValueError as error:
        raise CommandError(f"--until: {error}") from None


class Command(BaseCommand):
    help = "Generate a large, realistic data set (1,000,000 demands at --scale 1) on a database of its own."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0,
                            help="1 = 1,000,000 demands and the rest in proportion; 0.01 for a quick one")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data (default 1)")
        parser.add_argument("--years", type=float, default=3.0, help="the data spans this many years (default 3)")
        parser.add_argument("--until", help="the data's 'now' (ISO date or datetime, Asia/Shanghai); default: now")
        parser.add_argument("--password", default=scale.DEFAULT_PASSWORD,
                            help=f"password of every generated account (default {scale.DEFAULT_PASSWORD})")
        parser.add_argument("--no-kpis", action="store_true", help="do not compute the KPI snapshots afterwards")
        parser.add_argument("--force", action="store_true",
                            help="add a data set although the database already holds demands or scale data")

    def handle(self, *args, **o):
        if o["scale"] <= 0 or o["years"] <= 0:
            raise CommandError("--scale and --years must be positive.")
        problem = scale.existing_data()
        if problem and not o["force"]:
            raise CommandError(
                f"This database is not empty: {problem}. Generate scale data on a database of its own "
                "(createdb, then migrate), or pass --force to add another data set to it (with another --seed)."
            )
        until = _moment(o["until"]) if o["until"] else timezone.now()
        start = until - datetime.timedelta(days=round(365.25 * o["years"]))
        sizes = scale.Sizes.at(o["scale"], years=o["years"])
        self.stdout.write(f"Generating scale data (seed {o['seed']}, {start:%Y-%m-%d} to {until:%Y-%m-%d %H:%M}); "
                          f"load average {scale.load_average()}")
        try:
            result = scale.generate(sizes=sizes, seed=o["seed"], start=start, until=until, password=o["password"],
                                    kpis=not o["no_kpis"], kpi_as_of_now=not o["until"], echo=self.stdout.write)
        except scale.ScaleError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Done in {result.seconds:.1f} s (load average now {scale.load_average()}).")
        self.stdout.write("Accounts for the benchmark (password as given by --password):")
        for role in Role:
            username = result.bench.get(f"bench_{_short(role)}")
            if username:
                self.stdout.write(f"  {username:<20} {role.label}")


def _short(role: Role) -> str:
    return {"branch_secretary": "secretary"}.get(role.value, role.value)
