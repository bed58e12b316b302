"""Heavy reads on a PostgreSQL streaming replica, everything else on the primary.

With `DATABASE_REPLICA_URL` set, settings add the database alias `replica` (a hot standby of the
primary) and this module routes:

* **Which requests.** A view opts in with `read_replica = True` on its class (or on the function),
  or — for a DRF viewset — `read_replica = ("list",)`, the actions whose reads go to the replica.
  The dashboards, drill-downs, reports, exports and the API's list reads do. Code outside a request
  (a Celery task, a command) opts in with `with replica_reads():`.
* **Writes** always go to the primary (`db_for_write`). A request that wrote — any POST/PUT/PATCH/
  DELETE, or a GET whose ORM saved something (an export's audit log) — reads from the primary for
  the rest of the request, and the answer sets the cookie `PIN_COOKIE` for
  `DATABASE_REPLICA_PIN_SECONDS`: the user's next pages read from the primary too, so they see
  what they just did although the replica may be a moment behind (read-your-writes). The cookie
  works across web hosts.
* **Transactions.** A read inside a transaction on the primary (`transaction.atomic()`) reads the
  primary: it must see the transaction's own writes.
* **Failure.** A replica that does not answer is skipped: the request reads the primary.
* **Lag.** `lag_seconds()` is how far the replica's data is behind; the pages that read from it
  show it ({% replica_lag %}, "数据延迟 3 秒").

Without `DATABASE_REPLICA_URL` nothing changes: there is no alias `replica` and every read goes to
`default`.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"
PIN_COOKIE = "db_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class _State:
    replica: bool = False  # this request (or block) may read from the replica
    wrote: bool = False  # it wrote: the rest of it reads from the primary


_state: contextvars.ContextVar[_State | None] = contextvars.ContextVar("portal_db_routing", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_alias() -> str:
    """The database the current code reads from."""
    state = _state.get()
    if state is None or not state.replica or state.wrote or not replica_configured():
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return REPLICA


def reading_from_replica() -> bool:
    return read_alias() == REPLICA


def read_connection():
    """The connection for raw SQL reads (`with read_connection().cursor() as cursor`)."""
    return connections[read_alias()]


def note_write() -> None:
    state = _state.get()
    if state is not None:
        state.wrote = True


@contextlib.contextmanager
def replica_reads(*, caught_up: bool = False):
    """Reads in this block go to the replica (when one is configured), until the block writes.

    `caught_up=True` (a task reading what another just committed, e.g. a report after the KPI
    computation): first wait until the replica has replayed everything the primary has committed
    now — `DATABASE_REPLICA_WAIT_SECONDS` at most, then read the primary instead."""
    use_replica = replica_configured() and replica_available() and (not caught_up or wait_for_replica())
    token = _state.set(_State(replica=use_replica))
    try:
        yield
    finally:
        _state.reset(token)


def wait_for_replica(timeout: float | None = None) -> bool:
    """Whether the replica has replayed the primary's WAL as of now (polled up to `timeout` seconds)."""
    timeout = settings.DATABASE_REPLICA_WAIT_SECONDS if timeout is None else timeout
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, true)", [target])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def replica_available() -> bool:
    """Whether the replica answers (connecting when needed). One that is down or unreachable sends
    the reads to the primary instead of failing the page; set `connect_timeout` in
    DATABASE_REPLICA_URL (e.g. `?connect_timeout=2`) so an unreachable host is given up quickly."""
    replica = connections[REPLICA]
    try:
        replica.close_if_health_check_failed()  # a kept connection to a replica that went away
        replica.ensure_connection()
        return True
    except DatabaseError as error:
        logger.warning("read replica unavailable, reading the primary: %s", error)
        return False


def lag_seconds() -> int | None:
    """Whole seconds the replica is behind the primary (0 when it has replayed all it received),
    None when reads do not come from a replica."""
    if not reading_from_replica():
        return None
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
            " THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
        )
        return max(0, int(cursor.fetchone()[0]))


class PrimaryReplicaRouter:
    """settings.DATABASE_ROUTERS: reads follow `read_alias()`, writes and migrations the primary."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        note_write()
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: an object read from one may point at one from the other.
        return {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA, None}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


def _streamed_within(state: _State, content):
    """`content`, each chunk produced with `state` as the routing state."""
    iterator = iter(content)
    while True:
        token = _state.set(state)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _state.reset(token)
        yield chunk


def view_reads_from_replica(view_func, request) -> bool:
    """The view's marker: `read_replica = True`; the DRF actions that may (`("list",)`); or a
    function of the request (the lists: only their exports, `?export=`)."""
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    marker = getattr(view_func, "read_replica", None) or getattr(view_class, "read_replica", False)
    if isinstance(marker, (tuple, list, set, frozenset)):
        actions = getattr(view_func, "actions", None) or {}
        return actions.get(request.method.lower()) in marker
    if callable(marker):
        return bool(marker(request))
    return bool(marker)


class ReplicaRoutingMiddleware:
    """Decides, before anything reads the database (the session, the account), where this request
    reads from; after the view, pins the browser to the primary when the request wrote. Placed
    right after SessionMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        state = _State(replica=self._may_use_replica(request))
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if response.streaming and state.replica and not response.is_async:
            # A streamed export reads its rows while the server sends them, after this returns.
            response.streaming_content = _streamed_within(state, response.streaming_content)
        if state.wrote or request.method not in SAFE_METHODS:
            response.set_cookie(PIN_COOKIE, "1", max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                                httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response

    @staticmethod
    def _may_use_replica(request) -> bool:
        if request.method not in SAFE_METHODS or request.COOKIES.get(PIN_COOKIE):
            return False
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return view_reads_from_replica(match.func, request) and replica_available()
