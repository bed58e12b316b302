"""Rows keyed by their reference (`ref`): a new reference becomes a new record, a known one is
updated in the fields whose value changed, an unchanged one is only counted. One place for what
every ref-keyed import kind does with its rows (demands' mediation cases, life events and visits,
hardship households and assistance records)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .kinds import ImportResult, batched

READ_BATCH = 5000  # references per `ref IN (…)` query
WRITE_BATCH = 2000  # records per bulk_create / bulk_update statement


def existing_by_ref(model, refs: Iterable[str], *, only: Sequence[str] = ()) -> dict:
    """{ref: record} of the records of `model` whose reference is among `refs`, read in batches
    (with only the fields named, if any)."""
    found = {}
    for batch in batched(list(refs), READ_BATCH):
        queryset = model.objects.filter(ref__in=batch)
        if only:
            queryset = queryset.only("pk", "ref", *only)
        found.update({record.ref: record for record in queryset})
    return found


class RefUpsert:
    """Collects the rows of one file (put), then writes them in batches (save)."""

    def __init__(self, model):
        self.model = model
        self.to_create: list = []
        self.to_update: list = []
        self.changed_fields: set[str] = set()
        self.unchanged = 0

    def put(self, ref: str, current, data: dict) -> None:
        """The row of reference `ref` says `data`; `current` is its record, or None for a new one."""
        if current is None:
            self.to_create.append(self.model(ref=ref, **data))
            return
        changes = {name: value for name, value in data.items() if getattr(current, name) != value}
        if not changes:
            self.unchanged += 1
            return
        for name, value in changes.items():
            setattr(current, name, value)
        self.changed_fields.update(changes)
        self.to_update.append(current)

    def save(self, result: ImportResult, *, updates_first: bool = False,
             after_create: Callable[[list], None] | None = None) -> None:
        """Writes what was put and counts it in `result`. `updates_first`: when an updated record
        frees something a new one takes (a household leaving the register frees its person).
        `after_create(batch)`: what goes with each batch of new records, once they have their ids."""
        if updates_first:
            self._update()
        for batch in batched(self.to_create, WRITE_BATCH):
            self.model.objects.bulk_create(batch)
            if after_create is not None:
                after_create(batch)
        if not updates_first:
            self._update()
        result.created += len(self.to_create)
        result.updated += len(self.to_update)
        result.unchanged += self.unchanged

    def _update(self) -> None:
        if self.to_update:
            self.model.objects.bulk_update(self.to_update, sorted(self.changed_fields), batch_size=WRITE_BATCH)
