"""manage.py generate_scale_data and the generator behind it (benchmarks/scale/), at tiny scales:
proportional counts, valid keys and hash chains, statuses the workflow allows, accounts that log in
and see their scope, the same rows for the same seed, refusal of a database that is not empty."""
from __future__ import annotations

import datetime
import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F
from django.urls import reverse

from activities.models import Activity, Attendance, ItemEvent, ResponsibilityItem
from demands import chain, workflow
from demands.choices import OPEN_STATUSES
from demands.models import Demand, DemandEvent, LifeEvent, MediationCase, RefCounter, Visit
from demands.services import next_ref
from evaluation.models import KpiSnapshot, KpiTarget
from evaluation.periods import LOCAL_TZ, maintained_periods
from members.models import OrgUnit, Person, PointsEntry
from benchmarks import scale
from benchmarks.management.commands.generate_scale_data import Command as GenerateScaleData
from portal.models import User
from portal.roles import has_permission
from benchmarks.scale import texts
from portal.scope import visible
from tests.factories import OrgUnitFactory
from tests.factories.demands import make_demand

UNTIL = datetime.datetime(2026, 6, 15, 10, 30, tzinfo=LOCAL_TZ)
START = UNTIL - datetime.timedelta(days=3 * 365)
PASSWORD = "Scale@2026"


def generate(scale_=0.002, seed=1, kpis=False):
    return scale.generate(sizes=scale.Sizes.at(scale_), seed=seed, start=START, until=UNTIL, password=PASSWORD, kpis=kpis)


@pytest.fixture
def data(db):
    return generate(kpis=True)


def test_counts_are_the_sizes_asked_for(data):
    sizes = scale.Sizes.at(0.002)
    root = OrgUnit.objects.get(code="SCALE-1")
    assert sizes == scale.Sizes(units=10, people=200, demands=2000, activities=200, attendance=4000, items=100,
                                mediations=40, life_events=60, visits=120)
    assert OrgUnit.objects.filter(path__startswith=root.path).count() == sizes.units
    assert Person.objects.count() == sizes.people
    assert Demand.objects.count() == sizes.demands
    assert Activity.objects.count() == sizes.activities
    assert Attendance.objects.count() == sizes.attendance
    assert ResponsibilityItem.objects.count() == sizes.items
    assert MediationCase.objects.count() == sizes.mediations
    assert LifeEvent.objects.count() == sizes.life_events
    assert Visit.objects.count() == sizes.visits
    # Derived records: every step of every demand, and the rest in proportion.
    assert 3 * sizes.demands < DemandEvent.objects.count() < 7 * sizes.demands
    assert ItemEvent.objects.count() > sizes.items
    assert PointsEntry.objects.filter(source="attendance").count() > 0
    assert data.counts["demands"] == sizes.demands and data.counts["attendance"] == sizes.attendance
    # Three years ending at `until`.
    first, last = (Demand.objects.order_by(f).values_list("received_at", flat=True)[0] for f in ("received_at", "-received_at"))
    assert START <= first < START + datetime.timedelta(days=30) and UNTIL - datetime.timedelta(days=3) < last <= UNTIL
    assert {y for y in Demand.objects.values_list("received_at__year", flat=True).distinct()} == {2023, 2024, 2025, 2026}
    # KPI targets for every year and the snapshots the beat keeps.
    assert set(KpiTarget.objects.filter(org_unit=root).values_list("year", flat=True)) == {2023, 2024, 2025, 2026}
    periods = {p.key for p in maintained_periods(UNTIL)}
    assert set(KpiSnapshot.objects.filter(org_unit=root).values_list("period", flat=True)) == periods
    snapshot = KpiSnapshot.objects.get(org_unit=root, period="2026", kpi_id="demand_intake")
    assert snapshot.value == Demand.objects.filter(received_at__gte=datetime.datetime(2026, 1, 1, tzinfo=LOCAL_TZ)).count()


def test_sizes_scale_with_the_scale_and_the_window():
    full = scale.Sizes.at(1)
    assert (full.units, full.people, full.demands, full.activities, full.attendance, full.items, full.mediations) == (
        5_000, 100_000, 1_000_000, 100_000, 2_000_000, 50_000, 20_000)
    one_year = scale.Sizes.at(1, years=1)
    assert one_year.demands == 1_000_000 and one_year.activities == 33_333 and one_year.attendance == 666_667
    tiny = scale.Sizes.at(0.00001)
    assert tiny.units == 6 and tiny.people == 20 and tiny.demands == 10 and tiny.items == 1


def test_keys_chains_and_references_are_valid(data):
    assert chain.verify_chains() == []
    # With the triggers bypassed nothing checked the foreign keys: every one must point somewhere.
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.app_label not in ("members", "demands", "activities", "portal", "evaluation"):
                continue
            for field in model._meta.concrete_fields:
                if field.many_to_one or field.one_to_one:
                    cursor.execute(
                        f"SELECT count(*) FROM {model._meta.db_table} x WHERE x.{field.column} IS NOT NULL AND NOT EXISTS "
                        f"(SELECT 1 FROM {field.related_model._meta.db_table} y WHERE y.{field.target_field.column} = x.{field.column})")
                    assert cursor.fetchone()[0] == 0, f"{model.__name__}.{field.name}"
    # The portal goes on numbering after the generated references, and ids do not collide.
    latest = Demand.objects.filter(ref__startswith="SQ2026-").order_by("-ref").values_list("ref", flat=True)[0]
    assert RefCounter.objects.get(prefix="SQ", year=2026).value == int(latest.split("-")[1])
    assert next_ref(Demand, UNTIL) == f"SQ2026-{int(latest.split('-')[1]) + 1:06d}"
    for model in (LifeEvent, Visit, MediationCase):
        assert RefCounter.objects.filter(year=2026, value__gt=0).exists()
        assert not model.objects.filter(ref=next_ref(model, UNTIL)).exists()
    unit = OrgUnit.objects.create(code="NEW", name="新单位", kind="branch")
    Activity.objects.create(type="theme_party_day", title="新活动", org_unit=unit, held_at=UNTIL)
    assert Demand.objects.order_by("-pk")[0].pk == data.counts["demands"] + Demand.objects.order_by("pk")[0].pk - 1


def test_demands_follow_the_workflow(data):
    until = UNTIL
    status_counts = dict(Demand.objects.values_list("status").annotate(n=Count("id")))
    assert {"pending", "accepted", "in_progress", "resolved", "visited", "closed", "withdrawn", "rejected"} <= set(status_counts)
    assert status_counts["visited"] > data.counts["demands"] // 2
    finished = Demand.objects.filter(status__in=["resolved", "visited", "closed"])
    assert not finished.filter(resolved_at__isnull=True).exists()
    assert not finished.filter(first_response_at__isnull=True).exists()
    assert not Demand.objects.filter(status="visited", return_visit_at__isnull=True).exists()
    assert not Demand.objects.filter(rating__isnull=False, return_visit_at__isnull=True).exists()
    assert Demand.objects.filter(status="visited", rating__isnull=False).count() > 0.9 * status_counts["visited"]
    assert not Demand.objects.filter(status__in=OPEN_STATUSES, resolved_at__isnull=False).exists()
    assert not Demand.objects.filter(status="pending").exclude(handler=None).exists()
    assert not Demand.objects.filter(status__in=["accepted", "in_progress"], handler=None).exists()
    assert not Demand.objects.filter(status="rejected", first_response_at__isnull=True).exists()
    assert Demand.objects.filter(status="resolved").exclude(rating_nonce="").count() == status_counts["resolved"]
    # Overdue ones were escalated (督办) and flagged like the SLA sweep does; some are still open.
    assert Demand.objects.filter(status__in=OPEN_STATUSES, resolution_due_at__lt=until, resolution_flag="overdue").exists()
    assert not Demand.objects.filter(escalated_at__isnull=False).exclude(events__action="escalate").exists()
    # Handlers may handle; every timeline step is a transition of demands/workflow.py.
    handlers = User.objects.filter(assigned_demands__isnull=False).distinct()
    assert all(has_permission(user, "demands.handle") for user in handlers)
    steps = DemandEvent.objects.exclude(action__in=["submit", "escalate"]).values_list(
        "from_status", "action", "to_status").distinct()
    for from_status, action, to_status in steps:
        transition = workflow.TABLE.get((from_status, action))
        assert transition is not None and transition.to == to_status, (from_status, action, to_status)
    assert DemandEvent.objects.filter(action="escalate", from_status__in=OPEN_STATUSES).count() == \
        DemandEvent.objects.filter(action="escalate").count()
    assert not DemandEvent.objects.filter(at__gt=until).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM demands_demandevent e JOIN demands_demandevent f ON f.demand_id = e.demand_id "
                       "AND f.seq = e.seq + 1 WHERE f.at < e.at")
        assert cursor.fetchone()[0] == 0
        # A demand is received when its first event says so, and updated with its last.
        cursor.execute("SELECT count(*) FROM demands_demand d JOIN demands_demandevent e ON e.demand_id = d.id AND e.seq = 1 "
                       "WHERE e.at <> d.received_at OR e.action <> 'submit'")
        assert cursor.fetchone()[0] == 0


def test_activities_attendance_and_items(data):
    # Attendance only of party members on their own branch's (or group's) roster; none at cancelled ones.
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM activities_attendance t
            JOIN activities_activity a ON a.id = t.activity_id JOIN members_orgunit au ON au.id = a.org_unit_id
            JOIN members_person p ON p.id = t.person_id JOIN members_orgunit pu ON pu.id = p.org_unit_id
            WHERE p.political_status NOT IN ('full_member', 'probationary_member') OR NOT pu.path LIKE au.path || '%%'
               OR a.status = 'cancelled'""")
        assert cursor.fetchone()[0] == 0
    assert set(Activity.objects.values_list("type", flat=True)) >= {
        "branch_committee", "party_group", "general_assembly", "party_lecture", "theme_party_day"}
    assert set(Activity.objects.values_list("status", flat=True)) == {"planned", "held", "cancelled"}
    assert not Activity.objects.filter(status="held", held_at__gt=UNTIL).exists()
    assert not Attendance.objects.filter(activity__status="planned").exclude(status="absent").exists()
    assert set(Attendance.objects.values_list("status", flat=True)) == {"present", "leave", "absent"}
    assert not PointsEntry.objects.exclude(source_key__startswith="attendance:").filter(source="attendance").exists()
    # Items: approved ones are complete, the others not; nobody approved their own item.
    assert not ResponsibilityItem.objects.filter(status="approved", completed_at__isnull=True).exists()
    assert not ResponsibilityItem.objects.exclude(status="approved").filter(completed_at__isnull=False).exists()
    assert set(ResponsibilityItem.objects.values_list("status", flat=True)) >= {"approved", "in_progress", "submitted"}
    assert not ItemEvent.objects.filter(kind="approve", by__person=F("item__responsible")).exists()
    assert ResponsibilityItem.objects.filter(parent__isnull=False).exists()
    # 五必访: a must-visit belongs to its life event's person.
    assert not Visit.objects.filter(life_event__isnull=False).exclude(person=F("life_event__person")).exists()
    assert not MediationCase.objects.filter(concluded_at__isnull=False, outcome="").exists()


def test_the_meetings_are_in_the_summary_the_matrix_reads(data):
    """The 三会一课 summary counts the generated meetings as the services and imports keep it: the
    matrix shows held windows, not a year of missing ones."""
    from activities import compliance, meeting_summary
    from activities.models import MeetingMonth

    generated = {(row.branch_id, row.month, row.type): row.held for row in MeetingMonth.objects.all()}
    assert generated
    meeting_summary.refresh()
    assert {(row.branch_id, row.month, row.type): row.held for row in MeetingMonth.objects.all()} == generated
    assert Activity.objects.filter(compliance.COUNTED).exists()


def test_benchmark_accounts_log_in_and_see_their_scope(data, client):
    users = {u.username: u for u in User.objects.filter(username__startswith="bench_").select_related("scope_org")}
    assert set(users) == set(scale.org.BENCH_USERNAMES)
    assert data.bench == {name: name for name in scale.org.BENCH_USERNAMES}
    root = OrgUnit.objects.get(code="SCALE-1")
    assert users["bench_manager"].scope_org == root and users["bench_staff"].scope_org == root
    assert users["bench_staff"].person.org_unit.name == "党群工作部"
    secretary, handler, employee = users["bench_secretary"], users["bench_handler"], users["bench_employee"]
    assert secretary.scope_org.kind == "branch" and employee.person is not None
    # The secretary's branch is the biggest; the handler has open demands; the employee has demands.
    biggest = max(OrgUnit.objects.filter(kind="branch"),
                  key=lambda b: Person.objects.filter(org_unit__path__startswith=b.path).count())
    assert secretary.scope_org == biggest
    assert Demand.objects.filter(handler=handler, status__in=["accepted", "in_progress"]).exists()
    assert Demand.objects.filter(submitter=employee.person).exists()
    for username, permission, expected in [
        ("bench_staff", "demands.view", Demand.objects.count()),
        ("bench_secretary", "demands.view", None),
        ("bench_secretary", "tasks.view", None),
        ("bench_employee", "demands.view", None),
    ]:
        user = users[username]
        seen = visible(Demand.objects.all() if permission.startswith("demands") else ResponsibilityItem.objects.all(), user,
                       permission)
        assert seen.exists(), (username, permission)
        if expected is not None:
            assert seen.count() == expected
    assert visible(Demand.objects.all(), secretary, "demands.view").exclude(
        org_unit__path__startswith=secretary.scope_org.path).count() <= \
        Demand.objects.filter(handler=secretary).count() + Demand.objects.filter(submitter=secretary.person).count()
    assert not visible(Demand.objects.all(), employee, "demands.view").exclude(submitter=employee.person).exists()
    # They log in with the one password and the pages show records.
    demand = Demand.objects.filter(org_unit__path__startswith=secretary.scope_org.path).first()
    pages = [
        ("bench_staff", "/demands/queue/pending/"), ("bench_staff", "/demands/?status=in_progress"),
        ("bench_staff", f"/demands/{demand.pk}/"), ("bench_handler", "/demands/queue/todo/"),
        ("bench_secretary", "/activities/tasks/"), ("bench_secretary", "/activities/compliance/"),
        ("bench_secretary", f"/members/people/{secretary.person_id}/"), ("bench_manager", "/evaluation/"),
        ("bench_employee", "/demands/mine/"), ("bench_admin", "/api/demands/"),
    ]
    for username, url in pages:
        response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
        assert response.status_code == 302, username  # logged in, on to the home page
        response = client.get(url)
        assert response.status_code == 200, (username, url, response.status_code)
        client.logout()


GENERATED_TABLES = [
    "members_orgunit", "members_person", "portal_user", "members_pointsentry", "demands_demand", "demands_demandevent",
    "demands_demand_cooperating_units", "demands_mediationcase", "demands_mediationcase_parties",
    "demands_mediationcase_mediators", "demands_mediationsession", "demands_mediationfollowup", "demands_lifeevent",
    "demands_visit", "demands_refcounter", "activities_activity", "activities_attendance",
    "activities_responsibilityitem", "activities_itemevent", "evaluation_kpitarget",
]


def fingerprint() -> dict[str, str]:
    """A digest of every generated row, all columns (ids and hashes too) but the password hashes
    (salted at random) and the KPI targets' update stamp."""
    digests = {}
    with connection.cursor() as cursor:
        for table in GENERATED_TABLES:
            cursor.execute(f"SELECT md5(string_agg(r::text, '|' ORDER BY r::text)) FROM "
                           f"(SELECT to_jsonb(t) - 'password' - 'updated_at' AS r FROM {table} t) s")
            digests[table] = cursor.fetchone()[0]
    return digests


def empty_generated_tables() -> None:
    """Delete everything the generator writes and restart the sequences (transactional: the test's
    rollback undoes it), so that a second run starts from the same ids as the first."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(GENERATED_TABLES)} RESTART IDENTITY CASCADE")


def test_the_same_seed_gives_the_same_rows(db):
    empty_generated_tables()
    generate(0.0005, seed=7)
    first = fingerprint()
    assert all(first.values())
    empty_generated_tables()
    generate(0.0005, seed=7)
    assert fingerprint() == first
    empty_generated_tables()
    generate(0.0005, seed=8)
    other = fingerprint()
    assert other["demands_demandevent"] != first["demands_demandevent"] and other["members_person"] != first["members_person"]


def test_the_command_refuses_a_database_that_is_not_empty(db):
    out = io.StringIO()
    args = ["--scale", "0.0005", "--until", "2026-06-15", "--password", PASSWORD, "--no-kpis"]
    OrgUnitFactory(code="REAL", kind="committee")
    call_command(GenerateScaleData(), *args, stdout=out)
    assert "bench_secretary" in out.getvalue() and "Done in" in out.getvalue()
    with pytest.raises(CommandError, match="not empty: it already holds scale data"):
        call_command(GenerateScaleData(), *args, stdout=out)
    with pytest.raises(CommandError, match="seed 1 .* already in this database"):
        call_command(GenerateScaleData(), *args, "--force", stdout=out)
    # With --force another seed adds a second data set; the bench_* names stay with the first.
    call_command(GenerateScaleData(), *args, "--force", "--seed", "2", stdout=out)
    assert User.objects.filter(username="s2_bench_secretary", scope_org__code__startswith="S2-").exists()
    assert OrgUnit.objects.filter(code="SCALE-2").exists()


def test_the_command_refuses_a_database_with_demands(db):
    empty_generated_tables()
    make_demand(OrgUnitFactory(code="REAL", kind="branch"))
    with pytest.raises(CommandError, match="not empty: it already holds demands"):
        call_command(GenerateScaleData(), "--scale", "0.0005", stdout=io.StringIO())


def test_bench_kpis_generates_with_the_same_generator(db):
    """bench_kpis keeps its options and its window (by default every demand in the timed year);
    its timing part (VACUUM) cannot run inside a test's transaction."""
    from benchmarks.management.commands.bench_kpis import Command

    empty_generated_tables()
    options = {"demands": 400, "units": 12, "people": 60, "spread_years": 1}
    counts = Command().generate(2025, options)
    assert counts["demands"] == 400 and counts["org units"] == 12 and counts["people"] == 60
    received = Demand.objects.values_list("received_at", flat=True)
    assert {r.astimezone(LOCAL_TZ).year for r in received} == {2025}
    assert {h.astimezone(LOCAL_TZ).year for h in Activity.objects.values_list("held_at", flat=True)} <= {2025, 2026}
    assert chain.verify_chains() == []
    with pytest.raises(CommandError, match="already in this database.*--reuse"):
        Command().generate(2025, options)


def test_text_pools_are_safe_for_the_fast_copy_path():
    pools = [v for k, v in vars(texts).items() if k.isupper() and isinstance(v, (list, dict))]
    strings = []
    for pool in pools:
        for value in pool.values() if isinstance(pool, dict) else pool:
            strings += value if isinstance(value, list) else [value]
    assert strings and all('"' not in s and "\\" not in s and "'" not in s for s in strings)
