"""Running an import: read, check every row, and apply a file without problems in one transaction.

`run_import` is the one path of the `import_data` command, the background import jobs
(portal/dataexchange/batches.py) and the tests. It never touches the garbage collector: a
process that runs big imports (the worker, the command) may wrap it in `collector_paused()`.
"""
from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterable, Sequence

from django.db import transaction

from .kinds import ImportResult, RejectFile, RowError, get_kind, parse_file

# progress(rows_done, rows_total): rows_total is None while the file is still being read.
Progress = Callable[[int, int | None], None]

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def collector_paused():
    """Hold the cyclic garbage collector during a big import in a process that does nothing else
    meanwhile (the `import_data` command, an import job on the worker — never a web worker, whose
    other requests would pay for it): a big file becomes millions of objects without cycles,
    which the collector would otherwise scan over and over. Imports at the same time in one
    process share the pause; the collector comes back when the last one ends."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def run_import(kind_name: str, data: bytes, filename: str, *, dry_run: bool = False,
               progress: Progress | None = None) -> ImportResult:
    # A fresh instance per run: kinds keep lookups between check() and apply(), and two imports
    # may run at the same time in one process.
    kind = type(get_kind(kind_name))()
    result = ImportResult(kind=kind.name)
    rows, errors = parse_file(kind, data, filename, progress=progress)
    result.rows = len(rows)
    if progress:
        progress(0, len(rows))
    if rows:
        # Every problem is reported at once: cross-row and database checks run on every row too (a
        # cell that could not be read is empty there, and the checks skip empty cells), so an
        # unknown unit is listed beside a bad date of the same row.
        errors = errors + kind.duplicate_key_errors(rows) + kind.check(rows)
    if errors:
        result.errors = sorted(_as_spelled(errors, kind.headings), key=lambda e: (e.row, e.column))
        return result
    try:
        with transaction.atomic():
            from ..audit import bulk_history_context

            bulk_history_context(kind.name)
            kind.apply(rows, result)
            if dry_run:
                transaction.set_rollback(True)
    except RejectFile as rejected:
        result.errors = _as_spelled(rejected.errors, kind.headings)
        result.created = result.updated = result.unchanged = 0
        return result
    result.applied = not dry_run
    if progress:
        progress(result.rows, result.rows)
    return result


def _as_spelled(errors: list[RowError], headings: dict[str, str]) -> list[RowError]:
    """Errors name their column as the file's header spells it (出生日期, not birth_date)."""
    for error in errors:
        error.column = headings.get(error.column, error.column)
    return errors


def export_table(kind_name: str, queryset=None, user=None) -> tuple[list[str], Iterable[Sequence]]:
    kind = get_kind(kind_name)
    queryset = kind.export_queryset() if queryset is None else queryset
    return kind.export_header(), kind.export_rows(queryset, user=user)
