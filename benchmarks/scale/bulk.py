"""Bulk writing for the scale generator: deterministic hashes in SQL, INSERT … SELECT with the
model's defaults, COPY of lines made in Python, fast timestamp text, and index rebuilds around
big loads."""
from __future__ import annotations

import contextlib
import datetime
import io
import json
import time
from collections.abc import Iterable

from django.apps import apps
from django.db import connection

from portal import dataexchange
from portal.dataexchange import copy_sql

from ..copypump import CopyPump

P = 2_147_483_647  # 2^31 - 1, a prime: hashes are integers in [0, P)
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai has had no daylight saving time since 1991
UTC = datetime.timezone.utc


class ScaleError(Exception):
    """Something stops the generator; the message is for an operator."""


def sql_hash(expr: str, seed: int, salt: int) -> str:
    """SQL for a pseudo-random integer in [0, P) of an integer expression: an affine map, then a
    square modulo P (not linear, so draws with different salts do not move together). Plain
    arithmetic gives the same value in every plan, unlike random() under parallel query."""
    multiplier = 1_000_003 + 2 * salt
    offset = (seed * 7_919 + salt * 104_729 + 12_345) % P
    y = f"mod(mod(({expr})::bigint, {P}) * {multiplier} + {offset}, {P})"
    return f"mod({y} * {y} + {salt}, {P})"


def sql_pick(expr: str, seed: int, salt: int, count: int) -> str:
    """SQL for a pseudo-random integer in [0, count)."""
    return f"mod({sql_hash(expr, seed, salt)}, {max(1, count)})"


def sql_text_array(values: Iterable[str]) -> str:
    """ARRAY['a','b'] for trusted literals (the generator's own pools)."""
    items = []
    for value in values:
        if "'" in value or "\\" in value:
            raise ValueError(f"pool value {value!r} cannot be a literal")
        items.append(f"'{value}'")
    return "ARRAY[" + ",".join(items) + "]::text[]"


# --- INSERT … SELECT -------------------------------------------------------------------------------
def _literal_defaults(model, provided: set[str], moment: datetime.datetime) -> tuple[list[str], list[str], list]:
    """Columns, SQL expressions and params for the NOT NULL columns the caller did not give
    (auto_now columns get `moment`, so that a run is reproducible)."""
    columns, exprs, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in provided or field.null:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = moment
        elif field.has_default():
            value = field.get_db_prep_save(field.get_default(), connection)
        elif field.get_internal_type() in ("CharField", "TextField"):
            value = ""
        else:
            raise ScaleError(f"{model.__name__}.{field.name} needs a value in the scale generator")
        columns.append(field.column)
        exprs.append("%s")
        params.append(value)
    return columns, exprs, params


def insert_select(cursor, label: str, values: dict[str, str], source: str, params: list | None = None,
                  source_params: list | None = None, *, moment: datetime.datetime | None = None) -> int:
    """INSERT INTO <model table> (values…, defaults…) SELECT … FROM <source>. `params` fill the
    placeholders of the values, `source_params` those of the source. (SQL here uses mod(), not %.)"""
    model = apps.get_model(label)
    columns, exprs, default_params = _literal_defaults(model, set(values), moment or datetime.datetime.now(UTC))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(list(values) + columns)}) "
        f"SELECT {', '.join(list(values.values()) + exprs)} FROM {source}"
    )
    cursor.execute(sql, (params or []) + default_params + (source_params or []))
    return cursor.rowcount


# --- COPY ------------------------------------------------------------------------------------------
NULL = "\\N"


def text(value: str) -> str:
    """A CSV field for COPY: always quoted, so an empty string is not NULL."""
    return '"' + value.replace('"', '""') + '"' if '"' in value else '"' + value + '"'


def jtext(value: str) -> str:
    """A JSON string literal (the canonical form of demands/chain.py: no ASCII escaping)."""
    return json.dumps(value, ensure_ascii=False)


def opt(value) -> str:
    return NULL if value is None else str(value)


class Writer:
    """Collects CSV lines of one table and writes them with COPY in batches (through the imports'
    CopyPump when given one). NOT NULL columns the caller does not list get their model default
    (a field added later cannot break the load silently: one without a default stops it)."""

    def __init__(self, model, columns: list[str], batch: int = 50_000, pump: CopyPump | None = None):
        self.model = apps.get_model(model) if isinstance(model, str) else model
        tail_columns, self.tail = [], ""
        for field in self.model._meta.concrete_fields:
            if field.primary_key or field.column in columns or field.null:
                continue
            if not field.has_default() or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                raise ScaleError(f"{self.model.__name__}.{field.name} needs a value in the scale generator")
            value = field.get_default()
            tail_columns.append(field.column)
            self.tail += "," + (text(value) if isinstance(value, str) else text(json.dumps(value)) if isinstance(value, (dict, list))
                                else ("t" if value else "f") if isinstance(value, bool) else opt(value))
        self.columns = columns + tail_columns
        self.sql = copy_sql(self.model._meta.db_table, self.columns, null=NULL)
        self.batch = batch
        self.pump = pump
        self.lines: list[str] = []
        self.count = 0

    def add(self, line: str) -> None:
        self.lines.append(line + self.tail if self.tail else line)
        if len(self.lines) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        if self.pump is not None:
            self.pump.copy(self.sql, "\n".join(self.lines) + "\n")
        else:
            with connection.cursor() as cursor:
                cursor.copy_expert(self.sql, io.StringIO("\n".join(self.lines) + "\n"))
        self.count += len(self.lines)
        self.lines = []


def allocate_ids(label: str, count: int) -> list[int]:
    return dataexchange.allocate_ids(apps.get_model(label), count)


# --- Time as text -------------------------------------------------------------------------------------
class Clock:
    """Epoch seconds → the texts the generator writes, fast (a million demands have ten million
    timestamps): COPY values, the canonical form hashed by demands/chain.py, isoformat() of a UTC
    datetime (what services put into event data), and local dates."""

    def __init__(self):
        self._days: dict[int, str] = {}
        self._times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
        self._epoch = datetime.date(1970, 1, 1).toordinal()

    def _day(self, index: int) -> str:
        day = self._days.get(index)
        if day is None:
            day = self._days[index] = datetime.date.fromordinal(self._epoch + index).isoformat()
        return day

    def copy(self, t: int | None) -> str:
        if t is None:
            return NULL
        return f"{self._day(t // 86400)} {self._times[t % 86400]}+00"

    def hashed(self, t: int) -> str:
        return f"{self._day(t // 86400)}T{self._times[t % 86400]}.000000Z"

    def iso(self, t: int) -> str:
        return f"{self._day(t // 86400)}T{self._times[t % 86400]}+00:00"

    def local_date(self, t: int) -> datetime.date:
        return datetime.date.fromordinal(self._epoch + (t + LOCAL_OFFSET) // 86400)

    def local_year(self, t: int) -> int:
        return int(self._day((t + LOCAL_OFFSET) // 86400)[:4])


def epoch(moment: datetime.datetime) -> int:
    return int(moment.timestamp())


def local_midnight(day: datetime.date) -> int:
    """Epoch seconds of 00:00 Asia/Shanghai on `day`."""
    return (day.toordinal() - datetime.date(1970, 1, 1).toordinal()) * 86400 - LOCAL_OFFSET


# --- Indexes --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def indexes_rebuilt(*labels: str):
    """Drop the secondary indexes of these tables (not those of primary keys and unique
    constraints, which keep guarding the data) for the load and build them again afterwards:
    building an index over a million rows is much faster than updating it a million times. In the
    caller's transaction, so a failure restores them."""
    saved: list[str] = []
    with connection.cursor() as cursor:
        for label in labels:
            table = apps.get_model(label)._meta.db_table
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                [table],
            )
            for name, definition in cursor.fetchall():
                saved.append(definition)
                cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        for definition in saved:
            cursor.execute(definition)


class Steps:
    """Seconds and row counts per step, for the summary."""

    def __init__(self, echo=None):
        self.rows: list[tuple[str, int | None, float]] = []
        self.echo = echo
        self._last = time.perf_counter()

    def done(self, name: str, count: int | None = None) -> None:
        now = time.perf_counter()
        self.rows.append((name, count, now - self._last))
        if self.echo:
            shown = f"{count:,} " if count is not None else ""
            self.echo(f"  {name}: {shown}({now - self._last:.1f} s)")
        self._last = now

    def restart(self) -> None:
        self._last = time.perf_counter()

    @property
    def counts(self) -> dict[str, int]:
        return {name: count for name, count, _seconds in self.rows if count is not None}
