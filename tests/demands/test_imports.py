"""Import kinds demands, mediations, life_events and visits exactly per data-exchange.md:
English or Chinese headers, codes or Chinese labels, empty due dates from the SLA policy, all or
nothing, idempotent, and an export re-imports unchanged."""
import csv
import datetime
import io

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from demands import chain, services
from demands.calendar import TZ
from demands.choices import Status
from demands.models import Demand, DemandEvent, LifeEvent, MediationCase, Visit
from portal import dataexchange
from tests.factories import PersonFactory
from tests.factories.demands import LifeEventFactory, accepted, category, make_demand, policy, resolved

pytestmark = pytest.mark.django_db


def to_csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def to_xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(kind, rows, name="x.csv", **kwargs):
    data = to_xlsx(rows) if name.endswith(".xlsx") else to_csv(rows)
    return dataexchange.run_import(kind, data, name, **kwargs)


def export(kind):
    header, rows = dataexchange.export_table(kind)
    return [header, *[list(r) for r in rows]]


@pytest.fixture
def people(tree):
    return {
        "E1": PersonFactory(employee_no="E1", org_unit=tree.group_a),
        "E2": PersonFactory(employee_no="E2", org_unit=tree.branch_b),
    }


@pytest.fixture
def categories(db):
    return {"salary": category("salary", "薪酬"), "housing": category("housing", "住房")}


HEADER = ["ref", "title", "content", "category", "urgency", "channel", "org_unit_code", "submitter_employee_no", "status",
          "received_at", "response_due_at", "first_response_at", "resolution_due_at", "resolved_at", "return_visit_at", "rating"]
ZH_HEADER = ["编号", "标题", "内容", "类别", "紧急程度", "渠道", "所属组织", "提出人工号", "状态", "受理时间", "响应时限",
             "首次响应时间", "办结时限", "办结时间", "回访时间", "满意度"]


def demand_rows():
    return [
        HEADER,
        ["SQ2025-000001", "工资条看不懂", "希望解释", "salary", "normal", "hotline", "A1", "E1", "",
         "2026-09-30 15:00", "", "", "", "", "", ""],
        ["SQ2025-000002", "宿舍漏水", "", "住房", "紧急", "走访", "B", "E2", "",
         "2026-03-02 09:00", "2026-03-02 13:00", "2026-03-02 10:00", "2026-03-05 17:30", "2026-03-04 16:00",
         "2026-03-05 10:00", "5"],
        ["SQ2025-000003", "匿名建议", "", "salary", "", "", "A", "", "撤回", "2026-04-01T09:00:00+08:00", "", "", "", "", "", ""],
        ["SQ2025-000004", "办理中", "", "housing", "low", "", "A", "E1", "", "2026-05-06 09:00", "", "2026-05-06 11:00", "", "", "", ""],
    ]


def test_demands_import_derives_status_and_computes_due_dates(tree, people, categories):
    policy(None, "normal", hours=8, days=5)
    result = run("demands", demand_rows())
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    first = Demand.objects.get(ref="SQ2025-000001")
    assert first.status == Status.ACCEPTED and first.received_at == datetime.datetime(2026, 9, 30, 15, tzinfo=TZ)
    # Empty due columns come from the SLA policy (the afternoon before National Day).
    assert first.response_due_at == datetime.datetime(2026, 10, 8, 15, 30, tzinfo=TZ)
    assert first.resolution_due_at == datetime.datetime(2026, 10, 13, 17, 30, tzinfo=TZ)
    assert (first.category, first.channel, first.submitter) == (categories["salary"], "hotline", people["E1"])
    second = Demand.objects.get(ref="SQ2025-000002")
    assert (second.status, second.rating, second.urgency, second.channel) == (Status.VISITED, 5, "urgent", "visit")
    assert second.category == categories["housing"]
    assert second.response_due_at == datetime.datetime(2026, 3, 2, 13, tzinfo=TZ)  # given, kept
    third = Demand.objects.get(ref="SQ2025-000003")
    assert (third.status, third.submitter, third.urgency, third.channel) == (Status.WITHDRAWN, None, "normal", "staff_entry")
    assert Demand.objects.get(ref="SQ2025-000004").status == Status.IN_PROGRESS
    # One "imported" event per demand, hash-chained.
    assert DemandEvent.objects.filter(action="imported").count() == 4
    assert chain.verify_chains() == []


def test_same_file_twice_is_unchanged(tree, people, categories):
    assert run("demands", demand_rows()).created == 4
    again = run("demands", demand_rows())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert DemandEvent.objects.count() == 4


def test_chinese_headers_and_xlsx(tree, people, categories):
    rows = demand_rows()
    rows[0] = ZH_HEADER
    result = run("demands", rows, name="诉求台账.xlsx")
    assert result.ok, result.errors
    assert Demand.objects.count() == 4


def test_an_update_writes_an_import_updated_event(tree, people, categories):
    run("demands", demand_rows())
    rows = demand_rows()
    rows[1][11] = "2026-10-08 09:00"  # first response given now
    result = run("demands", rows)
    assert (result.updated, result.unchanged) == (1, 3)
    demand = Demand.objects.get(ref="SQ2025-000001")
    assert demand.status == Status.IN_PROGRESS
    event = demand.events.last()
    assert (event.seq, event.action, event.data["changed"]) == (2, "import_updated", ["first_response_at", "status"])
    assert chain.verify_chains() == []


def test_every_problem_is_reported_and_nothing_is_written(tree, people, categories):
    rows = demand_rows()
    rows[1][3] = "没有这个类别"
    rows[3][6] = "NOPE"
    rows[2][15] = "9"
    rows[3][7] = "E404"
    rows[4][9] = "昨天"
    bad_order = ["SQ2025-000005", "评分无回访", "", "salary", "", "", "A", "", "", "2026-05-06 09:00", "", "", "", "", "", "4"]
    inconsistent = ["SQ2025-000006", "状态不符", "", "salary", "", "", "A", "", "已办结", "2026-05-06 09:00", "", "", "", "", "", ""]
    early = ["SQ2025-000007", "早于受理", "", "salary", "", "", "A", "", "", "2026-05-06 09:00", "", "", "", "2026-05-01 09:00", "", ""]
    result = run("demands", rows + [bad_order, inconsistent, early, rows[1]])
    assert not result.ok and not result.applied
    problems = {(e.row, e.column) for e in result.errors}
    assert {(2, "category"), (3, "rating"), (4, "org_unit_code"), (4, "submitter_employee_no"), (5, "received_at"),
            (9, "ref")} <= problems
    assert Demand.objects.count() == 0
    # Once those are fixed, the cross-field rules speak.
    result = run("demands", [HEADER, bad_order, inconsistent, early])
    assert {(e.row, e.column) for e in result.errors} == {(2, "rating"), (3, "status"), (4, "resolved_at")}
    assert Demand.objects.count() == 0


def test_unknown_and_missing_columns(tree, categories):
    result = run("demands", [["ref", "title", "颜色"], ["x", "y", "z"]])
    assert not result.ok
    assert {e.column for e in result.errors} >= {"颜色", "category", "org_unit_code", "received_at"}


def test_export_of_demands_made_in_the_portal_reimports_unchanged(tree, owner, handler, member, categories, admin_user):
    pending = make_demand(tree.group_a, submitter=member.person, by=owner, title="待受理")
    in_progress = accepted(make_demand(tree.group_a, by=owner, title="办理中"), by=owner, handler=handler)
    services.demand_reply(demand=in_progress, by=handler, text="已联系")
    visited = resolved(make_demand(tree.group_a, submitter=member.person, by=owner, title="已回访"), by=owner, handler=handler)
    services.demand_rate(demand=visited, by=member, rating=2)
    services.demand_reopen(demand=visited, by=owner, note="重新办理")
    closed = resolved(make_demand(tree.group_a, by=owner, title="已关闭"), by=owner, handler=handler)
    services.demand_close(demand=closed, by=owner)
    services.demand_merge(demand=make_demand(tree.group_a, by=owner, title="重复"), by=owner, target=pending)
    services.demand_reject(demand=make_demand(tree.group_a, by=owner, title="不予受理"), by=owner, reason="不属于范围")
    anonymous = make_demand(tree.branch_a, by=None, channel="anonymous", title="匿名")
    assert anonymous.submitter is None

    exported = export("demands")
    assert exported[0] == HEADER
    result = run("demands", exported)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (0, 0, Demand.objects.count())
    # Also through xlsx.
    assert run("demands", exported, name="export.xlsx").unchanged == Demand.objects.count()
    assert chain.verify_chains() == []


def test_import_is_bulk(tree, people, categories, count_queries):
    def rows(n, start):
        return [HEADER] + [
            [f"SQ2024-{i:06d}", f"标题{i}", "", "salary", "", "", "A1", "E1", "", "2026-06-01 09:00", "", "", "", "", "", ""]
            for i in range(start, start + n)
        ]

    with count_queries() as small:
        assert run("demands", rows(5, 1)).created == 5
    with count_queries() as big:
        assert run("demands", rows(300, 100)).created == 300
    assert len(big.captured_queries) <= len(small.captured_queries) + 2


def test_import_data_command(tmp_path, tree, people, categories, capsys):
    good = tmp_path / "demands.csv"
    good.write_bytes(to_csv(demand_rows()))
    call_command("import_data", "demands", str(good))
    assert "4 created" in capsys.readouterr().out
    call_command("import_data", "demands", str(good))
    assert "4 unchanged" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv([HEADER, ["SQ9", "t", "", "none", "", "", "A", "", "", "2026-01-05 09:00", "", "", "", "", "", ""]]))
    with pytest.raises(SystemExit) as exit_:
        call_command("import_data", "demands", str(bad))
    assert exit_.value.code == 1
    out = tmp_path / "out.xlsx"
    call_command("export_data", "demands", str(out))
    call_command("import_data", "demands", str(out))
    assert "4 unchanged" in capsys.readouterr().out


def test_web_import_preview_and_confirm(client, admin_user, tree, people, categories, run_import_jobs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    upload = SimpleUploadedFile("demands.csv", to_csv(demand_rows()), content_type="text/csv")
    response = client.post("/portal/import/", {"kind": "demands", "file": upload})
    run_import_jobs()
    assert response.status_code == 302 and Demand.objects.count() == 0  # a dry run first
    client.post(response["Location"])
    run_import_jobs()
    assert Demand.objects.count() == 4


# --- Mediation cases -----------------------------------------------------------------------------------
def test_mediations(tree, owner, categories):
    demand = make_demand(tree.group_a, by=owner)
    rows = [
        ["ref", "demand_ref", "org_unit_code", "opened_at", "concluded_at", "outcome"],
        ["TJ1", demand.ref, "A1", "2026-08-12 10:00", "2026-08-20 16:00", "调解成功"],
        ["TJ2", "", "B", "2026-09-01 09:00", "", ""],
        ["TJ3", "", "A", "2026-09-01 09:00", "2026-09-05 09:00", "移交"],
    ]
    result = run("mediations", rows)
    assert result.ok, result.errors
    assert MediationCase.objects.get(ref="TJ1").outcome == "success"
    assert MediationCase.objects.get(ref="TJ3").outcome == "referred"
    assert MediationCase.objects.get(ref="TJ1").demand == demand
    assert run("mediations", rows).unchanged == 3
    assert run("mediations", export("mediations")).unchanged == 3
    bad = [rows[0], ["TJ4", "SQ-NONE", "A", "2026-09-01 09:00", "2026-08-01 09:00", ""],
           ["TJ5", "", "A", "2026-09-01 09:00", "", "success"]]
    result = run("mediations", bad)
    assert {(e.row, e.column) for e in result.errors} == {(2, "demand_ref"), (2, "outcome"), (2, "concluded_at"), (3, "concluded_at")}


# --- Life events and visits ----------------------------------------------------------------------------
def test_life_events_and_visits(tree, people):
    events = [["ref", "employee_no", "kind", "event_date"],
              ["SJ1", "E1", "住院", "2026-10-01"], ["SJ2", "E2", "childbirth", "2026-10-03"]]
    assert run("life_events", events).created == 2
    event = LifeEvent.objects.get(ref="SJ1")
    assert (event.kind, event.visit_due_on) == ("hospitalization", datetime.date(2026, 10, 8))
    visits = [["编号", "被走访人工号", "走访人工号", "走访日期", "类型", "关联事由", "记录"],
              ["ZF1", "E1", "E2", "2026-10-05", "", "SJ1", "住院慰问"],
              ["ZF2", "E2", "E1", "2026-10-06", "谈心谈话", "", ""]]
    result = run("visits", visits)
    assert result.ok, result.errors
    assert (Visit.objects.get(ref="ZF1").kind, Visit.objects.get(ref="ZF1").life_event) == ("must_visit", event)
    assert Visit.objects.get(ref="ZF2").kind == "heart_talk"
    # The imported visit marks its life event visited; the other is still due.
    assert LifeEvent.objects.get(ref="SJ1").visited_on == datetime.date(2026, 10, 5)
    assert LifeEvent.objects.get(ref="SJ2").visited_on is None
    assert run("visits", visits).unchanged == 2 and run("life_events", events).unchanged == 2
    assert run("visits", export("visits")).unchanged == 2
    assert run("life_events", export("life_events")).unchanged == 2
    # The event date moves: the due date follows.
    events[1][3] = "2026-10-02"
    assert run("life_events", events).updated == 1
    assert LifeEvent.objects.get(ref="SJ1").visit_due_on == datetime.date(2026, 10, 9)


def test_visit_problems(tree, people):
    LifeEventFactory(ref="SJ9", person=people["E2"])
    rows = [["ref", "employee_no", "visitor_employee_no", "visited_on", "kind", "life_event_ref", "notes"],
            ["ZF1", "E404", "E1", "2026-10-05", "", "", ""],
            ["ZF2", "E1", "E2", "2026-10-05", "", "SJ9", ""],
            ["ZF3", "E1", "E2", "2026-10-05", "", "SJ404", ""],
            ["ZF4", "E1", "E2", "not a date", "nonsense", "", ""]]
    result = run("visits", rows)
    assert {(e.row, e.column) for e in result.errors} == {
        (2, "employee_no"), (3, "life_event_ref"), (4, "life_event_ref"), (5, "visited_on"), (5, "kind")}
    assert Visit.objects.count() == 0


def test_visits_to_hardship_households(tree, people, owner):
    """A visit file may name the hardship household visited (关联困难户): the kind follows from it
    as on the visit form, the household must be the visited person's, and the date is not ahead."""
    from members.hardship import services as hardship

    household = hardship.household_register(by=owner, person=people["E1"], liaison=owner, reason="illness",
                                            level="severe", registered_on=datetime.date(2026, 3, 1), family_size=3)
    header = ["编号", "被走访人工号", "走访人工号", "走访日期", "类型", "关联事由", "记录", "关联困难户"]
    result = run("visits", [header, ["ZF1", "E1", "E2", "2026-10-05", "", "", "送慰问金", household.ref]])
    assert result.ok, result.errors
    visit = Visit.objects.get(ref="ZF1")
    assert (visit.hardship_household, visit.kind) == (household, "hardship")
    assert run("visits", export("visits")).unchanged == 1

    wrong = [header, ["ZF2", "E2", "E1", "2026-10-05", "", "", "", household.ref],
             ["ZF3", "E1", "E2", "2026-10-05", "", "", "", "KN404"],
             ["ZF4", "E1", "E2", "2999-01-01", "", "", "", ""]]
    result = run("visits", wrong)
    assert {(e.row, e.column) for e in result.errors} == {
        (2, "关联困难户"), (3, "关联困难户"), (4, "走访日期")}, result.errors
    assert Visit.objects.count() == 1


def test_absent_columns_keep_the_stored_values(tree, people, categories):
    run("demands", demand_rows())
    stored = {d.ref: d for d in Demand.objects.all()}
    narrow = [["ref", "title", "category", "org_unit_code", "received_at"]] + [
        [r[0], r[1], r[3], r[6], r[9]] for r in demand_rows()[1:]
    ]
    result = run("demands", narrow)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    narrow[2][1] = "宿舍漏水（已修）"
    narrow[2][3] = "A"
    result = run("demands", narrow)
    assert (result.updated, result.unchanged) == (1, 3)
    second = Demand.objects.get(ref="SQ2025-000002")
    before = stored["SQ2025-000002"]
    assert (second.title, second.org_unit.code) == ("宿舍漏水（已修）", "A")
    # Everything the file leaves out is kept: submitter, times, rating, status, channel, due dates.
    for field in ("submitter_id", "first_response_at", "resolved_at", "return_visit_at", "rating", "status", "channel",
                  "urgency", "response_due_at", "resolution_due_at", "content"):
        assert getattr(second, field) == getattr(before, field), field
    event = second.events.last()
    assert event.action == "import_updated" and event.data["changes"]["org_unit"] == ["B", "A"]
    assert chain.verify_chains() == []
    # A stored explicit status (withdrawn) is kept while the file names none.
    assert Demand.objects.get(ref="SQ2025-000003").status == Status.WITHDRAWN


def test_new_demands_are_written_in_order_of_receipt(tree, people, categories):
    rows = demand_rows()
    run("demands", rows)
    by_id = list(Demand.objects.order_by("id").values_list("received_at", flat=True))
    assert by_id == sorted(by_id)
    assert all(d.created_at == d.updated_at for d in Demand.objects.all())
    assert set(Demand.objects.values_list("tracking_code", flat=True)) == {None}


def test_odd_texts_survive_the_copy(tree, people, categories):
    rows = [HEADER, ["SQ1", '引号"标题,逗号\\N', '多行\n内容 "引号"\r\n\\N', "salary", "", "", "A", "", "", "2026-06-01 09:00",
                     "", "", "", "", "", ""]]
    assert run("demands", rows).created == 1
    demand = Demand.objects.get(ref="SQ1")
    assert demand.title == rows[1][1] and demand.content == rows[1][2]
    assert run("demands", rows).unchanged == 1


def test_a_big_import_refreshes_the_statistics(tree, people, categories, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(dataexchange.bulk, "ANALYZE_AFTER", 4)
    run("demands", demand_rows())
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname IN ('demands_demand', 'demands_demandevent')")
        assert dict(cursor.fetchall()) == {"demands_demand": 4, "demands_demandevent": 4}


def test_an_unknown_person_is_listed_beside_a_bad_date_of_the_same_row(tree, people):
    rows = [["ref", "employee_no", "visitor_employee_no", "visited_on"],
            ["ZF1", "E404", "E1", "2026-02-30"]]
    result = run("visits", rows)
    assert {(e.row, e.column) for e in result.errors} == {(2, "employee_no"), (2, "visited_on")}
