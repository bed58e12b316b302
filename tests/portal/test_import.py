"""Imports and exports exactly per data-exchange.md: orgunits, people and accounts; xlsx and CSV
(UTF-8, BOM, GBK); Chinese headers and labels; all-or-nothing with every problem listed;
idempotent; an export re-imports unchanged; the commands and the web import page."""
import csv
import datetime
import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from members.models import OrgUnit, Person
from portal.dataexchange import get_kind, kinds, parse_file, run_import
from portal.models import ImportBatch, User
from portal.roles import Role
from tests.factories import PersonFactory, UserFactory, valid_id_number


# --- File builders -----------------------------------------------------------------------------
def csv_bytes(rows, encoding="utf-8", bom=False):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return ("\ufeff".encode() + data) if bom else data


def xlsx_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def errors_of(result):
    return {(e.row, e.column) for e in result.errors}


# --- Org units ---------------------------------------------------------------------------------
ORG_ROWS = [
    ["code", "name", "kind", "parent_code"],
    ["G1", "第一党小组", "group", "B1"],  # the parent comes later in the file
    ["B1", "第一党支部", "branch", "C"],
    ["C", "公司党委", "committee", ""],
    ["U", "工会", "union", "C"],
]

ORG_ROWS_ZH = [
    ["编码", "名称", "类型", "上级编码"],
    ["G1", "第一党小组", "党小组", "B1"],
    ["B1", "第一党支部", "党支部", "C"],
    ["C", "公司党委", "党委", ""],
    ["U", "工会", "工会", "C"],
]


def assert_org_tree():
    units = {u.code: u for u in OrgUnit.objects.all()}
    assert set(units) == {"C", "B1", "G1", "U"}
    assert units["G1"].parent == units["B1"] and units["B1"].parent == units["C"] and units["C"].parent is None
    assert units["G1"].path == units["B1"].path + f"{units['G1'].pk:07d}/"
    assert units["G1"].depth == 2
    assert units["G1"].kind == "group" and units["C"].kind == "committee"


@pytest.mark.django_db
@pytest.mark.parametrize("make", [
    lambda: ("orgs.csv", csv_bytes(ORG_ROWS)),
    lambda: ("orgs.csv", csv_bytes(ORG_ROWS, bom=True)),
    lambda: ("orgs.csv", csv_bytes(ORG_ROWS_ZH, encoding="gbk")),
    lambda: ("orgs.csv", csv_bytes(ORG_ROWS_ZH, bom=True)),
    lambda: ("orgs.xlsx", xlsx_bytes(ORG_ROWS)),
    lambda: ("orgs.xlsx", xlsx_bytes(ORG_ROWS_ZH)),
], ids=["utf8", "bom", "gbk-zh", "bom-zh", "xlsx", "xlsx-zh"])
def test_orgunits_import(make):
    name, data = make()
    result = run_import("orgunits", data, name)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    assert result.applied
    assert_org_tree()
    again = run_import("orgunits", data, name)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


@pytest.mark.django_db
def test_orgunits_update_and_move():
    run_import("orgunits", csv_bytes(ORG_ROWS), "o.csv")
    rows = [r[:] for r in ORG_ROWS]
    rows[1][3] = "C"  # move G1 under the committee
    rows[4][1] = "公司工会"
    result = run_import("orgunits", csv_bytes(rows), "o.csv")
    assert (result.created, result.updated, result.unchanged) == (0, 2, 2)
    g1 = OrgUnit.objects.get(code="G1")
    c = OrgUnit.objects.get(code="C")
    assert g1.parent == c and g1.path == c.path + f"{g1.pk:07d}/" and g1.depth == 1
    assert OrgUnit.objects.get(code="U").name == "公司工会"


@pytest.mark.django_db
def test_orgunits_problems_are_all_listed_and_nothing_written():
    rows = [
        ["code", "name", "kind", "parent_code"],
        ["C", "公司党委", "committee", ""],
        ["B1", "第一党支部", "king", "C"],  # bad kind
        ["B2", "", "branch", "C"],  # missing name
        ["B3", "第三党支部", "branch", "NOPE"],  # unknown parent
        ["B1", "重复", "branch", "C"],  # duplicate key
        ["X", "甲", "branch", "Y"],  # cycle
        ["Y", "乙", "branch", "X"],
    ]
    result = run_import("orgunits", csv_bytes(rows), "o.csv")
    assert not result.ok and not result.applied
    found = errors_of(result)
    assert {(3, "kind"), (4, "name"), (5, "parent_code"), (6, "code"), (7, "parent_code")} <= found
    assert OrgUnit.objects.count() == 0


@pytest.mark.django_db
def test_orgunits_one_root_only():
    run_import("orgunits", csv_bytes(ORG_ROWS), "o.csv")
    result = run_import("orgunits", csv_bytes([ORG_ROWS[0], ["C2", "另一个党委", "党委", ""]]), "o.csv")
    assert not result.ok
    assert (2, "parent_code") in errors_of(result)
    assert not OrgUnit.objects.filter(code="C2").exists()


@pytest.mark.django_db
def test_orgunits_cycle_with_the_database():
    run_import("orgunits", csv_bytes(ORG_ROWS), "o.csv")
    result = run_import("orgunits", csv_bytes([ORG_ROWS[0], ["B1", "第一党支部", "branch", "G1"]]), "o.csv")
    assert not result.ok and (2, "parent_code") in errors_of(result)
    assert OrgUnit.objects.get(code="B1").parent.code == "C"


@pytest.mark.django_db
def test_header_problems():
    result = run_import("orgunits", csv_bytes([["code", "name", "kind", "parent_code", "colour"], ["C", "党委", "committee", "", "red"]]), "o.csv")
    assert (1, "colour") in errors_of(result)
    result = run_import("orgunits", csv_bytes([["code", "kind", "parent_code"], ["C", "committee", ""]]), "o.csv")
    assert (1, "name") in errors_of(result)
    result = run_import("orgunits", csv_bytes([["code", "name", "kind"], ["C", "党委", "committee"]]), "o.csv")
    assert (1, "parent_code") in errors_of(result)  # parent_code must be present (empty for the root)
    result = run_import("orgunits", csv_bytes([["code", "code", "name", "kind", "parent_code"]]), "o.csv")
    assert not result.ok
    result = run_import("orgunits", b"", "o.csv")
    assert not result.ok
    assert OrgUnit.objects.count() == 0


@pytest.mark.django_db
def test_short_and_blank_rows():
    """A row with fewer cells than the header (trailing empty cells dropped) is read with empty
    values; blank lines are skipped."""
    data = b"code,name,kind,parent_code\r\nC,\xe5\x85\x9a\xe5\xa7\x94,committee\r\n\r\nB,\xe6\x94\xaf\xe9\x83\xa8,branch,C\r\n"
    result = run_import("orgunits", data, "o.csv")
    assert result.ok, result.errors
    assert result.created == 2


@pytest.mark.django_db
def test_not_a_readable_file():
    result = run_import("orgunits", b"PK\x03\x04garbage", "o.xlsx")
    assert not result.ok and result.errors[0].row == 1
    result = run_import("orgunits", bytes(range(128, 256)) * 3, "o.csv")
    assert not result.ok or result.rows == 0


# --- People ------------------------------------------------------------------------------------
PEOPLE_HEADER = ["employee_no", "name", "gender", "birth_date", "phone", "id_number", "org_unit_code",
                 "political_status", "joined_party_on", "tags"]
PEOPLE_HEADER_ZH = ["工号", "姓名", "性别", "出生日期", "手机号", "身份证号", "所属组织", "政治面貌", "入党日期", "标签"]


def people_rows(header=PEOPLE_HEADER):
    return [
        header,
        ["E001", "王一", "男", "1990-01-01", "13800000001", valid_id_number(1), "A", "党员", "2015-07-01", "青年;技术骨干"],
        ["E002", "王二", "F", "1991-02-03", "+86 138 0000 0002", valid_id_number(2).lower(), "A1", "masses", "", ""],
        ["E003", "王三", "女", "", "", "", "B", "预备党员", "2025-07-01", "退休"],
    ]


def assert_people():
    people = {p.employee_no: p for p in Person.objects.filter(employee_no__startswith="E")}
    assert set(people) == {"E001", "E002", "E003"}
    one, two, three = people["E001"], people["E002"], people["E003"]
    assert (one.gender, one.political_status, one.joined_party_on) == ("M", "full_member", datetime.date(2015, 7, 1))
    assert one.tags == ["青年", "技术骨干"] and one.org_unit.code == "A"
    assert two.phone == "13800000002" and two.id_number == valid_id_number(2)
    assert (three.gender, three.political_status, three.birth_date) == ("F", "probationary_member", None)
    assert three.org_unit.code == "B"


@pytest.mark.parametrize("make", [
    lambda: ("p.csv", csv_bytes(people_rows())),
    lambda: ("p.csv", csv_bytes(people_rows(), bom=True)),
    lambda: ("p.csv", csv_bytes(people_rows(PEOPLE_HEADER_ZH), encoding="gbk")),
    lambda: ("p.xlsx", xlsx_bytes(people_rows(PEOPLE_HEADER_ZH))),
], ids=["utf8", "bom", "gbk-zh", "xlsx-zh"])
def test_people_import(tree, make):
    name, data = make()
    result = run_import("people", data, name)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert_people()
    again = run_import("people", data, name)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_people_xlsx_with_typed_cells(tree):
    rows = [PEOPLE_HEADER, ["E001", "王一", "男", datetime.date(1990, 1, 1), 13800000001, valid_id_number(1), "A", "中共党员",
                            datetime.datetime(2015, 7, 1), "青年"]]
    result = run_import("people", xlsx_bytes(rows), "p.xlsx")
    assert result.ok, result.errors
    person = Person.objects.get(employee_no="E001")
    assert person.birth_date == datetime.date(1990, 1, 1) and person.phone == "13800000001"
    assert person.joined_party_on == datetime.date(2015, 7, 1)


def test_people_update_counts(tree):
    run_import("people", csv_bytes(people_rows()), "p.csv")
    rows = people_rows()
    rows[1][1] = "王壹"
    rows[3][9] = "退休;困难职工"
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert Person.objects.get(employee_no="E001").name == "王壹"
    assert Person.objects.get(employee_no="E003").tags == ["退休", "困难职工"]


def test_people_absent_optional_columns_keep_stored_values(tree):
    run_import("people", csv_bytes(people_rows()), "p.csv")
    result = run_import("people", csv_bytes([["employee_no", "name", "org_unit_code"], ["E001", "王一", "A1"]]), "p.csv")
    assert result.ok, result.errors
    assert result.updated == 1
    person = Person.objects.get(employee_no="E001")
    assert person.org_unit.code == "A1" and person.phone == "13800000001" and person.tags == ["青年", "技术骨干"]


def test_people_every_problem_listed_nothing_written(tree):
    rows = people_rows()
    rows.append(["E004", "坏一", "男", "1990-13-01", "12345", "110101199001010010", "A", "群众", "", ""])
    rows.append(["E005", "坏二", "X", "1990-01-01", "", "", "A", "king", "", ""])
    rows.append(["E001", "重复", "男", "", "", "", "NOPE", "", "", ""])
    rows.append(["E006", "", "", "", "", valid_id_number(1), "", "群众", "2020-01-01", ""])
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert not result.ok and not result.applied
    found = errors_of(result)
    expected = {
        (5, "birth_date"), (5, "phone"), (5, "id_number"),
        (6, "gender"), (6, "political_status"),
        (7, "employee_no"), (7, "org_unit_code"),
        (8, "name"), (8, "org_unit_code"),
    }
    assert expected <= found, found
    # Every error names its row and column.
    assert all(e.row >= 2 and e.column for e in result.errors)
    assert not Person.objects.filter(employee_no__startswith="E").exists()


def test_people_one_bad_row_writes_nothing(tree, person_a):
    rows = people_rows()
    rows[2][5] = rows[2][5][:-1] + ("0" if rows[2][5][-1] != "0" else "1")  # wrong check digit
    before = list(Person.objects.values_list("employee_no", "name"))
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert [(e.row, e.column) for e in result.errors] == [(3, "id_number")]
    assert list(Person.objects.values_list("employee_no", "name")) == before


def test_people_id_number_duplicates(tree, person_a):
    rows = people_rows()
    rows[2][5] = valid_id_number(1)  # same as row 2
    rows[3][5] = person_a.id_number  # taken by somebody else
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert {(3, "id_number"), (4, "id_number")} <= errors_of(result)


def test_people_joined_party_only_for_members(tree):
    rows = [PEOPLE_HEADER, ["E001", "王一", "男", "", "", "", "A", "群众", "2015-07-01", ""]]
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert (2, "joined_party_on") in errors_of(result)


def test_messages_are_chinese_in_the_ui(tree):
    from django.utils import translation

    rows = [PEOPLE_HEADER, ["E001", "王一", "男", "", "", "110101199001010010", "A", "", "", ""],
            ["E002", "王二", "男", "", "", "", "NOPE", "", "", ""]]
    with translation.override("zh-hans"):
        result = run_import("people", csv_bytes(rows), "p.csv")
    messages = {e.column: e.message for e in result.errors}
    assert "校验位" in messages["id_number"]
    assert "NOPE" in messages["org_unit_code"] and "组织" in messages["org_unit_code"]


# --- Accounts ----------------------------------------------------------------------------------
ACCOUNT_HEADER = ["username", "employee_no", "role", "scope_org_code", "password"]


@pytest.fixture
def account_people(tree):
    return [PersonFactory(org_unit=tree.branch_a, employee_no="P1"), PersonFactory(org_unit=tree.branch_a, employee_no="P2")]


def account_rows(header=ACCOUNT_HEADER):
    return [
        header,
        ["zhang", "P1", "支部书记", "A", "Zhang#2026-pass"],
        ["li", "P2", "employee", "", "Li#2026-password"],
        ["wang", "", "admin", "", ""],
    ]


@pytest.mark.parametrize("make", [
    lambda: ("a.csv", csv_bytes(account_rows())),
    lambda: ("a.csv", csv_bytes(account_rows(["用户名", "工号", "角色", "管辖组织", "初始密码"]), encoding="gbk")),
    lambda: ("a.xlsx", xlsx_bytes(account_rows())),
], ids=["utf8", "gbk-zh", "xlsx"])
def test_accounts_import(account_people, make):
    name, data = make()
    result = run_import("accounts", data, name)
    assert result.ok, result.errors
    assert result.created == 3
    zhang = User.objects.get(username="zhang")
    assert zhang.role == Role.BRANCH_SECRETARY and zhang.scope_org.code == "A" and zhang.person.employee_no == "P1"
    assert "Zhang#2026-pass" not in zhang.password and check_password("Zhang#2026-pass", zhang.password)
    assert not User.objects.get(username="wang").has_usable_password()
    again = run_import("accounts", data, name)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_accounts_password_never_stored_plain(account_people):
    run_import("accounts", csv_bytes(account_rows()), "a.csv")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM portal_user")
        stored = " ".join(r[0] for r in cursor.fetchall())
    assert "Zhang#2026-pass" not in stored and "Li#2026-password" not in stored


def test_accounts_empty_password_keeps_the_current_one(account_people):
    run_import("accounts", csv_bytes(account_rows()), "a.csv")
    old = User.objects.get(username="zhang").password
    rows = account_rows()
    rows[1][4] = ""
    result = run_import("accounts", csv_bytes(rows), "a.csv")
    assert result.unchanged == 3
    assert User.objects.get(username="zhang").password == old
    rows[1][4] = "Another#2026-pass"
    result = run_import("accounts", csv_bytes(rows), "a.csv")
    assert result.updated == 1
    assert check_password("Another#2026-pass", User.objects.get(username="zhang").password)


def test_accounts_optional_columns_may_be_absent(account_people):
    run_import("accounts", csv_bytes(account_rows()), "a.csv")
    result = run_import("accounts", csv_bytes([["username", "role", "scope_org_code"], ["zhang", "支部书记", "B"], ["new", "承办人", ""]]), "a.csv")
    assert result.ok, result.errors
    assert (result.created, result.updated) == (1, 1)
    zhang = User.objects.get(username="zhang")
    assert zhang.scope_org.code == "B" and zhang.person.employee_no == "P1"  # the person link is kept
    assert check_password("Zhang#2026-pass", zhang.password)
    assert User.objects.get(username="new").role == Role.HANDLER


def test_accounts_problems(account_people):
    rows = [
        ACCOUNT_HEADER,
        ["a1", "P1", "king", "A", ""],  # bad role
        ["a2", "", "staff", "NOPE", ""],  # unknown unit
        ["a3", "", "staff", "", ""],  # role needs a scope
        ["a4", "", "employee", "", ""],  # employee needs a person
        ["a5", "NOBODY", "handler", "", ""],  # unknown person
        ["a6", "", "handler", "", "123"],  # weak password
        ["a7", "P2", "employee", "", ""],
        ["a8", "P2", "employee", "", ""],  # the same person twice
        ["a7", "", "handler", "", ""],  # duplicate username
    ]
    result = run_import("accounts", csv_bytes(rows), "a.csv")
    found = errors_of(result)
    assert {(2, "role"), (3, "scope_org_code"), (4, "scope_org_code"), (5, "employee_no"), (6, "employee_no"),
            (7, "password"), (9, "employee_no"), (10, "username")} <= found, found
    assert not User.objects.filter(username__startswith="a").exists()


def test_accounts_person_already_linked(account_people, tree):
    UserFactory(username="existing", person=account_people[0])
    result = run_import("accounts", csv_bytes([ACCOUNT_HEADER, ["other", "P1", "employee", "", ""]]), "a.csv")
    assert (2, "employee_no") in errors_of(result)


# --- Export → re-import unchanged (commands) ----------------------------------------------------
@pytest.fixture
def populated(tree, account_people):
    PersonFactory(org_unit=tree.group_a, tags=["青年", "退休"], political_status="full_member",
                  joined_party_on=datetime.date(2010, 7, 1), gender="F")
    PersonFactory(org_unit=tree.branch_b, phone="010-12345678", birth_date=None, gender="")
    UserFactory(username="sec", role=Role.BRANCH_SECRETARY, scope_org=tree.branch_a, person=account_people[0])
    UserFactory(username="adm", role=Role.ADMIN)
    UserFactory(username="emp", role=Role.EMPLOYEE, person=account_people[1])


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["orgunits", "people", "accounts"])
def test_export_reimports_unchanged(populated, tmp_path, kind, suffix, capsys):
    path = tmp_path / f"{kind}.{suffix}"
    call_command("export_data", kind, str(path))
    out = capsys.readouterr().out
    assert "rows written" in out
    if suffix == "csv":
        assert path.read_bytes().startswith("\ufeff".encode())
    passwords = dict(User.objects.values_list("username", "password"))
    call_command("import_data", kind, str(path))
    out = capsys.readouterr().out
    count = {"orgunits": OrgUnit.objects.count(), "people": Person.objects.count(), "accounts": User.objects.count()}[kind]
    assert f"0 created, 0 updated, {count} unchanged" in out
    assert dict(User.objects.values_list("username", "password")) == passwords


def test_account_export_password_column_empty(populated, tmp_path):
    path = tmp_path / "a.csv"
    call_command("export_data", "accounts", str(path))
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ACCOUNT_HEADER
    assert all(row[4] == "" for row in rows[1:])
    assert ["sec", "P1", "branch_secretary", "A", ""] in rows


def test_export_data_bad_arguments(tmp_path, db):
    with pytest.raises(CommandError):
        call_command("export_data", "nonsense", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError):
        call_command("export_data", "people", str(tmp_path / "x.txt"))


# --- The import_data command --------------------------------------------------------------------
def test_import_command_prints_counts(tree, tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes(people_rows()))
    call_command("import_data", "people", str(path))
    assert "people: 3 created, 0 updated, 0 unchanged" in capsys.readouterr().out


def test_import_command_exits_1_on_problems(tree, tmp_path, capsys):
    rows = people_rows()
    rows[1][4] = "12345"
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes(rows))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_data", "people", str(path))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "phone" in err and "2" in err
    assert not Person.objects.filter(employee_no__startswith="E").exists()


def test_import_command_dry_run_writes_nothing(tree, tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes(people_rows()))
    call_command("import_data", "people", str(path), "--dry-run")
    assert "3 created" in capsys.readouterr().out
    assert not Person.objects.filter(employee_no__startswith="E").exists()


def test_import_command_bad_arguments(tmp_path, db):
    with pytest.raises(CommandError):
        call_command("import_data", "people", str(tmp_path / "missing.csv"))
    path = tmp_path / "x.csv"
    path.write_text("a,b\n")
    with pytest.raises(CommandError):
        call_command("import_data", "nonsense", str(path))


# --- The web import page ------------------------------------------------------------------------
def upload(client, kind, name, data):
    return client.post(reverse("portal:import"), {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_web_import_preview_then_confirm(client, admin_user, tree, run_import_jobs):
    client.force_login(admin_user)
    assert client.get(reverse("portal:import")).status_code == 200
    response = upload(client, "people", "p.csv", csv_bytes(people_rows()))
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("portal:import_batch", args=[batch.pk])
    assert batch.status == "uploaded" and batch.uploaded_by == admin_user and batch.scope_org == admin_user.scope_org
    assert batch.file.read() == csv_bytes(people_rows())  # the upload is stored for the jobs
    waiting = client.get(response["Location"]).content.decode()
    assert "data-reload-in" in waiting and "data-import-apply" not in waiting  # the page polls while the job runs
    run_import_jobs()
    assert not Person.objects.filter(employee_no__startswith="E").exists()  # the preview writes nothing
    batch.refresh_from_db()
    assert batch.status == "previewed" and batch.preview["created"] == 3 and batch.rows_done == batch.rows_total == 3
    preview = client.get(response["Location"]).content.decode()
    assert "确认导入" in preview and "data-reload-in" not in preview and "已检查：可导入" in preview
    assert "已检查：可导入" in client.get(reverse("portal:import_batches")).content.decode()
    client.post(reverse("portal:import_batch", args=[batch.pk]))
    queued = client.get(response["Location"]).content.decode()
    assert "data-reload-in" in queued  # queued: the page polls again
    assert "等待导入" in queued and "已检查" not in queued  # the header follows the confirmation
    run_import_jobs()
    page = client.get(response["Location"]).content.decode()
    assert "导入：新增 3 条" in page
    assert Person.objects.filter(employee_no__startswith="E").count() == 3
    batch.refresh_from_db()
    assert batch.status == "applied" and batch.applied_at is not None and batch.result["created"] == 3
    # Confirming twice, or the job delivered twice, imports nothing twice.
    response = client.post(reverse("portal:import_batch", args=[batch.pk]), follow=True)
    assert "该文件已导入" in response.content.decode()
    from portal.dataexchange.batches import batch_apply, batch_preview

    assert batch_apply(batch.pk) is False and batch_preview(batch.pk) is False
    assert Person.objects.filter(employee_no__startswith="E").count() == 3


def test_web_import_preview_lists_every_row_error(client, admin_user, tree, run_import_jobs):
    client.force_login(admin_user)
    rows = people_rows()
    rows[1][4] = "12345"
    rows[3][6] = "NOPE"
    response = upload(client, "people", "p.xlsx", xlsx_bytes(rows))
    run_import_jobs()
    html = client.get(response["Location"]).content.decode()
    assert "data-import-apply" not in html
    assert "<td>2</td><td class=\"text-nowrap\"><code>phone</code></td>" in html
    assert "<td>4</td><td class=\"text-nowrap\"><code>org_unit_code</code></td>" in html
    batch = ImportBatch.objects.get()
    assert batch.preview["error_count"] == 2
    assert "已检查：2 个问题" in html
    assert "已检查：2 个问题" in client.get(reverse("portal:import_batches")).content.decode()
    response = client.post(reverse("portal:import_batch", args=[batch.pk]), follow=True)
    assert "文件存在问题，未导入任何数据" in response.content.decode()
    run_import_jobs()
    batch.refresh_from_db()
    assert batch.status == "previewed" and batch.apply_requested_at is None
    assert not Person.objects.filter(employee_no__startswith="E").exists()


def test_web_import_keeps_the_first_errors_and_counts_all(client, admin_user, tree, run_import_jobs, monkeypatch):
    from portal.dataexchange import batches

    monkeypatch.setattr(batches, "PREVIEW_ERRORS", 2)
    client.force_login(admin_user)
    rows = [PEOPLE_HEADER] + [[f"E{i}", "王", "", "", "123", "", "A", "", "", ""] for i in range(5)]
    response = upload(client, "people", "p.csv", csv_bytes(rows))
    run_import_jobs()
    batch = ImportBatch.objects.get()
    assert batch.preview["error_count"] == 5 and [e["row"] for e in batch.preview["errors"]] == [2, 3]
    assert "显示前 2 个问题，共 5 个" in client.get(response["Location"]).content.decode()


def test_only_the_uploader_confirms(client, admin_user, tree, run_import_jobs):
    """Another administrator sees the batch but cannot apply it; the uploader who lost the right to
    import cannot either, and a job already queued for them refuses too."""
    client.force_login(admin_user)
    response = upload(client, "people", "p.csv", csv_bytes(people_rows()))
    run_import_jobs()
    batch = ImportBatch.objects.get()
    other = UserFactory(username="adm2", role=Role.ADMIN)
    client.force_login(other)
    page = client.get(response["Location"])
    assert page.status_code == 200 and "data-import-apply" not in page.content.decode()
    assert client.post(response["Location"]).status_code == 403
    client.force_login(admin_user)
    client.post(response["Location"])  # queued …
    admin_user.role = Role.EMPLOYEE
    admin_user.save()
    run_import_jobs()  # … and refused by the job
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.result["refused"]
    assert not Person.objects.filter(employee_no__startswith="E").exists()
    page = client.get(response["Location"])  # still the uploader's own batch: visible, not applicable
    assert page.status_code == 200 and "不再有导入权限" in page.content.decode()


def test_import_batches_are_the_uploaders_and_the_admins(client, admin_user, owner, outsider, tree):
    """An account sees the batches it uploaded; administrators see all; anyone else gets 404."""
    mine = ImportBatch.objects.create(kind="people", original_name="mine.csv", uploaded_by=owner, file="x.csv")
    theirs = ImportBatch.objects.create(kind="people", original_name="theirs.csv", uploaded_by=admin_user,
                                        file="y.csv")
    client.force_login(outsider)
    assert client.get(reverse("portal:import_batch", args=[mine.pk])).status_code == 404
    assert client.post(reverse("portal:import_batch", args=[mine.pk])).status_code == 404
    assert "mine.csv" not in client.get(reverse("portal:import_batches")).content.decode()
    client.force_login(owner)
    assert client.get(reverse("portal:import_batch", args=[mine.pk])).status_code == 200
    assert client.get(reverse("portal:import_batch", args=[theirs.pk])).status_code == 404
    listing = client.get(reverse("portal:import_batches")).content.decode()
    assert "mine.csv" in listing and "theirs.csv" not in listing
    client.force_login(admin_user)
    listing = client.get(reverse("portal:import_batches")).content.decode()
    assert "mine.csv" in listing and "theirs.csv" in listing


def test_import_batch_list_queries_do_not_grow(client, admin_user, tree, django_assert_max_num_queries):
    from tests.conftest import PAGE_QUERY_BUDGET, page_queries

    client.force_login(admin_user)
    ImportBatch.objects.create(kind="people", original_name="a.csv", uploaded_by=admin_user, file="a.csv")
    few = page_queries(client, reverse("portal:import_batches"))
    for i in range(30):
        ImportBatch.objects.create(kind="people", original_name=f"{i}.csv", uploaded_by=UserFactory(), file="b.csv")
    many = page_queries(client, reverse("portal:import_batches"))
    assert few == many <= PAGE_QUERY_BUDGET
    assert "status=previewed" in client.get(reverse("portal:import_batches"), {"status": "previewed"}).request[
        "QUERY_STRING"]


def test_the_import_menu_leads_to_the_batches(client, admin_user):
    client.force_login(admin_user)
    assert reverse("portal:import_batches") in client.get(reverse("portal:import")).content.decode()


def test_web_import_rejects_other_files(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, "people", "notes.txt", b"hello")
    assert response.status_code == 200
    assert "只能导入 .xlsx 和 .csv 文件" in response.content.decode()
    response = client.post(reverse("portal:import"), {"kind": "nonsense", "file": SimpleUploadedFile("a.csv", b"x")})
    assert response.status_code == 200 and "kind" in response.context["form"].errors
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("fixture", ["owner", "staff", "manager", "member", "handler"])
def test_web_import_is_admin_only(client, request, fixture):
    client.force_login(request.getfixturevalue(fixture))
    assert client.get(reverse("portal:import")).status_code == 403
    assert upload(client, "people", "p.csv", b"employee_no\n").status_code == 403
    assert client.get(reverse("portal:import_template", args=["people"])).status_code == 403


def test_web_import_anonymous(client):
    response = client.get(reverse("portal:import"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_import_template(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("portal:import_template", args=["people"]), {"format": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0] == ",".join(PEOPLE_HEADER_ZH)
    assert len(lines) == 2 and "党员" in lines[1]  # one example row, choices by their labels
    assert client.get(reverse("portal:import_template", args=["nonsense"])).status_code == 404


@pytest.mark.parametrize("kind", [k.name for k in kinds()])
def test_every_template_reads_back_without_a_cell_problem(kind):
    """The template (Chinese header, example row) is a file the import reads as it is."""
    spec = get_kind(kind)
    assert len(spec.example) == len(spec.columns)
    rows, errors = parse_file(type(spec)(), csv_bytes([spec.template_header(), spec.example]), "t.csv")
    assert errors == [] and len(rows) == 1


def test_errors_name_the_column_as_the_file_spells_it_and_come_all_at_once(tree):
    from django.utils import translation

    rows = [PEOPLE_HEADER_ZH, ["E001", "王一", "男", "1992-02-30", "", "", "NOPE", "king", "", ""]]
    with translation.override("zh-hans"):
        result = run_import("people", csv_bytes(rows), "p.csv")
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert set(messages) == {(2, "出生日期"), (2, "所属组织"), (2, "政治面貌")}
    assert "日期不存在" in messages[(2, "出生日期")]
    assert "NOPE" in messages[(2, "所属组织")]  # the unknown unit beside the bad date of the same row
    assert "中共党员 (full_member)" in messages[(2, "政治面貌")] and "群众 (masses)" in messages[(2, "政治面貌")]


def test_a_missing_column_is_named_as_the_header_is_written(tree):
    result = run_import("people", csv_bytes([["工号", "姓名"], ["E001", "王一"]]), "p.csv")
    assert [(e.row, e.column) for e in result.errors] == [(1, "所属组织")]


def test_other_admins_batch(client, admin_user, tree):
    """Batches belong to their uploader's kind of work; any administrator may see them."""
    client.force_login(admin_user)
    upload(client, "orgunits", "o.csv", csv_bytes(ORG_ROWS))
    batch = ImportBatch.objects.get()
    client.force_login(UserFactory(role=Role.ADMIN))
    assert client.get(reverse("portal:import_batch", args=[batch.pk])).status_code == 200
    assert client.get(reverse("portal:import_batch", args=[batch.pk + 1000])).status_code == 404


def test_each_import_uses_its_own_kind_instance(tree):
    """Kinds keep lookups between check() and apply(); the registered instance is never used for a
    run, so two imports at the same time cannot mix their lookups."""
    from portal.dataexchange import get_kind

    run_import("people", csv_bytes(people_rows()), "p.csv")
    assert not hasattr(get_kind("people"), "_units")


def test_xlsx_id_number_stored_as_a_long_number_is_refused(tree):
    """Excel keeps 15 significant digits: an ID number typed as a number has lost its last digits."""
    import io

    from openpyxl import Workbook

    from portal.dataexchange import get_kind, kinds, parse_file, run_import

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["employee_no", "name", "org_unit_code", "id_number"])
    sheet.append(["N1", "王五", "A", 110101199001010015])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_import("people", buffer.getvalue(), "people.xlsx")
    assert not result.applied
    assert [(e.row, e.column) for e in result.errors] == [(2, "id_number")]


# --- People at size: the staging-table upsert ------------------------------------------------------
def test_people_import_keeps_the_audit_trail(tree):
    """Imported people get their history like any other write: an insert event, then an update
    event with before and after, both in the import's context."""
    from pghistory.models import MiddlewareEvents

    run_import("people", csv_bytes(people_rows()), "p.csv")
    person = Person.objects.get(employee_no="E001")
    inserted = MiddlewareEvents.objects.tracks(person).get(pgh_label="insert")
    assert inserted.pgh_context["import"] == "people"
    rows = people_rows()
    rows[1][1] = "王壹"
    run_import("people", csv_bytes(rows), "p.csv")
    updated = MiddlewareEvents.objects.tracks(person).get(pgh_label="update")
    assert updated.pgh_diff["name"] == ["王一", "王壹"]
    # Unchanged people are not written at all.
    assert not MiddlewareEvents.objects.tracks(Person.objects.get(employee_no="E002")).filter(pgh_label="update").exists()


def test_people_import_updates_only_what_changed(tree):
    run_import("people", csv_bytes(people_rows()), "p.csv")
    before = dict(Person.objects.values_list("employee_no", "updated_at"))
    rows = people_rows()
    rows[2][9] = "新标签"
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    after = dict(Person.objects.values_list("employee_no", "updated_at"))
    assert after["E001"] == before["E001"] and after["E003"] == before["E003"] and after["E002"] > before["E002"]
    assert Person.objects.get(employee_no="E002").tags == ["新标签"]


def test_people_new_rows_take_defaults_of_absent_columns(tree):
    result = run_import("people", csv_bytes([["employee_no", "name", "org_unit_code"], ["N1", "新人", "A"]]), "p.csv")
    assert result.created == 1
    person = Person.objects.get(employee_no="N1")
    assert (person.political_status, person.gender, person.phone, person.id_number, person.tags, person.birth_date) == (
        "masses", "", "", "", [], None)
    assert person.is_active and person.created_at and person.updated_at


def test_people_odd_texts_are_stored_as_written(tree):
    rows = [PEOPLE_HEADER, ["E001", '王"一\\N', "", "", "", "", "A", "", "", '引号"标签;逗号,标签;\\N;反斜\\杠']]
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert result.ok, result.errors
    person = Person.objects.get(employee_no="E001")
    assert person.name == '王"一\\N' and person.tags == ['引号"标签', "逗号,标签", "\\N", "反斜\\杠"]
    assert run_import("people", csv_bytes(rows), "p.csv").unchanged == 1


def test_people_tag_too_long(tree):
    rows = [PEOPLE_HEADER, ["E001", "王一", "", "", "", "", "A", "", "", "短;" + "长" * 31]]
    result = run_import("people", csv_bytes(rows), "p.csv")
    assert [(e.row, e.column) for e in result.errors] == [(2, "tags")]
    assert not Person.objects.filter(employee_no="E001").exists()


def test_people_import_dry_run_and_a_second_run_in_one_transaction(tree):
    """The staging table goes with its run: a dry run, then a real run, in one transaction."""
    data = csv_bytes(people_rows())
    assert run_import("people", data, "p.csv", dry_run=True).created == 3
    assert not Person.objects.filter(employee_no__startswith="E").exists()
    assert run_import("people", data, "p.csv").created == 3
    assert run_import("people", data, "p.csv").unchanged == 3


def test_a_big_people_import_refreshes_the_statistics(tree, monkeypatch):
    """The foreign-key checks of the next import (demands naming these people) are planned with
    the person table's statistics: a big import analyzes it."""
    from django.db import connection

    from portal import dataexchange

    def reltuples():
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'members_person'")
            return cursor.fetchone()[0]

    monkeypatch.setattr(dataexchange.bulk, "ANALYZE_AFTER", 4)
    before = reltuples()
    run_import("people", csv_bytes(people_rows()), "p.csv")
    assert reltuples() == before  # three rows: below the threshold, not analyzed
    rows = people_rows() + [["E004", "王四", "", "", "", "", "A", "", "", ""]]
    rows[1][1] = "王壹"
    run_import("people", csv_bytes(rows), "p.csv")  # one created, one updated: not four written
    assert reltuples() == before
    rows += [[f"E10{i}", "新人", "", "", "", "", "A", "", "", ""] for i in range(4)]
    run_import("people", csv_bytes(rows), "p.csv")
    assert reltuples() == Person.objects.count()


def test_web_import_under_debug(client, admin_user, tree, settings, run_import_jobs):
    """DEBUG wraps every cursor (to log its queries); the import's COPY must pass through that wrapper."""
    settings.DEBUG = True
    client.force_login(admin_user)
    upload(client, "people", "p.csv", csv_bytes(people_rows()))
    run_import_jobs()
    batch = ImportBatch.objects.get()
    client.post(reverse("portal:import_batch", args=[batch.pk]))
    run_import_jobs()
    response = client.get(reverse("portal:import_batch", args=[batch.pk]))
    assert response.status_code == 200 and "导入：新增 3 条" in response.content.decode()
    assert_people()


def test_the_exchange_kit_imports_no_domain_app():
    """portal/dataexchange is the shared kit: the kinds live in their apps and register into it."""
    import ast
    from pathlib import Path

    import portal.dataexchange

    domain = {"members", "demands", "activities", "evaluation"}
    folder = Path(portal.dataexchange.__file__).parent
    found = set()
    for path in [*folder.glob("*.py"), folder.parent / "views_import.py", folder.parent / "forms_import.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found |= {(path.name, n) for n in names if n.split(".")[0] in domain}
    assert not found
    assert not (folder.parent / "importers.py").exists()
