"""Import and export of ledgers in the formats of data-exchange.md.

One code path serves the web import page, the `import_data` / `export_data` commands and the
tests. A kind declares its columns; this module reads xlsx or CSV (UTF-8 with or without BOM, or
GBK), maps English or Chinese headers, parses every cell, and collects every problem as
(row, column, message). Only a file without problems is applied, in one transaction.
"""
from __future__ import annotations

import contextlib
import csv
import datetime
import gc
import io
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .safetext import imported_text

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
            # The labels the user knows (党员, 男) with the codes the spec names, in the reader's language.
            allowed = "、".join(f"{label} ({code})" for code, label in choices)
            raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}) from None

    return parse


_DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def _no_such_date(raw: str) -> bool:
    """True for a date written in the right form that the calendar does not have (1992-02-30)."""
    return bool(_DATE_SHAPE.fullmatch(raw))


def date(value: str) -> datetime.date:
    raw = value.strip()[:10].replace("/", "-")
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        if _no_such_date(raw):
            raise CellError(_("The date “%(value)s” does not exist.") % {"value": value}) from None
        raise CellError(_("“%(value)s” is not a date in the form YYYY-MM-DD.") % {"value": value}) from None


def aware_datetime(value: str) -> datetime.datetime:
    """ISO 8601; without an offset the time is Asia/Shanghai local time."""
    raw = value.strip().replace("/", "-")
    try:
        parsed = datetime.datetime.fromisoformat(raw)
    except ValueError:
        if _no_such_date(raw[:10]) and (len(raw) == 10 or raw[10] in " T"):
            raise CellError(_("The date “%(value)s” does not exist.") % {"value": value}) from None
        raise CellError(
            _("“%(value)s” is not a date and time such as 2026-03-31 23:30.") % {"value": value}
        ) from None
    if parsed.tzinfo is None:
        # timezone.make_aware() without its checks (a million cells of a big import).
        parsed = parsed.replace(tzinfo=timezone.get_default_timezone())
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


def _decodes_as(data: bytes, encoding: str, chunk: int = 1 << 22) -> bool:
    """Whether `data` is text in `encoding`, checked a chunk at a time (no copy of the file)."""
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(view[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def csv_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030 as written by Excel on Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes_as(data, encoding):
            return encoding
    raise CellError(_("The file is neither UTF-8 nor GBK text."))


def decode_csv(data: bytes) -> str:
    return data.decode(csv_encoding(data))


def read_table(data: bytes, filename: str) -> Iterable[list[str]]:
    """Yields the rows of the first sheet of an xlsx file, or of a CSV file, as lists of text."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        yield from _xlsx_rows(data)
        return
    # Decoded as it is read: a StringIO of a whole 170 MB file would hold it four times over.
    text_data = io.TextIOWrapper(io.BytesIO(data), encoding=csv_encoding(data), newline="")
    for values in csv.reader(text_data):
        yield [imported_text(v.strip()) for v in values]


# --- Reading xlsx ----------------------------------------------------------------------------------
# The first sheet is read straight from its XML with the C parser of ElementTree, a row at a time:
# openpyxl's read-only mode builds a dict (and for inline strings a Text object) per cell and,
# when the file has no <dimension> (openpyxl's own write-only files), reads the whole sheet twice —
# 13 s for 100,000 rows of ten columns, against 3 s here. Values are the ones openpyxl gives with
# data_only=True (cached formula results; dates from the cell's number format), so _cell_text()
# turns them into the same text.
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
# Date formats of the Chinese (and Japanese) locales: built-in ids that openpyxl does not list.
_CJK_DATE_FORMAT_IDS = set(range(27, 37)) | set(range(50, 59))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xlsx_part(archive, base: str, target: str) -> str:
    """The archive path of a relationship target (absolute, or relative to `base`'s folder)."""
    import posixpath

    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _xlsx_text(node, ns: str) -> str:
    """The text of a shared or inline string: its <t>, or the <t> of its rich-text runs (never
    the phonetic <rPh> runs)."""
    plain = node.find(ns + "t")
    if plain is not None:
        return plain.text or ""
    return "".join(run.findtext(ns + "t") or "" for run in node.iterfind(ns + "r"))


class _XlsxBook:
    """Where the first sheet is and how to read its cells: shared strings, date styles, epoch."""

    def __init__(self, archive):
        from xml.etree import ElementTree

        from openpyxl.styles.numbers import (
            BUILTIN_FORMATS,
            is_date_format,
            is_timedelta_format,
        )
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        book_path = "xl/workbook.xml"
        root_rels = ElementTree.fromstring(archive.read("_rels/.rels"))
        for rel in root_rels.iter(f"{{{_PACKAGE_REL_NS}}}Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                book_path = _xlsx_part(archive, "", rel.get("Target"))
        book = ElementTree.fromstring(archive.read(book_path))
        self.ns = book.tag[: -len(_local(book.tag))]
        properties = book.find(self.ns + "workbookPr")
        date1904 = properties is not None and properties.get("date1904", "").lower() in ("1", "true")
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        sheet = book.find(f"{self.ns}sheets/{self.ns}sheet")
        sheet_rel = sheet.get(f"{{{_REL_NS}}}id") if sheet is not None else None

        rels_path = _xlsx_part(archive, book_path, "_rels/" + book_path.rpartition("/")[2] + ".rels")
        targets = {}
        for rel in ElementTree.fromstring(archive.read(rels_path)).iter(f"{{{_PACKAGE_REL_NS}}}Relationship"):
            targets[rel.get("Id")] = targets[rel.get("Type", "").rpartition("/")[2]] = _xlsx_part(
                archive, book_path, rel.get("Target"))
        self.sheet_path = targets[sheet_rel]

        self.strings: list[str] = []
        if "sharedStrings" in targets and targets["sharedStrings"] in archive.namelist():
            with archive.open(targets["sharedStrings"]) as source:
                for _event, node in ElementTree.iterparse(source):
                    if _local(node.tag) == "si":
                        # As openpyxl: the escape of an underscore is undone, no other.
                        self.strings.append(_xlsx_text(node, self.ns).replace("x005F_", ""))
                        node.clear()

        self.date_styles: set[int] = set()
        self.timedelta_styles: set[int] = set()
        if "styles" in targets and targets["styles"] in archive.namelist():
            styles = ElementTree.fromstring(archive.read(targets["styles"]))
            custom = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.iter(self.ns + "numFmt")}
            xfs = styles.find(self.ns + "cellXfs")
            for index, xf in enumerate(xfs if xfs is not None else []):
                number_format = int(xf.get("numFmtId", 0))
                code = custom.get(number_format, BUILTIN_FORMATS.get(number_format))
                if is_date_format(code) or (number_format in _CJK_DATE_FORMAT_IDS and number_format not in custom):
                    self.date_styles.add(index)
                if is_timedelta_format(code):
                    self.timedelta_styles.add(index)


def _column_index(reference: str, cache: dict[str, int]) -> int:
    """0-based column of a cell reference such as "AB12"."""
    letters = reference.rstrip("0123456789")
    index = cache.get(letters)
    if index is None:
        index = 0
        for letter in letters:
            index = index * 26 + ord(letter) - 64
        index = cache[letters] = index - 1
    return index


def _xlsx_rows(data: bytes) -> Iterable[list[str]]:
    import zipfile
    from xml.etree import ElementTree

    from openpyxl.utils.datetime import from_excel, from_ISO8601

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        book = _XlsxBook(archive)
        source = archive.open(book.sheet_path)
    except Exception:  # noqa: BLE001 — whatever is wrong inside the package, it is not a workbook
        raise CellError(_("The file is not a readable Excel (.xlsx) workbook.")) from None
    ns, strings, date_styles = book.ns, book.strings, book.date_styles
    row_tag, cell_tag, value_tag, inline_tag = ns + "row", ns + "c", ns + "v", ns + "is"
    columns: dict[str, int] = {}
    expected = 1  # the number of the next row of the sheet
    try:
        with source:
            for _event, node in ElementTree.iterparse(source):
                if node.tag != row_tag:
                    continue
                number = int(node.get("r") or expected)
                if number < expected:  # a row given twice: openpyxl keeps the first
                    node.clear()
                    continue
                while expected < number:  # rows the file leaves out are empty
                    expected += 1
                    yield []
                expected += 1
                values: list[str] = []
                for cell in node:
                    if cell.tag != cell_tag:
                        continue
                    reference = cell.get("r")
                    position = _column_index(reference, columns) if reference else len(values)
                    kind = cell.get("t", "n")
                    if kind == "inlineStr":
                        inline = cell.find(inline_tag)
                        value = None if inline is None else _xlsx_text(inline, ns)
                    else:
                        value = cell.findtext(value_tag) or None
                        if value is None:
                            pass
                        elif kind == "s":
                            value = strings[int(value)]
                        elif kind == "n":
                            value = float(value) if "." in value or "E" in value or "e" in value else int(value)
                            style = cell.get("s")
                            if style and int(style) in date_styles:
                                try:
                                    value = from_excel(value, book.epoch, timedelta=int(style) in book.timedelta_styles)
                                except (OverflowError, ValueError):
                                    value = "#VALUE!"
                        elif kind == "b":
                            value = bool(int(value))
                        elif kind == "d":
                            value = from_ISO8601(value)
                    if position >= len(values):
                        values.extend([""] * (position + 1 - len(values)))
                    values[position] = imported_text(value.strip()) if type(value) is str else _cell_text(value)
                # Rows already read are not kept (an emptied element stays behind: ~70 bytes a row).
                node.clear()
                yield values
    except (ElementTree.ParseError, zipfile.BadZipFile, KeyError, IndexError, ValueError, EOFError):
        raise CellError(_("The file is not a readable Excel (.xlsx) workbook.")) from None


# parse_file() remembers up to this many distinct values a column, of these types.
KNOWN_VALUES = 100_000
IMMUTABLE = (str, int, datetime.date)  # not lists: rows must not share a mutable value


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
    except CellError as error:
        errors.append(RowError(0, "", str(error)))
    return rows, errors


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused():
    """Hold the cyclic garbage collector while imports run: a big file becomes millions of
    objects without cycles (rows, their values, the records written), which it would otherwise
    scan over and over (15 % of the time of a million-row import). Imports at the same time in
    one process share the pause; the collector comes back when the last one ends."""
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


def run_import(kind_name: str, data: bytes, filename: str, *, dry_run: bool = False) -> ImportResult:
    with _gc_paused():
        return _run_import(kind_name, data, filename, dry_run=dry_run)


def _run_import(kind_name: str, data: bytes, filename: str, *, dry_run: bool) -> ImportResult:
    # A fresh instance per run: kinds keep lookups between check() and apply(), and two imports
    # may run at the same time in one process.
    kind = type(get_kind(kind_name))()
    result = ImportResult(kind=kind.name)
    rows, errors = parse_file(kind, data, filename)
    result.rows = len(rows)
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
            from .audit import bulk_history_context

            bulk_history_context(kind.name)
            kind.apply(rows, result)
            if dry_run:
                transaction.set_rollback(True)
    except RejectFile as rejected:
        result.errors = _as_spelled(rejected.errors, kind.headings)
        result.created = result.updated = result.unchanged = 0
        return result
    result.applied = not dry_run
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


# --- Bulk writing with COPY --------------------------------------------------------------------------
def pg_array(items: Sequence[str]) -> str:
    """A text array literal for COPY: {"a","b \\"c\\""}."""
    return "{" + ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "}"


class CopyPump:
    """COPY on a second thread, on the same connection and in the same transaction, while the
    caller prepares the next batch: PostgreSQL stores one batch while Python makes the next, so an
    import keeps both CPUs of a small server busy (and, on a shared one, gets two turns instead of
    one). Nothing else may use the connection until the pump is closed; leaving the `with` block
    closes it and raises any error of a COPY there."""

    def __init__(self, depth: int = 2):
        import queue

        connection.ensure_connection()
        self._raw = connection.connection
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._abandoned = False  # the caller failed: the batches still queued are not written
        self._thread = threading.Thread(target=self._run, name="import-copy", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None and not self._abandoned:
                sql, data = item
                try:
                    with self._raw.cursor() as cursor:
                        cursor.copy_expert(sql, io.StringIO(data), COPY_BUFFER)
                except BaseException as error:  # noqa: BLE001 — raised again in the caller's thread by close()
                    self._error = error

    def copy(self, sql: str, data: str) -> None:
        if self._error is not None:
            self.close()
        if not self._thread.is_alive():
            raise RuntimeError("the COPY pump is closed")
        self._queue.put((sql, data))

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            with connection.wrap_database_errors:  # as django.db errors, as from any cursor
                raise error

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is None:
            self.close()
        else:  # the caller's error goes first; the transaction is rolled back anyway
            self._abandoned = True
            try:
                self.close()
            except Exception:  # noqa: BLE001, S110
                pass


COPY_BUFFER = 1 << 20  # bytes psycopg2 reads from the file per round trip


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
                 tail: Sequence = (), chunk: int = 50_000, pump: CopyPump | None = None) -> int:
    """Write records into `table` with PostgreSQL COPY: CSV made by the C csv writer, a chunk at a
    time, through `pump` when given. None is written as an empty value: NULL in the `nullable`
    columns, so None must not stand in the others (nor an empty string in a nullable text column).
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
