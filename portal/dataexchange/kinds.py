"""What a kind of import is: its columns, the registry of kinds, and the reading of a file's rows
into checked values (every problem collected as row, column, message)."""
from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .cells import CellError, text
from .parsers import LossyNumber, read_table


@dataclass
class Column:
    name: str
    zh: Sequence[str]
    parse: Callable[[str], Any] = field(default_factory=lambda: text())
    required: bool = False  # the column must be present and the cell non-empty
    optional_column: bool = True  # the column may be absent from the file


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row, "column": self.column or "—", "message": self.message,
        }


@dataclass(slots=True)
class Row:
    number: int  # the row number in the file (the header is row 1)
    values: dict[str, Any]
    present: set[str]  # columns the file has (absent optional columns keep stored values)


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "rows": self.rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "applied": self.applied,
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors],
        }


class RejectFile(Exception):
    """Raised by Kind.apply to reject the whole file with row errors (rolls back)."""

    def __init__(self, errors: list[RowError]):
        super().__init__(errors)
        self.errors = errors


class Kind:
    name: str = ""
    label: str = ""
    columns: list[Column] = []
    # One filled-in row for the template, in the column order (labels where a column takes a choice).
    example: list[str] = []
    permission = "portal.imports"
    # Column name → the header as the file spells it (set by parse_file): errors name the column so.
    headings: dict[str, str] = {}

    @property
    def key(self) -> str:
        return self.columns[0].name

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    # Subclasses implement these three.
    def check(self, rows: list[Row]) -> list[RowError]:
        """Cross-row and database checks before anything is written."""
        return []

    def apply(self, rows: list[Row], result: ImportResult) -> None:
        """Write the rows (in run_import's transaction). The list is the kind's from here on: apply
        may empty it once it no longer needs the rows, to free memory for the writes."""
        raise NotImplementedError

    def export_rows(self, queryset, user=None) -> Iterable[Sequence]:
        raise NotImplementedError

    def export_queryset(self):
        raise NotImplementedError

    def export_header(self) -> list[str]:
        return [c.name for c in self.columns]

    def template_header(self) -> list[str]:
        """The template's header: each column's Chinese name (accepted on import like the English one)."""
        return [c.zh[0] if c.zh else c.name for c in self.columns]

    def duplicate_key_errors(self, rows: list[Row]) -> list[RowError]:
        seen: dict[Any, int] = {}
        errors = []
        for row in rows:
            key = row.values.get(self.key)
            if key in seen:
                errors.append(RowError(row.number, self.key, _("Duplicate of row %(row)d.") % {"row": seen[key]}))
            elif key is not None:
                seen[key] = row.number
        return errors


_KINDS: dict[str, Kind] = {}


def register(kind_class: type[Kind]) -> type[Kind]:
    _KINDS[kind_class.name] = kind_class()
    return kind_class


def get_kind(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(_("Unknown kind “%(kind)s”. Known kinds: %(kinds)s") % {
            "kind": name, "kinds": ", ".join(sorted(_KINDS)),
        }) from None


def kinds() -> list[Kind]:
    return list(_KINDS.values())



# parse_file() remembers up to this many distinct values a column, of these types.
KNOWN_VALUES = 100_000
IMMUTABLE = (str, int, datetime.date)  # not lists: rows must not share a mutable value


# parse_file() reports its progress every this many rows.
PROGRESS_EVERY = 20_000


def parse_file(kind: Kind, data: bytes, filename: str, *,
               progress: Callable[[int, int | None], None] | None = None) -> tuple[list[Row], list[RowError]]:
    errors: list[RowError] = []
    try:
        table = iter(read_table(data, filename))
        header = next(table, None)
    except CellError as error:
        return [], [RowError(1, "", str(error))]
    if not header or not any(header):
        return [], [RowError(1, "", _("The file is empty; the first row must be the header."))]

    by_alias: dict[str, Column] = {}
    for column in kind.columns:
        by_alias[column.name.lower()] = column
        for alias in column.zh:
            by_alias[alias.lower()] = column
    mapping: list[Column | None] = []
    for title in header:
        title = (title or "").strip()
        column = by_alias.get(title.lower())
        if title and column is None:
            errors.append(RowError(1, title, _("Unknown column.")))
        elif column is not None and column in mapping:
            errors.append(RowError(1, title, _("The column appears twice.")))
        mapping.append(column)
    present = {c.name for c in mapping if c is not None}
    kind.headings = {c.name: (title or "").strip() for c, title in zip(mapping, header) if c is not None}
    chinese = any(title != name for name, title in kind.headings.items())
    for column in kind.columns:
        if column.name not in present and (column.required or not column.optional_column):
            # Named as the rest of the file's header is written.
            name = column.zh[0] if chinese and column.zh else column.name
            errors.append(RowError(1, name, _("The column is missing.")))
    if errors:
        return [], errors

    rows: list[Row] = []
    names = [column.name for column in kind.columns]
    required = [column.name for column in kind.columns if column.required]
    # (name, parser, values read so far) of each cell position; None under a column without a
    # header. Codes, units, categories and employee numbers repeat: each distinct cell is parsed
    # once and its value shared by the rows (a million rows hold ~200 MB less).
    slots = [None if column is None else (column.name, column.parse, {}) for column in mapping]
    try:
        for number, cells in enumerate(table, start=2):
            if not any(cells):
                continue  # blank lines are ignored
            # A short row (trailing empty cells left out) and an absent optional column read as
            # empty; `present` tells the kind which columns the file has.
            values: dict[str, Any] = dict.fromkeys(names)
            failed: set[str] | None = None
            for slot, cell in zip(slots, cells):
                if not cell:
                    continue
                if slot is None:
                    errors.append(RowError(number, "", _("A value stands under a column without a header.")))
                    continue
                name, parse, known = slot
                if type(cell) is LossyNumber:
                    errors.append(RowError(number, name, _(
                        "Excel stored this as a number of more than 15 digits and lost its last digits; "
                        "format the column as text and enter the value again."
                    )))
                    failed = (failed or set()) | {name}
                    continue
                value = known.get(cell)
                if value is not None:
                    values[name] = value
                    continue
                try:
                    value = values[name] = parse(cell)
                except CellError as error:
                    errors.append(RowError(number, name, str(error)))
                    failed = (failed or set()) | {name}
                    continue
                if len(known) < KNOWN_VALUES and isinstance(value, IMMUTABLE):
                    known[cell] = value
            for name in required:
                if values[name] is None and (failed is None or name not in failed):
                    errors.append(RowError(number, name, _("This value is required.")))
            rows.append(Row(number, values, present))
            if progress is not None and len(rows) % PROGRESS_EVERY == 0:
                progress(len(rows), None)
    except CellError as error:
        errors.append(RowError(0, "", str(error)))
    return rows, errors



# --- Helpers for kinds -------------------------------------------------------------------------
def fmt(value: Any) -> Any:
    """A stored value as it is written in an export (and read back by the importer)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


def batched(items: list, size: int = 2000):
    for start in range(0, len(items), size):
        yield items[start : start + size]
