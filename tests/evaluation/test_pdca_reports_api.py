"""PDCA actions, the monthly diagnostic report, the KPI API and the commands."""
import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from evaluation import reports, services
from evaluation.models import ImprovementAction, KpiSnapshot, MonthlyReport
from evaluation.periods import Period
from tests.conftest import client_for, make_user
from tests.evaluation import scenario
from tests.factories.evaluation import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, compute):
    scenario.build(tree)
    compute(["2026-02", "2026-03", "2026-Q1", "2026"], as_of="2026-04-15 12:00")
    return tree


def _in_a_month() -> str:
    return (datetime.date.today() + datetime.timedelta(days=30)).isoformat()


# --- PDCA -----------------------------------------------------------------------------------------------
def test_pdca_from_a_kpi_through_every_step(client, tree, manager, owner, person_a):
    owner.person = person_a  # the owner of the action has an account
    owner.save()
    client_for(client, manager)
    page = client.get("/evaluation/actions/new/", {"kpi": "satisfaction_rate", "period": "2026-03",
                                                  "unit": tree.branch_a.pk})
    assert page.context["form"].initial["kpi"].code == "satisfaction_rate"
    response = client.post("/evaluation/actions/new/", {
        "title": "提升满意率", "org_unit": tree.branch_a.pk, "source": "kpi", "kpi": "satisfaction_rate",
        "period": "2026-03", "problem": "满意率 50%", "owner": person_a.pk})
    action = ImprovementAction.objects.get()
    assert response.status_code == 302 and action.status == "plan"
    # Starting needs root cause, measure, owner and deadline.
    client_for(client, owner)
    response = client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "start"}, follow=True)
    action.refresh_from_db()
    assert action.status == "plan"
    client.post(f"/evaluation/actions/{action.pk}/progress/", {"root_cause": "回访不及时", "measure": "三日内回访",
                                                              "deadline": _in_a_month()})
    client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "start"})
    client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "submit"})
    action.refresh_from_db()
    assert action.status == "check"
    # Only the manager checks; an empty verification is refused.
    client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "verify", "verification": "已改进"})
    action.refresh_from_db()
    assert action.status == "check"
    client_for(client, manager)
    client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "verify", "verification": ""})
    action.refresh_from_db()
    assert action.status == "check"
    client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "verify", "verification": "4 月满意率 92%"})
    client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "close"})
    action.refresh_from_db()
    assert (action.status, action.verified_by) == ("closed", manager)
    board = client.get("/evaluation/actions/")
    assert board.status_code == 200
    closed = dict((s, items) for s, _label, items in board.context["columns"])["closed"]
    assert action in closed


def test_pdca_scope(client, tree, manager, outsider, member):
    action = ImprovementAction.objects.create(title="x", org_unit=tree.branch_a, problem="p")
    client_for(client, outsider)
    assert client.get(action.get_absolute_url()).status_code == 404
    assert client.post(f"/evaluation/actions/{action.pk}/step/", {"step": "start"}).status_code == 404
    client_for(client, member)  # not the owner: the action does not exist for them
    assert client.get(action.get_absolute_url()).status_code == 404
    client_for(client, manager)
    assert client.get(action.get_absolute_url()).status_code == 200


# --- Monthly report ---------------------------------------------------------------------------------------
def test_monthly_report_workbook_and_print_page(client, world, manager, owner, django_capture_on_commit_callbacks):
    client_for(client, manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/evaluation/reports/request/", {"period": "2026-03", "org_unit": world.root.pk})
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    assert report.status == "done" and report.file
    download = client.get(f"/evaluation/reports/{report.pk}/download/")
    assert download.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert len(workbook.sheetnames) == 6  # summary, KPIs, changes, weakest units, overdue items, hardship assistance
    kpi_sheet = workbook.worksheets[1]
    # The satisfaction rate of the committee: a number shown as a percentage, not the text "50.00%".
    cells = [row[1] for row in kpi_sheet.iter_rows(min_row=2)]
    assert any(cell.value == 0.5 and cell.number_format == "0.00%" for cell in cells)
    page = client.get(f"/evaluation/reports/{report.pk}/")
    assert page.status_code == 200
    assert "50.00%" in page.content.decode()
    # Branch A's secretary may read reports but not this one (the committee's): 404.
    client_for(client, owner)
    assert client.get(f"/evaluation/reports/{report.pk}/download/").status_code == 404
    assert client.get(f"/evaluation/reports/{report.pk}/").status_code == 404
    assert client.post("/evaluation/reports/request/", {"period": "2026-03", "org_unit": world.branch_a.pk}
                       ).status_code == 403


def test_report_request_bad_input(client, world, manager):
    client_for(client, manager)
    for period in ("2026-Q1", "2026-13", "2099-01"):
        response = client.post("/evaluation/reports/request/", {"period": period, "org_unit": world.root.pk})
        assert response.status_code == 400  # the list again, the error beside the month
        assert not MonthlyReport.objects.exists()


def test_generate_is_idempotent_and_the_first_of_the_month_job(world, settings):
    report = MonthlyReport.objects.create(period="2026-03", org_unit=world.root)
    assert reports.generate(report.pk) is True
    assert reports.generate(report.pk) is False  # done already
    ids = reports.generate_monthly_reports(now=at("2026-04-01 06:30"))
    assert MonthlyReport.objects.get(pk=ids[0]).status == "done"
    # The month's figures were finalised first (as of the end of March).
    snap = KpiSnapshot.objects.get(kpi_id="demand_intake", period="2026-03", org_unit=world.root)
    assert snap.as_of == at("2026-04-01 00:00")


def test_report_data_biggest_changes_and_weakest(world):
    data = reports.report_data(world.root, Period.parse("2026-03"))
    assert set(data.weakest["unit_code"]) == {"A", "B"}
    assert list(data.kpis["code"])[:2] == ["demand_intake", "response_on_time_rate"]


# --- API -----------------------------------------------------------------------------------------------------
def test_api_kpis(client, world, manager, owner, member):
    client_for(client, manager)
    data = client.get("/api/kpis/", {"period": "2026-03", "org": "ROOT"}).json()
    rows = {r["kpi"]: r for r in data["results"]}
    assert rows["satisfaction_rate"]["value"] == 0.5
    assert rows["satisfaction_rate"]["numerator"] == 1 and rows["satisfaction_rate"]["denominator"] == 2
    assert rows["demand_intake"]["value"] == 6 and rows["demand_intake"]["denominator"] is None
    assert rows["satisfaction_rate"]["as_of"] == "2026-04-01T00:00:00+08:00"
    everything = client.get("/api/kpis/", {"period": "2026-03"}).json()
    assert everything["count"] == 5 * 11
    assert client.get("/api/kpis/").status_code == 400
    assert "period" in client.get("/api/kpis/", {"period": "2026-3"}).json()
    assert "org" in client.get("/api/kpis/", {"period": "2026-03", "org": "NOPE"}).json()
    client_for(client, owner)
    assert "org" in client.get("/api/kpis/", {"period": "2026-03", "org": "B"}).json()  # out of scope
    assert client.get("/api/kpis/", {"period": "2026-03"}).json()["count"] == 2 * 11
    client_for(client, member)
    assert client.get("/api/kpis/", {"period": "2026-03"}).status_code == 403


def test_api_token_auth(client, world, manager):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=manager)
    response = client.get("/api/kpis/", {"period": "2026-03", "org": "A"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and len(response.json()["results"]) == 11


# --- Commands ------------------------------------------------------------------------------------------------
def test_compute_and_kpis_commands(tree, world):
    out = io.StringIO()
    call_command("compute_kpis", "--period", "2026-03", "--period", "2026-Q1", "--as-of", "2026-04-15 12:00",
                 stdout=out)
    assert "2026-03 2026-Q1" in out.getvalue()
    out = io.StringIO()
    call_command("kpis", "--period", "2026-03", "--org", "ROOT", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "org_code,period,kpi,value,numerator,denominator,as_of"
    assert "ROOT,2026-03,demand_intake,6,6,,2026-04-01T00:00:00+08:00" in lines
    assert "ROOT,2026-03,satisfaction_rate,0.5000,1,2,2026-04-01T00:00:00+08:00" in lines
    assert any(line.startswith("ROOT,2026-03,task_on_time_rate,0.3333,1,3,") for line in lines)
    assert "ROOT,2026-03,mediation_success_rate,0.3333,1,3,2026-04-01T00:00:00+08:00" in lines
    out = io.StringIO()
    call_command("kpis", "--period", "2026-03", stdout=out)
    assert len(out.getvalue().strip().splitlines()) == 1 + 5 * 11
    out = io.StringIO()
    call_command("kpis", "--period", "2026-03", "--org", "A", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    empty = next(r for r in rows if r["kpi"] == "must_visit_on_time_rate")
    assert empty["org_code"] == "A" and set(empty) == {"org_code", "period", "kpi", "value", "numerator",
                                                       "denominator", "as_of"}
    with pytest.raises(CommandError):
        call_command("kpis", "--period", "2026-3")
    with pytest.raises(CommandError):
        call_command("kpis", "--period", "2026-03", "--org", "NOPE")
    with pytest.raises(CommandError):
        call_command("compute_kpis", "--as-of", "yesterday")


def test_compute_without_period_maintains_the_beat_periods(tree, time_machine_now):
    out = io.StringIO()
    call_command("compute_kpis", stdout=out)
    assert out.getvalue().startswith("periods 2025 2026-03 2026-04 2026-Q1 2026-Q2 2026")


@pytest.fixture
def time_machine_now():
    import time_machine

    with time_machine.travel(datetime.datetime(2026, 4, 15, 12, 0, tzinfo=datetime.timezone.utc), tick=False):
        yield


def test_manager_scope_unit_other_than_root(world, client, tree):
    manager_a = make_user("manager", tree.branch_a, username="manager_a")
    client_for(client, manager_a)
    response = client.get("/evaluation/", {"period": "2026-03"})
    assert response.context["unit"] == tree.branch_a
    assert services  # imported for the module's other tests


def test_a_pdca_deadline_cannot_be_set_in_the_past(client, tree, manager):
    import time_machine

    with time_machine.travel(at("2026-12-06 10:00"), tick=False):
        _pdca_deadline_checks(client, tree, manager)


def _pdca_deadline_checks(client, tree, manager):
    client_for(client, manager)
    data = {"title": "提升满意率", "org_unit": tree.branch_a.pk, "source": "kpi", "problem": "满意率低",
            "deadline": "2020-01-01"}
    response = client.post("/evaluation/actions/new/", data)
    assert response.status_code == 200 and not ImprovementAction.objects.exists()
    assert "deadline" in response.context["form"].errors
    client.post("/evaluation/actions/new/", {**data, "deadline": "2026-12-06"})  # today is fine
    action = ImprovementAction.objects.get()
    response = client.post(f"/evaluation/actions/{action.pk}/progress/", {"root_cause": "x", "measure": "y",
                                                                         "deadline": "2026-12-05"})
    action.refresh_from_db()
    assert action.deadline == datetime.date(2026, 12, 6)


# --- A generated report stays as issued -----------------------------------------------------------------
def _request(client, unit, period="2026-03", capture=None):
    with capture(execute=True):
        client.post("/evaluation/reports/request/", {"period": period, "org_unit": unit.pk})
    return MonthlyReport.objects.order_by("-pk").first()


def _report_body(client, report) -> str:
    page = client.get(f"/evaluation/reports/{report.pk}/").content.decode()
    return page[page.index('class="report-page"'):page.index("<script", page.index('class="report-page"'))]


def test_a_report_is_frozen_when_generated(client, world, manager, django_capture_on_commit_callbacks):
    from activities.models import ResponsibilityItem

    client_for(client, manager)
    report = _request(client, world.root, capture=django_capture_on_commit_callbacks)
    page = _report_body(client, report)
    workbook = client.get(f"/evaluation/reports/{report.pk}/download/")
    workbook = b"".join(workbook.streaming_content)
    # After generation: a new overdue item and changed figures.
    ResponsibilityItem.objects.create(title="生成后新建的逾期事项", lead_org_unit=world.branch_a,
                                      deadline=datetime.date(2026, 3, 1))
    KpiSnapshot.objects.filter(org_unit=world.root, period="2026-03").update(value=0)
    again = _report_body(client, report)
    assert "生成后新建的逾期事项" not in again
    assert again == page
    download = client.get(f"/evaluation/reports/{report.pk}/download/")
    assert b"".join(download.streaming_content) == workbook
    # Regenerating issues a new version with the new figures; the old one stays as it was.
    newer = _request(client, world.root, capture=django_capture_on_commit_callbacks)
    assert (newer.pk != report.pk, newer.version) == (True, 2)
    assert "生成后新建的逾期事项" in _report_body(client, newer)
    assert _report_body(client, report) == page


def test_workbook_cells_are_numbers_equal_to_the_page(client, world, manager, django_capture_on_commit_callbacks):
    client_for(client, manager)
    report = _request(client, world.root, capture=django_capture_on_commit_callbacks)
    download = client.get(f"/evaluation/reports/{report.pk}/download/")
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    kpis = {row[0].value: row for row in book.worksheets[1].iter_rows(min_row=2)}
    shown = {k["kpi"]: k for k in report.content["kpis"]}
    page = client.get(f"/evaluation/reports/{report.pk}/").content.decode()
    checked = 0
    for name, row in kpis.items():
        value = row[1]
        if value.value is None:
            continue
        assert isinstance(value.value, (int, float)), (name, value.value)
        display = shown[name]["display"]
        if value.number_format == "0.00%":
            assert f"{value.value * 100:.2f}%" == display
        elif value.number_format == "#,##0":
            assert f"{value.value:,}" == display
        assert display in page
        checked += 1
    assert checked >= 3
    for sheet in book.worksheets[1:4]:  # no figure is stored as text
        for row in sheet.iter_rows(min_row=2):
            for cell in row[1:]:
                if isinstance(cell.value, str):
                    assert not cell.value.replace(".", "").replace("%", "").replace("-", "").replace("+", "").isdigit(), \
                        (sheet.title, cell.coordinate, cell.value)
    weakest = list(book.worksheets[3].iter_rows(min_row=2, values_only=True))
    assert weakest and all(isinstance(score, float) and isinstance(reds, int) for _u, _c, score, reds in weakest)


def test_the_owner_of_an_action_does_not_check_it(tree):
    """The same separation-of-duties rule as items and projects (portal.separation)."""
    manager = make_user("manager", tree.root, person_unit=tree.root, username="manager_with_person")
    other = make_user("manager", tree.root, username="other_manager")
    action = ImprovementAction.objects.create(title="x", org_unit=tree.branch_a, problem="p", owner=manager.person,
                                              status="check", root_cause="c", measure="m",
                                              deadline=datetime.date.today() + datetime.timedelta(days=30))
    with pytest.raises(services.ServiceError):
        services.action_step(action=action, step="verify", by=manager, verification="有效")
    action.refresh_from_db()
    assert action.status == "check"
    services.action_step(action=action, step="verify", by=other, verification="有效")
    action.refresh_from_db()
    assert action.status == "act"
