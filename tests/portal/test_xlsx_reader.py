"""The xlsx reader of portal.dataexchange reads the first sheet's XML itself (for speed): it must
give the cell texts openpyxl gives, for workbooks written by openpyxl and by Excel (shared
strings, rich text, Chinese date formats, left-out rows and cells)."""
import datetime
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from portal.dataexchange import _cell_text, read_table, run_import


def openpyxl_rows(data: bytes) -> list[list[str]]:
    """What the importer read before: openpyxl read-only values through _cell_text()."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = [[_cell_text(v) for v in values] for values in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return rows


def trimmed(rows):
    """Rows without trailing empty cells (openpyxl pads every row to the sheet's width)."""
    result = []
    for row in rows:
        row = list(row)
        while row and row[-1] == "":
            row.pop()
        result.append(row)
    return result


MIXED_ROWS = [
    ["text", "number", "float", "date", "datetime", "bool", "long", "empty", "padded"],
    ["王一", 13800000001, 1.5, datetime.date(1990, 1, 2), datetime.datetime(2026, 3, 31, 23, 30), True, 110101199001010015, None, "  x  "],
    ["E\"2", 42, 2.0, datetime.datetime(2015, 7, 1), datetime.datetime(2026, 1, 1, 0, 0, 5), False, 12345678901234, "", "a&b<c>"],
    [None, None, None, None, None, None, None, None, "last"],
]


@pytest.mark.parametrize("write_only", [False, True], ids=["shared-strings", "inline-strings"])
def test_same_texts_as_openpyxl(write_only):
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet() if write_only else workbook.active
    for row in MIXED_ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    ours = list(read_table(data, "x.xlsx"))
    assert trimmed(ours) == trimmed(openpyxl_rows(data))
    assert ours[1][:6] == ["王一", "13800000001", "1.5", "1990-01-02", "2026-03-31 23:30:00", "True"]
    assert type(ours[1][6]).__name__ == "LossyNumber"


def package(sheet: str, *, strings: str | None = None, styles: str | None = None, date1904: bool = False) -> bytes:
    """A minimal workbook as Excel writes one (shared strings, `r` attributes, no dimension)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    book_properties = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}">'
                           f"{book_properties}"
                           '<sheets><sheet name="台账" sheetId="1" r:id="rId7"/><sheet name="其他" sheetId="2" r:id="rId8"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                                      f'<Relationship Id="rId8" Type="{rel}/worksheet" Target="worksheets/sheet2.xml"/>'
                                      f'<Relationship Id="rId7" Type="{rel}/worksheet" Target="/xl/worksheets/sheet1.xml"/>'
                                      f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
                                      f'<Relationship Id="rId4" Type="{rel}/styles" Target="styles.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>{sheet}</sheetData></worksheet>',
        "xl/worksheets/sheet2.xml": f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>'
                                    '<row r="1"><c r="A1" t="inlineStr"><is><t>not this sheet</t></is></c></row></sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst xmlns="{main}">{strings or ""}</sst>',
        "xl/styles.xml": f'<?xml version="1.0"?><styleSheet xmlns="{main}">{styles or ""}</styleSheet>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


STYLES = ('<numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy/mm/dd;@"/></numFmts>'
          '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="31"/><xf numFmtId="176"/><xf numFmtId="14"/></cellXfs>')
STRINGS = ('<si><t>工号</t></si><si><t xml:space="preserve"> 姓名 </t></si>'
           '<si><r><t>王</t></r><r><rPr><b/></rPr><t>一</t></r><rPh sb="0" eb="1"><t>おう</t></rPh></si>'
           '<si><t>A&amp;B</t></si>')


def test_an_excel_workbook():
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>出生日期</t></is></c>'
        '<c r="D1" t="inlineStr"><is><r><t>入党</t></r><r><t>日期</t></r></is></c><c r="E1" t="str"><v>标签</v></c></row>'
        # Row 2 is left out; cells B and D of row 3 too; C3 is a date in a Chinese built-in format.
        '<row r="3"><c r="A3"><v>1001</v></c><c r="C3" s="1"><v>32874</v></c><c r="E3" t="s"><v>3</v></c></row>'
        '<row r="4"><c r="A4" t="s"><v>2</v></c><c r="B4" t="b"><v>1</v></c><c r="C4" s="2"><v>45382.5</v></c>'
        '<c r="D4" s="3"><v>42186</v></c><c r="E4" t="e"><v>#N/A</v></c></row>'
        '<row><c t="d"><v>2026-03-31T23:30:00</v></c><c><v>1.25E2</v></c></row>'  # no r attributes at all
    )
    rows = list(read_table(package(sheet, strings=STRINGS, styles=STYLES), "ledger.xlsx"))
    assert rows == [
        ["工号", "姓名", "出生日期", "入党日期", "标签"],
        [],
        ["1001", "", "1990-01-01", "", "A&B"],
        ["王一", "True", "2024-03-31 12:00:00", "2015-07-01", "#N/A"],
        ["2026-03-31 23:30:00", "125"],
    ]


def test_the_1904_date_system():
    sheet = '<row r="1"><c r="A1" s="3"><v>1</v></c></row>'
    assert list(read_table(package(sheet, styles=STYLES, date1904=True), "x.xlsx")) == [["1904-01-02"]]
    assert list(read_table(package(sheet, styles=STYLES), "x.xlsx")) == [["1900-01-01"]]


def test_row_numbers_of_errors_are_the_sheets(tree):
    sheet = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>employee_no</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>org_unit_code</t></is></c></row>'
        '<row r="5"><c r="A5" t="inlineStr"><is><t>N1</t></is></c><c r="C5" t="inlineStr"><is><t>A</t></is></c></row>'
    )
    result = run_import("people", package(sheet), "p.xlsx")
    assert [(e.row, e.column) for e in result.errors] == [(5, "name")]


@pytest.mark.parametrize("data", [
    b"PK\x03\x04garbage",
    package("<row><c><v>1</v></row>"),  # not well-formed
    package('<row r="1"><c r="A1" t="s"><v>9</v></c></row>'),  # no such shared string
])
def test_unreadable_workbooks(db, data):
    result = run_import("orgunits", data, "o.xlsx")
    assert not result.ok and not result.applied
    assert "Excel" in result.errors[0].message or "xlsx" in result.errors[0].message


def test_a_lossy_number_is_refused_even_after_the_same_text(tree):
    """Equal cells are parsed once; a number Excel has rounded must not pass as the text before it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["employee_no", "name", "org_unit_code"])
    sheet.append(["1234567890123456", "王一", "A"])
    sheet.append([1234567890123456, "王二", "A"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_import("people", buffer.getvalue(), "p.xlsx")
    assert [(e.row, e.column) for e in result.errors] == [(3, "employee_no")]
