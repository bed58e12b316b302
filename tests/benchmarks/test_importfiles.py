"""benchmarks.importfiles writes valid, deterministic import files of any size: they import cleanly
with the counts they were written with, again unchanged, and a bad row at the end of a big file
still rejects the whole file."""
import csv

import pytest

from demands import chain
from demands.models import Demand, DemandEvent
from members.models import OrgUnit, Person
from benchmarks import importfiles
from portal.dataexchange import read_table, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def refs(db):
    return importfiles.ensure_references(units=5, people=40, categories=3)


def test_references_exist_and_are_made_once(refs):
    assert OrgUnit.objects.filter(code__in=refs.org_codes).count() == 5
    assert Person.objects.filter(employee_no__in=refs.person_nos).count() == 40
    again = importfiles.ensure_references(units=5, people=40, categories=3)
    assert again == refs
    assert Person.objects.count() == 40 and OrgUnit.objects.count() == 6  # with the root they hang under
    assert importfiles.references_from_db().org_codes == sorted(OrgUnit.objects.values_list("code", flat=True))


def test_references_hang_under_the_existing_root(tree):
    refs = importfiles.ensure_references(units=2, people=3, categories=1)
    assert {u.parent_id for u in OrgUnit.objects.filter(code__in=refs.org_codes)} == {tree.root.pk}


def test_people_xlsx_imports_cleanly_and_again_unchanged(refs, tmp_path):
    path = importfiles.write_people_xlsx(tmp_path / "people.xlsx", 300, refs.org_codes)
    result = run_import("people", path.read_bytes(), path.name)
    assert result.ok, result.errors[:5]
    assert (result.rows, result.created, result.updated, result.unchanged) == (300, 300, 0, 0)
    assert Person.objects.filter(employee_no__startswith="BP").count() == 300
    again = run_import("people", path.read_bytes(), path.name)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 300)


def test_people_files_are_deterministic(refs, tmp_path):
    first = importfiles.write_people_xlsx(tmp_path / "a.xlsx", 50, refs.org_codes, seed=7)
    second = importfiles.write_people_xlsx(tmp_path / "b.xlsx", 50, refs.org_codes, seed=7)
    as_read = [list(read_table(p.read_bytes(), p.name)) for p in (first, second)]
    assert as_read[0] == as_read[1] and len(as_read[0]) == 51
    other = importfiles.write_people_xlsx(tmp_path / "c.xlsx", 50, refs.org_codes, seed=8)
    assert list(read_table(other.read_bytes(), other.name)) != as_read[0]
    csv_a = importfiles.write_people_csv(tmp_path / "a.csv", 50, refs.org_codes, seed=7)
    assert list(read_table(csv_a.read_bytes(), csv_a.name)) == as_read[0]  # the same rows in CSV


def test_two_prefixes_never_share_an_id_number(refs, tmp_path):
    for prefix in ("BP", "BQ"):
        path = importfiles.write_people_csv(tmp_path / f"{prefix}.csv", 100, refs.org_codes, prefix=prefix)
        result = run_import("people", path.read_bytes(), path.name)
        assert result.ok and result.created == 100, result.errors[:3]


def test_demands_csv_imports_cleanly_and_again_unchanged(refs, tmp_path):
    path = importfiles.write_demands_csv(tmp_path / "demands.csv", 400, refs.org_codes, refs.category_codes, refs.person_nos)
    result = run_import("demands", path.read_bytes(), path.name)
    assert result.ok, result.errors[:5]
    assert (result.rows, result.created) == (400, 400)
    assert Demand.objects.count() == 400 and DemandEvent.objects.filter(action="imported").count() == 400
    assert set(Demand.objects.values_list("status", flat=True)) >= {"accepted", "in_progress", "resolved", "visited", "withdrawn"}
    assert Demand.objects.filter(submitter__isnull=True).exists() and Demand.objects.filter(rating__isnull=False).exists()
    assert chain.verify_chains() == []
    again = run_import("demands", path.read_bytes(), path.name)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 400)
    assert DemandEvent.objects.count() == 400


def test_demands_files_are_deterministic(refs, tmp_path):
    write = importfiles.write_demands_csv
    first = write(tmp_path / "a.csv", 100, refs.org_codes, refs.category_codes, refs.person_nos, seed=3)
    second = write(tmp_path / "b.csv", 100, refs.org_codes, refs.category_codes, refs.person_nos, seed=3)
    assert first.read_bytes() == second.read_bytes()
    with first.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == importfiles.DEMANDS_HEADER and len(rows) == 101
    assert rows[1][0] == "BD0000000" and rows[-1][0] == "BD0000099"


def test_a_bad_demand_at_the_end_of_a_big_file_writes_nothing(refs, tmp_path):
    path = importfiles.write_demands_csv(tmp_path / "demands.csv", 3000, refs.org_codes, refs.category_codes, refs.person_nos)
    with path.open("a", encoding="utf-8", newline="") as handle:
        # Valid cells, but a rating without a return visit: found only when the rows are applied.
        csv.writer(handle).writerow(["BD9999999", "最后一行", "", refs.category_codes[0], "", "", refs.org_codes[0], "", "",
                                     "2025-06-01 09:00", "", "", "", "", "", "5"])
    result = run_import("demands", path.read_bytes(), path.name)
    assert not result.applied
    assert [(e.row, e.column) for e in result.errors] == [(3002, "rating")]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert not Demand.objects.exists() and not DemandEvent.objects.exists()


def test_a_bad_person_at_the_end_of_a_big_file_writes_nothing(refs, tmp_path):
    rows = list(importfiles.people_rows(2000, refs.org_codes))
    last = list(rows[0])
    last[0], last[6] = "BP9999999", "NO-SUCH-UNIT"  # and the ID number of the first row
    rows.append(last)
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(importfiles.PEOPLE_HEADER)
    for row in rows:
        sheet.append(row)
    path = tmp_path / "people.xlsx"
    workbook.save(path)
    before = Person.objects.count()
    result = run_import("people", path.read_bytes(), path.name)
    assert not result.applied
    assert {(e.row, e.column) for e in result.errors} == {(2002, "org_unit_code"), (2002, "id_number")}
    assert Person.objects.count() == before


def test_demands_with_refs_out_of_receipt_order(refs, tmp_path):
    path = importfiles.write_demands_csv(tmp_path / "demands.csv", 200, refs.org_codes, refs.category_codes, refs.person_nos,
                                        refs_in_receipt_order=False)
    with path.open(encoding="utf-8") as handle:
        received = [row[9] for row in csv.reader(handle)][1:]
    assert received != sorted(received)
    result = run_import("demands", path.read_bytes(), path.name)
    assert result.ok and result.created == 200, result.errors[:3]
    # Written in order of receipt whatever the order of the file.
    by_id = list(Demand.objects.order_by("id").values_list("received_at", flat=True))
    assert by_id == sorted(by_id)
