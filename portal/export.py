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
from collections.abc import Iterable, Sequence
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from .safetext import spreadsheet_text

EXPORT_FORMATS = ("xlsx", "csv")
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
