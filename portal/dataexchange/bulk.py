"""Writing many rows with PostgreSQL COPY (psycopg2's copy_expert), and the helpers that go
with it: ids from the sequence, the defaults of columns a file does not have, fresh statistics."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone


def pg_array(items: Sequence[str]) -> str:
    """A text array literal for COPY: {"a","b \\"c\\""}."""
    return "{" + ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "}"


COPY_BUFFER = 1 << 20  # bytes psycopg2 reads from the file per round trip


def copy_text(sql: str, data: str) -> None:
    """Run one COPY … FROM STDIN statement with `data` (lines already in the statement's format)
    on Django's connection, in the current transaction."""
    with connection.cursor() as cursor:
        # Positional: under DEBUG Django's cursor wrapper takes copy_expert(sql, file, *args) only.
        cursor.copy_expert(sql, io.StringIO(data), COPY_BUFFER)


def copy_sql(table: str, columns: Sequence[str], *, nullable: Sequence[str] = (), null: str = "") -> str:
    """The COPY statement of copy_records(): CSV, an empty value is NULL in the `nullable` columns
    (FORCE_NULL, quoted or not) and an empty string in the others. With `null` (e.g. \\N, the
    scale generator's), that unquoted text is NULL in every column instead."""
    quote = connection.ops.quote_name
    options = "FORMAT csv"
    if null:
        options += f", NULL '{null}'"
    if nullable:
        options += f", FORCE_NULL ({', '.join(quote(c) for c in nullable)})"
    return f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN WITH ({options})"


def copy_records(table: str, columns: Sequence[str], records: Iterable[Sequence], *, nullable: Sequence[str] = (),
                 tail: Sequence = (), chunk: int = 50_000, pump=None) -> int:
    """Write records into `table` with PostgreSQL COPY: CSV made by the C csv writer, a chunk at a
    time (through `pump` when given: anything with `copy(sql, data)`, the scale generator's). None is written as an empty value:
    NULL in the `nullable` columns, so None must not stand in the others (nor an empty string in a nullable text column).
    Dates, times and numbers are written as str() gives them. `tail` holds the values of the last
    columns, the same for every record (written once, appended to each line). Returns the number
    of records."""
    sql = copy_sql(table, columns, nullable=nullable)
    ending = "\n"
    if tail:
        rendered = io.StringIO()
        csv.writer(rendered, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(tail)
        ending = "," + rendered.getvalue()
    count = 0
    records = iter(records)
    while True:
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator=ending)
        before = count
        for record in records:
            writer.writerow(record)
            count += 1
            if count - before >= chunk:
                break
        if count == before:
            return count
        if pump is not None:
            pump.copy(sql, buffer.getvalue())
        else:
            buffer.seek(0)
            with connection.cursor() as cursor:
                # Positional: under DEBUG Django's cursor wrapper takes copy_expert(sql, file, *args) only.
                cursor.copy_expert(sql, buffer, COPY_BUFFER)


# After writing at least this many rows into a table, an import analyzes it (see refresh_statistics).
ANALYZE_AFTER = 10_000


def refresh_statistics(*models, written: int) -> None:
    """ANALYZE the tables of `models` (in the import's transaction, which ANALYZE sees) when
    `written` rows went in. The foreign-key checks at commit, one per row, are planned with the
    tables' statistics: a table last analyzed while (nearly) empty gets the plan of an empty table,
    and once that was a scan of a secondary index per check (the checks of 1,000,000 demands were
    stopped after more than ten minutes; they take twenty seconds). The next import's checks (the people a
    demands file names) and the pages right after an import profit too. ANALYZE reads a sample (a second or two),
    locks nobody out, and is skipped with a warning for a user who does not own the table."""
    if written < ANALYZE_AFTER:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(model._meta.db_table) for model in models))


def allocate_ids(model, count: int) -> list[int]:
    """`count` ids from the table's sequence in one query (so that rows written with COPY can be
    referred to before they are written, and the sequence stays ahead of them)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [count])
        return [row[0] for row in cursor.fetchall()]


def literal_defaults(model, given: set[str]) -> dict[str, Any]:
    """{column: value} for the concrete columns of `model` not in `given` (and not the primary
    key) as a new record gets them: field defaults, now() for auto_now(_add), NULL when nullable."""
    now = timezone.now()
    defaults = {}
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key or model_field.column in given:
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            defaults[model_field.column] = now
        elif model_field.has_default():
            defaults[model_field.column] = model_field.get_db_prep_save(model_field.get_default(), connection)
        elif model_field.null:
            defaults[model_field.column] = None
        elif model_field.get_internal_type() in ("CharField", "TextField"):
            defaults[model_field.column] = ""
        else:
            raise ValueError(f"{model.__name__}.{model_field.name} has no default for an import")
    return defaults
