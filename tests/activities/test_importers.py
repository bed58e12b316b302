"""Import kinds `activities` and `tasks`: all-or-nothing, idempotent, export re-imports unchanged."""
import datetime

import pytest
from django.core.management import call_command

from activities.models import Activity, Attendance, ResponsibilityItem
from portal.dataexchange import export_table, run_import
from tests.factories import PersonFactory
from tests.factories.activities import local

pytestmark = pytest.mark.django_db


def csv_bytes(text: str) -> bytes:
    return text.strip().encode("utf-8-sig")


@pytest.fixture
def people(tree):
    return [PersonFactory(org_unit=tree.group_a, employee_no=f"E{n}") for n in range(1, 4)]


ACTIVITIES = """
编号,类型,标题,组织单位,时间,状态,出席人员工号
A-1,党课,一季度党课,A,2026-03-31 23:59:59,已召开,E1;E2
A-2,party_group,二月党小组会,A1,2026-02-10T15:00:00+08:00,held,E3
A-3,theme_party_day,主题党日,A,2026-12-20 09:00,planned,
"""


def test_activities_import_with_attendees_is_idempotent(people):
    result = run_import("activities", csv_bytes(ACTIVITIES), "a.csv")
    assert result.ok and (result.created, result.updated, result.unchanged) == (3, 0, 0)
    lecture = Activity.objects.get(ref="A-1")
    assert (lecture.type, lecture.status, lecture.held_at) == ("party_lecture", "held", local(2026, 3, 31, 23, 59, 59))
    assert sorted(lecture.attendances.values_list("person__employee_no", "status")) == [("E1", "present"), ("E2", "present")]
    again = run_import("activities", csv_bytes(ACTIVITIES), "a.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Attendance.objects.count() == 3


def test_activities_export_reimports_unchanged(people):
    run_import("activities", csv_bytes(ACTIVITIES), "a.csv")
    header, rows = export_table("activities")
    rows = list(rows)
    assert header == ["ref", "type", "title", "org_unit_code", "held_at", "status", "attendees"]
    assert rows[0] == ["A-2", "party_group", "二月党小组会", "A1", "2026-02-10 15:00:00", "held", "E3"]
    text = "\n".join(",".join(str(v) for v in row) for row in [header] + rows)
    result = run_import("activities", csv_bytes(text), "export.csv")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


def test_attendees_column_sets_who_was_present(people):
    run_import("activities", csv_bytes(ACTIVITIES), "a.csv")
    result = run_import("activities", csv_bytes("ref,type,title,org_unit_code,held_at,attendees\n"
                                                "A-1,party_lecture,一季度党课,A,2026-03-31 23:59:59,E2;E3"), "b.csv")
    assert (result.updated, result.unchanged) == (1, 0)
    lecture = Activity.objects.get(ref="A-1")
    assert lecture.status == "held"  # an absent optional column keeps the stored value
    assert dict(lecture.attendances.values_list("person__employee_no", "status")) == {"E1": "absent", "E2": "present", "E3": "present"}


def test_a_bad_row_rejects_the_whole_file(people):
    bad = ACTIVITIES + "\nA-4,读书会,标题,NOPE,2026-13-01,held,E1;E404"
    result = run_import("activities", csv_bytes(bad), "bad.csv")
    assert not result.ok and not Activity.objects.exists()
    # Named as the file's header spells them; unknown units and people beside the unreadable cells.
    problems = {(e.row, e.column) for e in result.errors}
    assert {(6, "类型"), (6, "时间"), (6, "组织单位"), (6, "出席人员工号")} <= problems
    bad = ACTIVITIES + "\nA-4,党课,标题,NOPE,2026-01-01,held,E1;E404"
    result = run_import("activities", csv_bytes(bad), "bad.csv")
    assert {(6, "组织单位"), (6, "出席人员工号")} <= {(e.row, e.column) for e in result.errors}
    assert not Activity.objects.exists()


TASKS = """
ref,title,lead_org_unit_code,cooperating_org_unit_codes,responsible_employee_no,deadline,completed_at
T-1,落实三会一课,A,D;B,E1,2026-06-30,
T-2,整理台账,A,,,2026-03-31,2026-03-30 10:00
"""


def test_tasks_import_export_roundtrip(people):
    result = run_import("tasks", csv_bytes(TASKS), "t.csv")
    assert result.ok and result.created == 2
    first, second = ResponsibilityItem.objects.get(ref="T-1"), ResponsibilityItem.objects.get(ref="T-2")
    assert sorted(first.cooperating_units.values_list("code", flat=True)) == ["B", "D"]
    assert first.responsible.employee_no == "E1" and first.deadline == datetime.date(2026, 6, 30)
    assert (second.status, second.completed_at) == ("approved", local(2026, 3, 30, 10))
    header, rows = export_table("tasks")
    text = "\n".join(",".join(str(v) for v in row) for row in [header] + list(rows))
    assert "T-1,落实三会一课,A,B;D,E1,2026-06-30," in text
    again = run_import("tasks", csv_bytes(text), "t.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = run_import("tasks", csv_bytes(TASKS.replace("D;B", "D")), "t.csv")
    assert (changed.updated, changed.unchanged) == (1, 1)
    assert list(first.cooperating_units.values_list("code", flat=True)) == ["D"]


def test_tasks_bad_rows(people):
    bad = TASKS + "\nT-3,,ZZZ,X,E999,2026-02-30,2099-01-01"
    result = run_import("tasks", csv_bytes(bad), "t.csv")
    assert not result.ok and not ResponsibilityItem.objects.exists()
    assert {"title", "deadline"} <= {e.column for e in result.errors if e.row == 5}


def test_commands(people, tmp_path, capsys):
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(ACTIVITIES))
    call_command("import_data", "activities", str(path))
    out = tmp_path / "out.xlsx"
    call_command("export_data", "activities", str(out))
    call_command("import_data", "activities", str(out))
    assert "3" in capsys.readouterr().out
    assert Activity.objects.count() == 3 and Attendance.objects.count() == 3


def test_imported_rows_keep_their_history_in_an_import_context(people):
    run_import("activities", csv_bytes(ACTIVITIES), "a.csv")
    events = Attendance.pgh_event_model.objects.filter(pgh_label="insert")
    assert events.count() == 3
    assert all(e.pgh_context.metadata == {"import": "activities"} for e in events.select_related("pgh_context"))


def test_web_import_offers_the_kinds(client, admin_user, people, run_import_jobs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    page = client.get("/portal/import/").content.decode()
    assert 'value="activities"' in page and 'value="tasks"' in page
    upload = SimpleUploadedFile("tasks.csv", csv_bytes(TASKS), content_type="text/csv")
    response = client.post("/portal/import/", {"kind": "tasks", "file": upload})
    run_import_jobs()
    assert response.status_code == 302 and not ResponsibilityItem.objects.exists()  # dry run first
    client.post(response["Location"])
    run_import_jobs()
    assert ResponsibilityItem.objects.count() == 2


def test_tasks_import_refuses_an_item_without_a_deadline_naming_the_column_as_the_file_does(people):
    text = "编号,事项,牵头单位,完成时限\nT-1,落实三会一课,A,2026-06-30\nT-2,整理台账,A,\n"
    result = run_import("tasks", csv_bytes(text), "t.csv")
    assert not result.ok and not ResponsibilityItem.objects.exists()
    assert [(e.row, e.column) for e in result.errors] == [(3, "完成时限")]


def test_tasks_import_keeps_a_sub_item_within_its_parents_deadline(tree, people):
    from tests.factories.activities import ItemFactory

    parent = ItemFactory(ref="T-1", lead_org_unit=tree.branch_a, deadline=datetime.date(2026, 6, 30))
    ItemFactory(ref="T-2", lead_org_unit=tree.branch_a, parent=parent, deadline=datetime.date(2026, 5, 31))
    late = "ref,title,lead_org_unit_code,deadline\nT-2,整理台账,A,2026-07-31\n"
    result = run_import("tasks", csv_bytes(late), "t.csv")
    assert not result.ok and [(e.row, e.column) for e in result.errors] == [(2, "deadline")]
    assert ResponsibilityItem.objects.get(ref="T-2").deadline == datetime.date(2026, 5, 31)
    # Without a deadline column an existing item keeps its deadline: nothing to refuse.
    assert run_import("tasks", csv_bytes("ref,title,lead_org_unit_code\nT-2,整理台账,A\n"), "t.csv").ok
