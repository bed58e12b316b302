"""The tamper-evident timeline: each DemandEvent stores the hash of the event before it.

    hash = sha256(prev_hash + canonical JSON of the event's fields)

The first event of a demand has prev_hash "". Changing any stored field, deleting an event or
inserting one breaks the chain from that event on; `verify_chains()` finds every broken chain.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# The fields that are hashed, in the order values_list() reads them for verification.
HASHED_FIELDS = ("demand_id", "seq", "action", "from_status", "to_status", "actor_id", "actor_label", "at", "note", "data")


def _moment(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(payload: dict) -> str:
    payload = dict(payload)
    payload["at"] = _moment(payload["at"])
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compute_hash(prev_hash: str, payload: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(payload)).encode("utf-8")).hexdigest()


def payload_of(event) -> dict:
    return {field: getattr(event, field) for field in HASHED_FIELDS}


def seal(event, prev_hash: str) -> None:
    """Set prev_hash and hash of an unsaved event."""
    event.prev_hash = prev_hash
    event.hash = compute_hash(prev_hash, payload_of(event))


@dataclass
class BrokenChain:
    demand_id: int
    ref: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.ref} (id {self.demand_id}), event #{self.seq}: {self.reason}"


def check_rows(rows: Iterable[tuple]) -> Iterator[tuple[int, int, str]]:
    """Rows are (id, prev_hash, hash, *HASHED_FIELDS) ordered by demand and seq. Yields
    (demand_id, seq, reason) for the first break of every broken chain."""
    current, expected_seq, prev, broken = None, 1, "", False
    for row in rows:
        _pk, prev_hash, stored_hash, *values = row
        payload = dict(zip(HASHED_FIELDS, values))
        demand_id, seq = payload["demand_id"], payload["seq"]
        if demand_id != current:
            current, expected_seq, prev, broken = demand_id, 1, "", False
        if broken:
            continue
        reason = None
        if seq != expected_seq:
            reason = f"event #{expected_seq} is missing" if seq > expected_seq else "duplicate event number"
        elif prev_hash != prev:
            reason = "prev_hash does not match the hash of the event before (an event was removed or replaced)"
        elif compute_hash(prev_hash, payload) != stored_hash:
            reason = "hash does not match the stored fields (the event was altered)"
        if reason:
            broken = True
            yield demand_id, seq, reason
            continue
        expected_seq, prev = seq + 1, stored_hash


def verify_chains(demand_ids: Iterable[int] | None = None) -> list[BrokenChain]:
    """Every broken chain (one entry per demand). Streams the events; constant memory."""
    from .models import Demand, DemandEvent

    events = DemandEvent.objects.order_by("demand_id", "seq")
    demands = Demand.objects.all()
    if demand_ids is not None:
        demand_ids = list(demand_ids)
        events, demands = events.filter(demand_id__in=demand_ids), demands.filter(pk__in=demand_ids)
    rows = events.values_list("id", "prev_hash", "hash", *HASHED_FIELDS).iterator(chunk_size=5000)
    found = list(check_rows(rows))
    refs = dict(Demand.objects.filter(pk__in=[d for d, _s, _r in found]).values_list("pk", "ref"))
    broken = [BrokenChain(d, refs.get(d, "?"), s, r) for d, s, r in found]
    # A demand whose events were all removed has no chain at all.
    for pk, ref in demands.filter(events__isnull=True).values_list("pk", "ref").iterator(chunk_size=5000):
        broken.append(BrokenChain(pk, ref, 1, "the demand has no events"))
    return sorted(broken, key=lambda b: b.demand_id)
