"""One rule for "a meeting meets a 三会一课 window" (activities.compliance): its Python form, its SQL
form and its month-grain form (the maintained summary) agree on the boundaries; the summary follows
the services that record, move and cancel meetings, and the import; the matrix the pages read
agrees with the KPI snapshots the engine computes in SQL."""
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from activities import compliance, meeting_summary, services
from activities.models import Activity, MeetingMonth
from activities.selectors import compliance_matrix
from evaluation import engine
from evaluation.models import KpiSnapshot
from tests.factories import OrgUnitFactory
from tests.factories.activities import local

pytestmark = pytest.mark.django_db
TICK = datetime.timedelta(microseconds=1)
TYPES = ("branch_committee", "party_group", "general_assembly", "party_lecture", "study_session")
STATUSES = ("held", "planned", "cancelled")


def _record(unit, type_, held_at, status="held"):
    """As the pages and the API record a meeting: save, then services.activity_saved."""
    activity = Activity(type=type_, title=type_, org_unit=unit, held_at=held_at, status=status)
    activity.save()
    services.activity_saved(activity)
    return activity


def test_python_sql_and_month_forms_of_the_rule_agree_on_the_boundaries(tree):
    windows = compliance.windows_ending_in(local(2026, 1, 1), local(2026, 7, 1))
    moments = sorted({m for w in windows for m in (w.start - TICK, w.start, w.end - TICK, w.end)})
    meetings = [Activity.objects.create(ref=f"R{i}-{j}-{k}", type=t, title=t, org_unit=tree.group_a, held_at=m, status=s)
                for i, m in enumerate(moments) for j, t in enumerate(TYPES) for k, s in enumerate(STATUSES)]
    python = {(a.pk, i) for a in meetings for i, w in enumerate(windows)
              if compliance.meets(w, status=a.status, type=a.type, held_at=a.held_at)}

    held_sql, held_params = (compliance.counted_meetings(since=local(2025, 1, 1), before=local(2027, 1, 1))
                             .values("id", "type", "held_at").order_by().query.sql_with_params())
    values = ", ".join(["(%s, %s, %s::timestamptz, %s::timestamptz)"] * len(windows))
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH h AS ({held_sql}), w(idx, type, start, "end") AS (VALUES {values}) '
            f"SELECT h.id, w.idx FROM h JOIN w ON {compliance.meets_sql('h', 'w')}",
            [*held_params, *(x for i, w in enumerate(windows) for x in (i, w.type, w.start, w.end))],
        )
        sql = set(cursor.fetchall())
    assert python == sql
    assert len(python) > len(windows)  # the boundaries produced both answers

    meeting_summary.refresh()
    held = meeting_summary.held_months([tree.branch_a.pk], local(2025, 1, 1), local(2027, 1, 1))[tree.branch_a.pk]
    for i, window in enumerate(windows):
        assert compliance.window_met(window, held) == any(index == i for _pk, index in python), window


def test_the_summary_follows_recording_moving_cancelling_and_deleting(tree):
    def rows():
        return set(MeetingMonth.objects.values_list("branch__code", "month", "type", "held"))

    meeting = _record(tree.group_a, "party_group", local(2026, 3, 31, 23, 59, 59), status="planned")
    assert rows() == set()
    meeting.status = "held"
    meeting.save()
    services.activity_saved(meeting)
    assert rows() == {("A", datetime.date(2026, 3, 1), "party_group", 1)}
    _record(tree.branch_a, "party_group", local(2026, 3, 2))
    assert rows() == {("A", datetime.date(2026, 3, 1), "party_group", 2)}

    meeting = Activity.objects.get(pk=meeting.pk)  # as an edit page loads it
    meeting.held_at, meeting.org_unit = local(2026, 4, 1), tree.branch_b
    meeting.save()
    services.activity_saved(meeting)
    assert rows() == {("A", datetime.date(2026, 3, 1), "party_group", 1), ("B", datetime.date(2026, 4, 1), "party_group", 1)}

    meeting.status = "cancelled"
    meeting.save()
    services.activity_saved(meeting)
    assert rows() == {("A", datetime.date(2026, 3, 1), "party_group", 1)}

    MeetingMonth.objects.all().delete()
    call_command("rebuild_meeting_summary", stdout=open("/dev/null", "w"))
    assert rows() == {("A", datetime.date(2026, 3, 1), "party_group", 1)}


def test_the_api_keeps_the_summary(tree, owner):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(owner)
    response = client.post("/api/activities/", {
        "type": "branch_committee", "title": "支委会", "org_unit": tree.branch_a.pk,
        "held_at": "2026-02-03T10:00:00+08:00", "status": "held",
    }, format="json")
    assert response.status_code == 201, response.json()
    assert MeetingMonth.objects.filter(branch=tree.branch_a, month=datetime.date(2026, 2, 1)).exists()
    assert client.delete(f"/api/activities/{response.json()['id']}/").status_code == 204
    assert not MeetingMonth.objects.exists()


def test_the_matrix_agrees_with_the_kpi_snapshots(tree, manager):
    inner = OrgUnitFactory(code="A-X", kind="branch", parent=tree.branch_a)
    from members.importers import rebuild_org_paths

    rebuild_org_paths()
    inner.refresh_from_db()
    _record(tree.branch_a, "branch_committee", local(2026, 1, 1))
    _record(tree.group_a, "party_group", local(2026, 1, 31, 23, 59, 59))
    _record(inner, "party_group", local(2026, 2, 10))
    _record(tree.branch_b, "general_assembly", local(2026, 3, 31, 23, 59, 59))
    _record(tree.branch_b, "party_lecture", local(2026, 4, 1))
    _record(tree.branch_a, "party_lecture", local(2026, 2, 12), status="cancelled")
    _record(tree.root, "branch_committee", local(2026, 2, 12))  # above every branch
    as_of = local(2026, 4, 1)
    months = [f"2026-{m:02d}" for m in range(1, 5)]
    engine.compute(months, as_of=as_of)

    rows = compliance_matrix(manager, year=2026, as_of=as_of)
    assert {r.branch for r in rows} == {tree.branch_a, inner, tree.branch_b}
    compared = 0
    # A branch's snapshot adds up the windows of the branches at or below it (a branch inside
    # branch A counts in A's figure); each matrix row is one branch's own windows.
    figures = {}
    for row in rows:
        for month, cell in zip(months, row.cells):
            ended = [state for window, state in cell.windows if window.end <= as_of]
            figures[row.branch, month] = (sum(state == "held" for state in ended), len(ended))
    for row in rows:
        for month in months:
            below = [figures[r.branch, month] for r in rows if r.branch.path.startswith(row.branch.path)]
            snapshot = KpiSnapshot.objects.get(kpi_id="meeting_compliance_rate", period=month, org_unit=row.branch)
            expected = (sum(met for met, _ in below), sum(required for _, required in below))
            assert expected == (snapshot.numerator, snapshot.denominator), (row.branch.code, month)
            compared += 1
    assert compared == 12
    january = KpiSnapshot.objects.get(kpi_id="meeting_compliance_rate", period="2026-01", org_unit=tree.branch_a)
    assert (january.numerator, january.denominator, january.value) == (2, 4, Decimal("0.5"))


def test_an_import_keeps_the_summary(tree):
    from portal.dataexchange import run_import

    text = ("ref,type,title,org_unit_code,held_at,status\n"
            "I-1,party_lecture,党课,A1,2026-03-31 23:59:59,held\n"
            "I-2,branch_committee,支委会,B,2026-01-05 09:00,held\n")
    assert run_import("activities", text.encode(), "a.csv").ok
    assert set(MeetingMonth.objects.values_list("branch__code", "month", "type")) == {
        ("A", datetime.date(2026, 3, 1), "party_lecture"), ("B", datetime.date(2026, 1, 1), "branch_committee")}
    moved = "ref,type,title,org_unit_code,held_at,status\nI-1,party_lecture,党课,B,2026-04-01 00:00,held\n"
    assert run_import("activities", moved.encode(), "b.csv").ok
    assert set(MeetingMonth.objects.values_list("branch__code", "month", "type")) == {
        ("B", datetime.date(2026, 4, 1), "party_lecture"), ("B", datetime.date(2026, 1, 1), "branch_committee")}
