"""What the generator makes: the sizes, the time window, the seed and the namespace."""
from __future__ import annotations

import dataclasses
import datetime
import random
from dataclasses import dataclass

from .bulk import epoch

# At --scale 1 (the sizes of issue 6). Periodic records (activities, attendance, responsibility
# items) are per three years: a window of one year gets a third of them.
FULL = {
    "units": 5_000, "people": 100_000, "demands": 1_000_000, "activities": 100_000, "attendance": 2_000_000,
    "items": 50_000, "mediations": 20_000, "life_events": 30_000, "visits": 60_000,
}
PERIODIC = ("activities", "attendance", "items")
REFERENCE_YEARS = 3
# Fewer units than this cannot hold the tree (root, a functional department, a general branch,
# one of its departments, a branch and a party group).
MIN_UNITS = 6
MIN_PEOPLE = 20


@dataclass(frozen=True)
class Sizes:
    units: int
    people: int
    demands: int
    activities: int
    attendance: int
    items: int
    mediations: int
    life_events: int
    visits: int

    @classmethod
    def at(cls, scale: float, years: float = REFERENCE_YEARS) -> Sizes:
        if scale <= 0:
            raise ValueError("the scale must be positive")
        values = {}
        for name, full in FULL.items():
            size = full * scale * (years / REFERENCE_YEARS if name in PERIODIC else 1)
            values[name] = max(1, round(size))
        values["units"] = max(MIN_UNITS, values["units"])
        values["people"] = max(MIN_PEOPLE, values["people"])
        return cls(**values)

    def replace(self, **changes) -> Sizes:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Plan:
    sizes: Sizes
    seed: int
    start: datetime.datetime  # aware; the first record
    until: datetime.datetime  # aware; "now" of the data: nothing happens after it
    password_hash: str

    @property
    def namespace(self) -> str:
        """Codes, employee numbers and usernames of this data set start with it."""
        return f"S{self.seed}"

    @property
    def root_code(self) -> str:
        return f"SCALE-{self.seed}"

    @property
    def start_s(self) -> int:
        return epoch(self.start)

    @property
    def until_s(self) -> int:
        return epoch(self.until)

    def rng(self, stream: str) -> random.Random:
        """An independent, reproducible random stream per part of the data."""
        return random.Random(f"{self.seed}:{stream}")
