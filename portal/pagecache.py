"""The page cache: a read page a user asks for again is served from Redis, unless a table it read changed.

Why it is safe:

* **Invalidation is PostgreSQL's.** Every table carries two triggers (installed after each migrate,
  `install_triggers`) that add one to the table's *generation* the first time a transaction writes
  to it: insert, COPY, update, delete or truncate, whether the ORM, raw SQL, an import, a Celery
  task or psql did it. The generation lives in `portal_table_generation` (no Django model, so a
  test flush does not reset it) as the sum of shard rows, each writer taking an unlocked shard
  (`FOR UPDATE SKIP LOCKED`, a new one when all are taken): writers never wait for each other, and
  the sum changes exactly when the writing transaction commits, never before.
* **Dependencies are recorded, not declared.** A miss renders the page normally while every SQL
  statement is recorded; the tables named in them are the entry's dependencies, stored with their
  generations as read *before* the page's first query. A later request is a hit only if none of
  those generations moved (one small query). Content rendered after the generations were read is
  at least as new as they are, so a hit never shows a committed change the user could miss.
* **Per user.** The key holds the account (every column of the user row, its scope unit and its
  person, but not last_login), the session's contents, the language, the full path, the Accept and
  htmx headers and other cookies: nothing is shared between accounts, so no scope can leak.
* **Only plain reads are kept.** A render that wrote or locked anything (audit logs of a reveal,
  an export, a notification marked read), set a cookie, changed the session, queued or showed a
  message, or did not answer 200 with HTML or JSON is not stored. Requests inside a transaction
  (tests' atomic blocks) and with an Authorization header bypass the cache.
* **The clock.** Labels computed from the time (overdue, "today") come from no table: entries live
  `PAGE_CACHE_SECONDS` (60) at most and the date is in the key.
* **CSRF.** Tokens in a stored page are replaced by a placeholder and each hit gets a fresh one.

Views opt in with `page_cache = True` (the generic list and detail views, the home page, the
dashboard, the 三会一课 matrix, the API's reads).
"""
from __future__ import annotations

import contextlib
import hashlib
import re
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, connections
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import timezone, translation

from . import dbrouting

GENERATION_TABLE = "portal_table_generation"
# The generations themselves, and tables that no page reads: sessions (written at every log-in, read
# by the session middleware before any page) and migrate's own bookkeeping.
UNTRACKED_TABLES = frozenset({GENERATION_TABLE, "django_session", "django_migrations"})
TRIGGER_STATEMENT = "portal_generation_stmt"
TRIGGER_ROW = "portal_generation_row"

CREATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {GENERATION_TABLE} (
    id bigserial PRIMARY KEY,
    tbl text NOT NULL,
    n bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS {GENERATION_TABLE}_tbl ON {GENERATION_TABLE} (tbl);

-- Once per transaction and table (a transaction-local setting remembers it): add one to a shard of
-- the table's generation that no other open transaction holds, or start a new shard.
CREATE OR REPLACE FUNCTION portal_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    flag text := 'portal_generation.' || TG_TABLE_NAME;
    shard bigint;
BEGIN
    IF current_setting(flag, true) = '1' THEN
        RETURN NULL;
    END IF;
    SELECT id INTO shard FROM {GENERATION_TABLE} WHERE tbl = TG_TABLE_NAME
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF shard IS NULL THEN
        INSERT INTO {GENERATION_TABLE} (tbl, n) VALUES (TG_TABLE_NAME, 1);
    ELSE
        UPDATE {GENERATION_TABLE} SET n = n + 1 WHERE id = shard;
    END IF;
    PERFORM set_config(flag, '1', true);
    RETURN NULL;
END $$;
"""
DROP_SQL = f"DROP TABLE IF EXISTS {GENERATION_TABLE}; DROP FUNCTION IF EXISTS portal_bump_generation() CASCADE;"


def install_triggers(using_connection=None) -> int:
    """Put the two generation triggers on every table of the schema that lacks them (enabled ALWAYS,
    so a session in replica mode — the scale generator's bulk load — still bumps). Returns how many
    tables got them. Called after every migrate, so tables added later are covered."""
    conn = using_connection or connection
    with conn.cursor() as cursor:
        cursor.execute("SELECT to_regproc('portal_bump_generation') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
              AND NOT c.relname = ANY(%s)
              AND (SELECT count(*) FROM pg_trigger t
                   WHERE t.tgrelid = c.oid AND t.tgname = ANY(%s) AND t.tgenabled = 'A') < 2
            ORDER BY c.relname
            """,
            [sorted(UNTRACKED_TABLES), [TRIGGER_STATEMENT, TRIGGER_ROW]],
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            quoted = conn.ops.quote_name(table)
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRIGGER_STATEMENT} AFTER INSERT OR TRUNCATE ON {quoted} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION portal_bump_generation()"
            )
            # Row level for updates and deletes: a conditional UPDATE that claims nothing (the tasks'
            # idempotency) changes no row and must not throw away the pages that read the table.
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRIGGER_ROW} AFTER UPDATE OR DELETE ON {quoted} "
                f"FOR EACH ROW EXECUTE FUNCTION portal_bump_generation()"
            )
            cursor.execute(f"ALTER TABLE {quoted} ENABLE ALWAYS TRIGGER {TRIGGER_STATEMENT}, "
                           f"ENABLE ALWAYS TRIGGER {TRIGGER_ROW}")
    return len(tables)


def on_post_migrate(sender, using="default", **kwargs) -> None:
    install_triggers(connections[using])


def generations() -> dict[str, int]:
    """Every table's committed generation (tables never written since the triggers came: absent, 0),
    read from the database this request reads from: a page rendered from a replica that lags is
    stored with the replica's (older) generations, never with newer ones (portal/dbrouting.py)."""
    with dbrouting.read_connection().cursor() as cursor:
        cursor.execute(f"SELECT tbl, sum(n)::bigint FROM {GENERATION_TABLE} GROUP BY tbl")
        return dict(cursor.fetchall())


_this_request = threading.local()


def _request_begins(**kwargs) -> None:
    _this_request.active, _this_request.generations = True, None


def _request_ends(**kwargs) -> None:
    _this_request.active, _this_request.generations = False, None


request_started.connect(_request_begins, dispatch_uid="portal.pagecache.request_begins")
request_finished.connect(_request_ends, dispatch_uid="portal.pagecache.request_ends")


def request_generations() -> dict[str, int]:
    """The generations, read once per request by the first to ask: the account (portal.auth), then
    the page. Both ask before any query of the page and only compare them with what they stored,
    so the one read serves both (a hit is one query). Outside a request (a task, a command): fresh."""
    if not getattr(_this_request, "active", False):
        return generations()
    if _this_request.generations is None:
        _this_request.generations = generations()
    return _this_request.generations


# --- recording what a render read ------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
# Anything but a read: a write, a lock, a sequence draw. Conservative on purpose (a false alarm only
# means the page is not stored).
_NOT_A_READ = re.compile(r"\b(insert|update|delete|truncate|copy|nextval|setval|lock|notify)\b")
_table_names: frozenset[str] | None = None


def table_names() -> frozenset[str]:
    """Every model's table (auto-created many-to-many and history tables included), once per process."""
    global _table_names
    if _table_names is None:
        _table_names = frozenset(m._meta.db_table for m in apps.get_models(include_auto_created=True)
                                 if m._meta.db_table not in UNTRACKED_TABLES)
    return _table_names


def tables_named(sql: str) -> set[str]:
    """The model tables a statement names."""
    return set(table_names().intersection(_IDENTIFIER.findall(sql.lower())))


class Recorder:
    """A connection.execute_wrapper that notes the tables each statement names and any non-read.
    While a page renders, it is also the one `remembered` notes its tables with."""

    def __init__(self):
        self.tables: set[str] = set()
        self.wrote = False

    def __call__(self, execute, sql, params, many, context):
        text = sql.lower()
        if _NOT_A_READ.search(text) and not text.lstrip().startswith(("savepoint", "release savepoint")):
            self.wrote = True
        self.tables.update(tables_named(text))
        return execute(sql, params, many, context)


# --- values remembered per worker -------------------------------------------------------------------

class WorkerMemo:
    """Values one worker keeps while the tables they were read from are unchanged: the account of
    portal.auth, the figures of `remembered`. Callers use it outside transactions only
    (`caching_allowed`), like the page cache."""

    def __init__(self, limit: int):
        self.limit = limit
        self.entries: dict[object, tuple[tuple[int, ...], object]] = {}

    @staticmethod
    def stamp(tables) -> tuple[int, ...]:
        """The tables' generations now. Taken before the value is read and stored with it, so a write
        committed meanwhile makes the next request read it again."""
        current = request_generations()
        return tuple(current.get(table, 0) for table in tables)

    def get(self, key, stamp: tuple[int, ...]):
        entry = self.entries.get(key)
        return entry[1] if entry is not None and entry[0] == stamp else None

    def put(self, key, stamp: tuple[int, ...], value) -> None:
        if len(self.entries) >= self.limit:
            self.entries.clear()
        self.entries[key] = (stamp, value)


@dataclass(frozen=True)
class Remembered:
    """What `remembered` looked up: pass it to `remember` with the value once computed."""

    key: tuple
    tables: tuple[str, ...]
    stamp: tuple[int, ...] | None  # None: not to be stored (inside a transaction, or caching off)


_figures = WorkerMemo(limit=10_000)


def remembered(queryset) -> tuple[Remembered, object]:
    """(lookup, value) for the result of `queryset`'s SQL: the value this worker stored for the same
    statement and parameters while none of the tables it names has changed since, else None. Shared
    by every account whose query is the same statement with the same parameters: the figures are
    the query's, not the account's. A page being recorded counts those tables as read."""
    sql, params = queryset.query.sql_with_params()
    # Array parameters (an ArrayField lookup) come as lists: keyed as tuples.
    key = (sql, tuple(tuple(p) if isinstance(p, list) else p for p in params))
    tables = tuple(sorted(tables_named(sql)))
    recorder = getattr(_this_request, "recorder", None)
    if recorder is not None:
        recorder.tables.update(tables)
    if not caching_allowed():
        return Remembered(key, tables, None), None
    stamp = WorkerMemo.stamp(tables)
    return Remembered(key, tables, stamp), _figures.get(key, stamp)


def remember(lookup: Remembered, value) -> None:
    if lookup.stamp is not None:
        _figures.put(lookup.key, lookup.stamp, value)


# --- the key ---------------------------------------------------------------------------------------------

_build_id: str | None = None


def build_id() -> str:
    """The project's code, templates and translations (paths, sizes, times) and the pinned versions
    of everything else (requirements.lock): a deployment, an upgrade or an edit starts fresh keys."""
    global _build_id
    if _build_id is None and settings.PAGE_CACHE_BUILD_ID:
        # Several web hosts: their checkouts differ in file times, the release they run does not.
        _build_id = settings.PAGE_CACHE_BUILD_ID
    if _build_id is None:
        base = Path(settings.BASE_DIR)
        folders = {Path(a.path) for a in apps.get_app_configs()
                   if Path(a.path).is_relative_to(base) and not Path(a.path).is_relative_to(sys.prefix)}
        files = [base / "requirements.lock"]
        for folder in sorted(folders | {base / "templates", base / "locale"}):
            files += sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".html", ".mo"))
        digest = hashlib.blake2b(digest_size=8)
        for path in files:
            stat = path.stat() if path.exists() else None
            digest.update(f"{path}:{stat and stat.st_size}:{stat and stat.st_mtime_ns};".encode())
        _build_id = digest.hexdigest()
    return _build_id


def _row(obj) -> tuple:
    return tuple((f.attname, getattr(obj, f.attname, None)) for f in obj._meta.concrete_fields if f.attname != "last_login")


def account_fingerprint(user) -> tuple:
    """Every column of the account and of the related records loaded with it (scope unit, person)."""
    user = getattr(user, "_wrapped", user)  # request.user is a lazy proxy, loaded by now: read the account itself
    related = tuple(sorted((name, _row(obj)) for name, obj in user._state.fields_cache.items() if obj is not None))
    return _row(user), related


# The primary-or-replica pin changes where a page is read from, not what it shows (the generations
# say whether a stored page is as new as the database the request reads).
_IGNORED_COOKIES = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, dbrouting.PIN_COOKIE}


def _session_state(request) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in request.session.items()))


def cache_key(request) -> str:
    headers = request.headers
    parts = (
        build_id(),
        translation.get_language(),
        timezone.localdate().isoformat(),
        request.get_full_path(),
        headers.get("Accept", ""),
        tuple(sorted((k, v) for k, v in headers.items() if k.lower().startswith("hx-"))),
        tuple(sorted((k, v) for k, v in request.COOKIES.items() if k not in _IGNORED_COOKIES)),
        account_fingerprint(request.user),
        _session_state(request),
        # A page read from the replica shows its delay: a stored one is served only while it is the same.
        dbrouting.lag_seconds(),
    )
    return "pagecache:" + hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


# --- CSRF tokens in stored pages ------------------------------------------------------------------------

CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
_TOKEN_CANDIDATE = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


def strip_csrf_tokens(body: bytes, secret: str | None) -> bytes:
    """Replace every masked form of this request's CSRF secret with the placeholder."""
    if not secret:
        return body

    def swap(match):
        token = match.group(0)
        return CSRF_PLACEHOLDER if _unmask_cipher_token(token.decode()) == secret else token

    return _TOKEN_CANDIDATE.sub(swap, body)


# --- the middleware -------------------------------------------------------------------------------------------

CACHEABLE_TYPES = ("text/html", "application/json")


def view_wants_cache(view_func) -> bool:
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    return bool(getattr(view_class, "page_cache", False) or getattr(view_func, "page_cache", False))


def _has_pending_messages(request) -> bool:
    return "messages" in request.COOKIES or "_messages" in request.session


def caching_allowed() -> bool:
    """The cache is on and the connection is outside any transaction: inside one, a read may see the
    transaction's own uncommitted writes, which no generation counts yet (and tests' atomic blocks
    roll back to generations that will be reached again with other rows). Also used by portal.auth."""
    return settings.PAGE_CACHE_SECONDS > 0 and connection.get_autocommit() and not connection.in_atomic_block


def usable(request, view_func) -> bool:
    return (
        request.method == "GET"
        and view_wants_cache(view_func)
        and "Authorization" not in request.headers
        and request.user.is_authenticated
        and caching_allowed()
        and not _has_pending_messages(request)
    )


def unstorable_reason(request, response, recorder: Recorder, session_before: tuple) -> str:
    """Why this render may not be stored ("" when it may)."""
    if recorder.wrote:
        return "wrote"
    if response.streaming:
        return "streaming"
    if response.status_code != 200:
        return f"status {response.status_code}"
    if response.cookies:
        return "cookie"
    if not response.get("Content-Type", "").startswith(CACHEABLE_TYPES):
        return "content type"
    if "no-store" in response.get("Cache-Control", ""):
        return "no-store"
    storage = getattr(request, "_messages", None)
    if storage is not None and (storage._queued_messages or storage.used):
        return "messages"
    if _session_state(request) != session_before:
        return "session"
    return ""


MAX_STORED_BYTES = 1 << 20  # compressed; a bigger page (a whole group's matrix) renders each time
RENDER_LOCK_SECONDS = 30  # a render that died leaves its lock this long at most
RENDER_WAIT_SECONDS = 10  # then the waiting request renders the page itself


def _valid(entry, current: dict[str, int]) -> bool:
    """The stored page was rendered from what the tables hold now."""
    if entry is None:
        return False
    tables, seen = entry[0], entry[1]
    return all(current.get(table, 0) == generation for table, generation in zip(tables, seen))


def _wait_for_render(key: str, lock: str):
    deadline = time.monotonic() + RENDER_WAIT_SECONDS
    while cache.get(lock) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    return cache.get(key)


class PageCacheMiddleware:
    """Serves opted-in GET pages from the page cache; place it last (after auth, messages, htmx)."""

    def __init__(self, get_response):
        self.get_response = get_response
        build_id()  # a few hundred stat() calls: when the worker starts, not in a user's first request

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not usable(request, view_func):
            return None
        key = cache_key(request)
        entry = cache.get(key)
        current = request_generations()  # before any query of the page: what a stored render is compared with
        if _valid(entry, current):
            return self._replay(request, entry)
        # One render per page at a time: the others asking for it meanwhile wait for that render
        # instead of making the same one (an expired dashboard asked by ten clients at once).
        lock = key + ":rendering"
        owns_lock = cache.add(lock, 1, RENDER_LOCK_SECONDS)
        if not owns_lock:
            entry = _wait_for_render(key, lock)
            if _valid(entry, current):
                return self._replay(request, entry)
        try:
            return self._render(request, view_func, view_args, view_kwargs, key, current)
        finally:
            if owns_lock:
                cache.delete(lock)

    @staticmethod
    def _render(request, view_func, view_args, view_kwargs, key, current):
        session_before = _session_state(request)
        recorder = Recorder()
        _this_request.recorder = recorder
        try:
            with contextlib.ExitStack() as recording:
                # The primary and, when this page reads from one, the replica.
                for alias in {dbrouting.PRIMARY, dbrouting.read_alias()}:
                    recording.enter_context(connections[alias].execute_wrapper(recorder))
                response = view_func(request, *view_args, **view_kwargs)
                if hasattr(response, "render") and callable(response.render):
                    response = response.render()
        finally:
            _this_request.recorder = None
        reason = unstorable_reason(request, response, recorder, session_before)
        if not reason:
            tables = tuple(sorted(recorder.tables))
            # Compressed (level 1: ~0.3 ms for 100 KB): HTML shrinks about eightfold in Redis.
            body = zlib.compress(strip_csrf_tokens(response.content, request.META.get("CSRF_COOKIE")), 1)
            headers = [(k, v) for k, v in response.items() if k.lower() != "content-length"]
            if len(body) > MAX_STORED_BYTES:
                reason = "too large"
            else:
                cache.set(key, (tables, tuple(current.get(t, 0) for t in tables), headers, body),
                          settings.PAGE_CACHE_SECONDS)
                response["X-Page-Cache"] = "miss"
        if reason:
            response["X-Page-Cache"] = f"not stored: {reason}"
        return response

    @staticmethod
    def _replay(request, entry) -> HttpResponse:
        headers, body = entry[2], zlib.decompress(entry[3])
        if CSRF_PLACEHOLDER in body:
            body = body.replace(CSRF_PLACEHOLDER, get_token(request).encode())
        response = HttpResponse(body)
        for name, value in headers:
            response[name] = value
        response["X-Page-Cache"] = "hit"
        return response
