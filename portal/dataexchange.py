"""Import and export of ledgers in the formats of data-exchange.md.

One code path serves the web import page, the `import_data` / `export_data` commands and the
tests. A kind declares its columns; this module reads xlsx or CSV (UTF-8 with or without BOM, or
GBK), maps English or Chinese headers, parses every cell, and collects every problem as
(row, column, message). Only a file without problems is applied, in one transaction.
"""
from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

# --- Cell parsers ------------------------------------------------------------------------------
# A parser takes the cell's text (never empty) and returns a value or raises ValueError(message).


class CellError(ValueError):
    pass


def text(max_length: int | None = None) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if max_length and len(value) > max_length:
            raise CellError(_("At most %(n)d characters.") % {"n": max_length})
        return value

    return parse


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(Decimal(value))
            if Decimal(value) != number:
                raise ValueError
        except Exception:
            raise CellError(_("“%(value)s” is not a whole number.") % {"value": value}) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise CellError(_("Must be between %(lo)s and %(hi)s.") % {"lo": minimum, "hi": maximum})
        return number

    return parse


def choice(choices, aliases: dict[str, Sequence[str]] | None = None) -> Callable[[str], str]:
    """Accepts the code or its Chinese label (and the display label in either language)."""
    lookup: dict[str, str] = {}
    for code, label in choices:
        lookup[str(code).lower()] = code
        lookup[str(label).lower()] = code
    for code, names in (aliases or {}).items():
        for name in names:
            lookup[name.lower()] = code

    def parse(value: str) -> str:
        try:
            return lookup[value.strip().lower()]
        except KeyError:
            allowed = "、".join(str(c) for c, _label in choices)
            raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}) from None

    return parse


def date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip()[:10].replace("/", "-"))
    except ValueError:
        raise CellError(_("“%(value)s” is not a date in the form YYYY-MM-DD.") % {"value": value}) from None


def aware_datetime(value: str) -> datetime.datetime:
    """ISO 8601; without an offset the time is Asia/Shanghai local time."""
    raw = value.strip().replace("/", "-")
    try:
        parsed = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise CellError(
            _("“%(value)s” is not a date and time such as 2026-03-31 23:30.") % {"value": value}
        ) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def str_list(item_parser: Callable[[str], Any] | None = None) -> Callable[[str], list]:
    def parse(value: str) -> list:
        items = [part.strip() for part in re.split(r"[;；]", value) if part.strip()]
        return [item_parser(i) for i in items] if item_parser else list(dict.fromkeys(items))

    return parse


def validator(django_validator: Callable[[str], None], normalize: Callable[[str], str] = str.strip):
    from django.core.exceptions import ValidationError

    def parse(value: str) -> str:
        value = normalize(value)
        try:
            django_validator(value)
        except ValidationError as error:
            raise CellError(" ".join(error.messages)) from None
        return value

    return parse


# --- Kinds -------------------------------------------------------------------------------------
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


@dataclass
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
    permission = "portal.imports"

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
        raise NotImplementedError

    def export_rows(self, queryset, user=None) -> Iterable[Sequence]:
        raise NotImplementedError

    def export_queryset(self):
        raise NotImplementedError

    def export_header(self) -> list[str]:
        return [c.name for c in self.columns]

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


# --- Reading files -----------------------------------------------------------------------------
class LossyNumber(str):
    """A cell Excel stored as a number of more than 15 digits (e.g. an ID number typed without a
    leading apostrophe): Excel has already replaced its last digits, so it must be refused."""


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.time(0) else value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1e15:
        return LossyNumber(f"{value:.0f}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030 as written by Excel on Chinese Windows."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise CellError(_("The file is neither UTF-8 nor GBK text.")) from None


def read_table(data: bytes, filename: str) -> Iterable[list[str]]:
    """Yields the rows of the first sheet of an xlsx file, or of a CSV file, as lists of text."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise CellError(_("The file is not a readable Excel (.xlsx) workbook.")) from None
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
        workbook.close()
        return
    text_data = decode_csv(data)
    for values in csv.reader(io.StringIO(text_data, newline="")):
        yield [v.strip() for v in values]


def parse_file(kind: Kind, data: bytes, filename: str) -> tuple[list[Row], list[RowError]]:
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
    for column in kind.columns:
        if column.name not in present and (column.required or not column.optional_column):
            errors.append(RowError(1, column.name, _("The column is missing.")))
    if errors:
        return [], errors

    rows: list[Row] = []
    try:
        for number, cells in enumerate(table, start=2):
            if not any(cells):
                continue  # blank lines are ignored
            values: dict[str, Any] = {}
            failed: set[str] = set()
            for column, cell in zip(mapping, cells):
                if column is None:
                    if cell:
                        errors.append(RowError(number, "", _("A value stands under a column without a header.")))
                    continue
                if cell == "":
                    values[column.name] = None
                    continue
                if isinstance(cell, LossyNumber):
                    errors.append(RowError(number, column.name, _(
                        "Excel stored this as a number of more than 15 digits and lost its last digits; "
                        "format the column as text and enter the value again."
                    )))
                    failed.add(column.name)
                    values[column.name] = None
                    continue
                try:
                    values[column.name] = column.parse(cell)
                except CellError as error:
                    errors.append(RowError(number, column.name, str(error)))
                    failed.add(column.name)
                    values[column.name] = None
            for column in kind.columns:
                # A short row (trailing empty cells left out) and an absent optional column read as
                # empty; `present` tells the kind which columns the file has.
                values.setdefault(column.name, None)
                if column.required and values.get(column.name) is None and column.name not in failed:
                    errors.append(RowError(number, column.name, _("This value is required.")))
            rows.append(Row(number, values, present))
    except CellError as error:
        errors.append(RowError(0, "", str(error)))
    return rows, errors


def run_import(kind_name: str, data: bytes, filename: str, *, dry_run: bool = False) -> ImportResult:
    # A fresh instance per run: kinds keep lookups between check() and apply(), and two imports
    # may run at the same time in one process.
    kind = type(get_kind(kind_name))()
    result = ImportResult(kind=kind.name)
    rows, errors = parse_file(kind, data, filename)
    result.rows = len(rows)
    if rows:
        # Every problem is reported at once: cross-row and database checks run on the rows whose
        # cells could all be read.
        unreadable = {e.row for e in errors}
        errors = errors + kind.duplicate_key_errors(rows) + kind.check([r for r in rows if r.number not in unreadable])
    if errors:
        result.errors = sorted(errors, key=lambda e: (e.row, e.column))
        return result
    try:
        with transaction.atomic():
            from .audit import bulk_history_context

            bulk_history_context(kind.name)
            kind.apply(rows, result)
            if dry_run:
                transaction.set_rollback(True)
    except RejectFile as rejected:
        result.errors = rejected.errors
        result.created = result.updated = result.unchanged = 0
        return result
    result.applied = not dry_run
    return result


def export_table(kind_name: str, queryset=None, user=None) -> tuple[list[str], Iterable[Sequence]]:
    kind = get_kind(kind_name)
    queryset = kind.export_queryset() if queryset is None else queryset
    return kind.export_header(), kind.export_rows(queryset, user=user)


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
