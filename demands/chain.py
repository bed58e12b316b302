"""The tamper-evident timeline: each DemandEvent stores the hash of the event before it.

    hash = sha256(prev_hash + canonical JSON of the event's fields)

The first event of a demand has prev_hash "". The demand keeps the hash of its latest event
(`chain_head`) and its status must be the latest event's `to_status`. So changing any stored field
of an event, deleting, inserting or re-sealing events, cutting events off the end, or changing the
demand's status without an event breaks the chain; `verify_chains()` finds every broken one.

The chain is unkeyed: it shows accidental or partial changes, but someone who can write to the
database can rewrite an event and recompute every later hash and the chain head. Signed
checkpoints close that gap: every day, the head of every chain that grew is signed with an HMAC
key that is not in the database (settings.CHAIN_SIGNING_KEY); `verify_checkpoints()` reports a
demand whose event at a signed position no longer has the signed hash (rewritten after the
checkpoint) and any checkpoint whose signature does not match (forged or altered).
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

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


def check_events(rows: list[tuple]) -> tuple[int, str] | None:
    """Rows of one demand: (prev_hash, hash, *HASHED_FIELDS) ordered by seq. The first break as
    (seq, reason), or None."""
    expected_seq, prev = 1, ""
    for prev_hash, stored_hash, *values in rows:
        payload = dict(zip(HASHED_FIELDS, values))
        seq = payload["seq"]
        if seq != expected_seq:
            return expected_seq, (f"event #{expected_seq} is missing" if seq > expected_seq else "duplicate event number")
        if prev_hash != prev:
            return seq, "prev_hash does not match the hash of the event before (an event was removed or replaced)"
        if compute_hash(prev_hash, payload) != stored_hash:
            return seq, "hash does not match the stored fields (the event was altered)"
        expected_seq, prev = seq + 1, stored_hash
    return None


def check_demand(demand: tuple, rows: list[tuple]) -> tuple[int, str] | None:
    """`demand` is (id, ref, chain_head, status)."""
    if not rows:
        return 1, "the demand has no events"
    problem = check_events(rows)
    if problem:
        return problem
    last_hash, last = rows[-1][1], dict(zip(HASHED_FIELDS, rows[-1][2:]))
    if last_hash != demand[2]:
        return last["seq"] + 1, "the chain head does not match the last event (events were removed from the end)"
    if last["to_status"] != demand[3]:
        return last["seq"], f"the demand's status “{demand[3]}” is not the one the last event recorded (“{last['to_status']}”)"
    return None


def check_loaded(demand, events: list) -> tuple[int, str] | None:
    """The first break of one demand's chain from its already loaded events (ordered by seq), for
    the demand page: one chain is cheap to check on every render."""
    rows = [(e.prev_hash, e.hash, *(getattr(e, field) for field in HASHED_FIELDS)) for e in events]
    return check_demand((demand.pk, demand.ref, demand.chain_head, demand.status), rows)


def verify_chains(demand_ids: Iterable[int] | None = None) -> list[BrokenChain]:
    """Every broken chain (one entry per demand). Streams demands and events side by side in id
    order (two indexed scans), so memory stays constant at millions of events."""
    from .models import Demand, DemandEvent

    demands = Demand.objects.order_by("pk")
    events = DemandEvent.objects.order_by("demand_id", "seq")
    if demand_ids is not None:
        demand_ids = list(demand_ids)
        demands, events = demands.filter(pk__in=demand_ids), events.filter(demand_id__in=demand_ids)
    demand_rows = demands.values_list("pk", "ref", "chain_head", "status").iterator(chunk_size=5000)
    event_rows = events.values_list("prev_hash", "hash", *HASHED_FIELDS).iterator(chunk_size=5000)
    grouped: Iterator = groupby(event_rows, key=lambda row: row[2])  # row[2] is demand_id
    current = next(grouped, None)
    broken = []
    for demand in demand_rows:
        while current is not None and current[0] < demand[0]:
            current = next(grouped, None)  # events of a demand outside the selection cannot exist (FK)
        rows = list(current[1]) if current is not None and current[0] == demand[0] else []
        if rows:
            current = next(grouped, None)
        problem = check_demand(demand, rows)
        if problem:
            broken.append(BrokenChain(demand[0], demand[1], problem[0], problem[1]))
    return broken


# --- Signed checkpoints ---------------------------------------------------------------------------
CHECKPOINT_SALT = "demands.chain.checkpoint"


def signing_key() -> bytes:
    """CHAIN_SIGNING_KEY, or a key derived from SECRET_KEY with this purpose's own salt."""
    from django.conf import settings
    from django.utils.crypto import salted_hmac

    if settings.CHAIN_SIGNING_KEY:
        return settings.CHAIN_SIGNING_KEY.encode("utf-8")
    return salted_hmac(CHECKPOINT_SALT, "chain-signing-key", secret=settings.SECRET_KEY, algorithm="sha256").digest()


def checkpoint_signature(demand_id: int, seq: int, head: str, signed_at: datetime.datetime, key: bytes | None = None) -> str:
    message = f"{demand_id}:{seq}:{head}:{_moment(signed_at)}".encode("utf-8")
    return hmac.new(key or signing_key(), message, hashlib.sha256).hexdigest()


def write_checkpoints(now: datetime.datetime | None = None) -> int:
    """Sign the last event of every chain not yet signed at that position. Idempotent: a second
    run the same day (or a redelivered task) signs nothing twice (unique demand + seq)."""
    from django.db import connection
    from django.utils import timezone

    from .models import ChainCheckpoint

    now = now or timezone.now()
    key = signing_key()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT last.demand_id, last.seq, last.hash FROM (
                SELECT DISTINCT ON (demand_id) demand_id, seq, hash FROM demands_demandevent
                ORDER BY demand_id, seq DESC
            ) last
            WHERE NOT EXISTS (SELECT 1 FROM demands_chaincheckpoint c
                              WHERE c.demand_id = last.demand_id AND c.seq = last.seq)
            """
        )
        rows = cursor.fetchall()
    ChainCheckpoint.objects.bulk_create(
        [ChainCheckpoint(demand_id=d, seq=seq, head=head, signed_at=now,
                         signature=checkpoint_signature(d, seq, head, now, key)) for d, seq, head in rows],
        batch_size=5000, ignore_conflicts=True,
    )
    return len(rows)


def verify_checkpoints() -> list[BrokenChain]:
    """Every demand whose chain no longer matches a signed checkpoint (one entry per demand, the
    earliest position), and every checkpoint with a wrong signature."""
    from django.db import connection
    from django.utils import timezone

    key = signing_key()
    broken: dict[int, BrokenChain] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.demand_id, d.ref, c.seq, c.head, c.signed_at, c.signature, e.hash
            FROM demands_chaincheckpoint c
            JOIN demands_demand d ON d.id = c.demand_id
            LEFT JOIN demands_demandevent e ON e.demand_id = c.demand_id AND e.seq = c.seq
            ORDER BY c.demand_id, c.seq
            """
        )
        for demand_id, ref, seq, head, signed_at, signature, current in cursor:
            if demand_id in broken:
                continue
            day = timezone.localtime(signed_at).strftime("%Y-%m-%d %H:%M")
            if not hmac.compare_digest(signature, checkpoint_signature(demand_id, seq, head, signed_at, key)):
                reason = f"the checkpoint signed {day} has a wrong signature (altered or forged without the key)"
            elif current is None:
                reason = f"the event signed in the checkpoint of {day} is missing (rewritten after the checkpoint)"
            elif current != head:
                reason = f"the event differs from the checkpoint signed {day} (the chain was rewritten after the checkpoint)"
            else:
                continue
            broken[demand_id] = BrokenChain(demand_id, ref, seq, reason)
    return list(broken.values())
