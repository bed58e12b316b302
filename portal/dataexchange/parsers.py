"""Reading an uploaded file into rows of text: xlsx (the first sheet) or CSV (UTF-8 with or
without BOM, or GBK). What a cell means is the kinds' business (kinds.py, cells.py)."""
from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from ..safetext import imported_text
from .cells import CellError


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
