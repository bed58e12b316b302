"""Write rows to Excel (xlsx) or CSV for download. CSV carries a BOM so Excel on Chinese Windows
opens it as UTF-8.

Every CSV and xlsx file the portal writes goes through `cell()` (or `neutralise_sheet()` for a
workbook built by pandas): text that a spreadsheet could run as a formula is written with an
apostrophe in front (portal/safetext.py), text cells are text cells, numbers and dates stay real
cells, and control characters an xlsx file cannot hold are dropped instead of failing the export."""
from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .safetext import spreadsheet_text

EXPORT_FORMATS = ("xlsx", "csv")
READABLE = "readable"  # ?export=readable: the workbook for people to read
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


REAL_CELL_TYPES = (bool, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)


def cell(value):
    """One value as it is written to a CSV or xlsx file: None is empty, numbers, dates and booleans
    stay themselves, everything else is neutralised text."""
    if value is None:
        return ""
    if isinstance(value, REAL_CELL_TYPES):
        return value
    return spreadsheet_text(value if isinstance(value, str) else str(value))


def _xlsx_cell(sheet, value):
    value = cell(value)
    if not isinstance(value, str):
        return value
    text_cell = WriteOnlyCell(sheet, value=value)
    text_cell.data_type = "s"
    return text_cell


def neutralise_sheet(sheet) -> None:
    """The cells of a worksheet built by another writer (pandas) made safe as cell() makes them."""
    for row in sheet.iter_rows():
        for sheet_cell in row:
            if isinstance(sheet_cell.value, str):
                sheet_cell.value = spreadsheet_text(sheet_cell.value)
                sheet_cell.data_type = "s"


def csv_rows(header: Sequence[str], rows: Iterable[Sequence]) -> Iterable[list]:
    """Header and rows as csv.writer should write them."""
    yield [cell(v) for v in header]
    for row in rows:
        yield [cell(v) for v in row]


def _content_disposition(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff"
        for row in csv_rows(header, rows):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _content_disposition(filename)
    return response


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence], sheet_title: str = "Sheet1") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([_xlsx_cell(sheet, v) for v in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(header, rows), content_type=XLSX_TYPE)
    response["Content-Disposition"] = _content_disposition(filename)
    return response


def export_response(fmt: str, basename: str, header: Sequence[str], rows: Iterable[Sequence]):
    if fmt == "csv":
        return csv_response(f"{basename}.csv", header, rows)
    return xlsx_response(f"{basename}.xlsx", header, rows)


# --- Readable workbooks -----------------------------------------------------------------------------
# Beside the re-importable format, a list can be exported for people to read: titles and labels in the
# reader's language, related records by name, dates and numbers as real Excel cells.

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
INTEGER_FORMAT = "0"
DECIMAL_FORMAT = "0.00"


@dataclass(frozen=True)
class ReadableColumn:
    title: Any  # a (lazy) translatable text
    value: Callable[[Any], Any]  # the record's value: text, number, date or datetime (None: empty)
    related: tuple[str, ...] = ()  # select_related() paths the value reads
    width: int = 14


def _follow(obj, names: Sequence[str]):
    for name in names:
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def readable(model, path: str, title=None, *, transform: Callable[[Any], Any] | None = None, width: int = 14,
             related: tuple[str, ...] = ()) -> ReadableColumn:
    """A column read along `path` ("lead_unit__name"): titled with the verbose name of the path's first
    field, a choice shown by its label, a list joined with 、, `transform` applied last."""
    names = path.split("__")
    first = model._meta.get_field(names[0])
    field, current = first, model
    for name in names:
        field = current._meta.get_field(name)
        current = field.related_model or current
    labels = dict(field.flatchoices) if getattr(field, "choices", None) else None

    def value(obj):
        result = _follow(obj, names)
        if labels is not None and result not in (None, ""):
            result = labels.get(result, result)
        if isinstance(result, (list, tuple)):
            result = "、".join(str(item) for item in result) or None
        if transform is not None:
            result = transform(result)
        return result

    walked = names if field.is_relation else names[:-1]
    related = (("__".join(walked),) if walked else ()) + tuple(related)
    return ReadableColumn(title if title is not None else first.verbose_name, value, related, width)


def _typed_cell(sheet, value):
    """A write-only cell with the number format its type needs; aware times in local time (Excel
    has no time zones); text neutralised as cell() does it."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, bool):
        value = str(_("yes") if value else _("no"))
    if isinstance(value, str):
        return _xlsx_cell(sheet, value)
    typed = WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            typed.value = timezone.localtime(value).replace(tzinfo=None)
        typed.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        typed.number_format = DATE_FORMAT
    elif isinstance(value, int):
        typed.number_format = INTEGER_FORMAT
    elif isinstance(value, (float, Decimal)):
        typed.number_format = DECIMAL_FORMAT
    return typed


def readable_xlsx_bytes(columns: Sequence[ReadableColumn], objects: Iterable, sheet_title: str = "Sheet1") -> bytes:
    """The one place a readable workbook's cells are written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.title))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for obj in objects:
        sheet.append([_typed_cell(sheet, column.value(obj)) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def readable_xlsx_response(filename: str, columns: Sequence[ReadableColumn], objects: Iterable, sheet_title: str) -> HttpResponse:
    response = HttpResponse(readable_xlsx_bytes(columns, objects, sheet_title), content_type=XLSX_TYPE)
    response["Content-Disposition"] = _content_disposition(filename)
    return response
