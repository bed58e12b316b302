"""`seed_demo` builds an enterprise a newcomer can judge, and a second run changes nothing."""
import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from activities.choices import CellState
from activities.models import Activity, MeetingMonth
from activities.selectors import compliance_matrix
from demands.models import Demand, DemandEvent, MediationCase, Visit
from members.models import OrgUnit, Person
from portal.roles import Role


def counts():
    return (OrgUnit.objects.count(), Person.objects.count(), Demand.objects.count(), Visit.objects.count(),
            MediationCase.objects.count(), Activity.objects.count())


def test_seed_demo_builds_eighteen_months_of_an_enterprise_and_is_idempotent(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    units, people, demands, visits, mediations, activities = first = counts()
    assert units >= 30 and 900 <= people <= 1200
    assert 2000 <= demands <= 5000 and visits >= 500 and mediations >= 20 and activities >= 300
    span = Demand.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    assert span["last"] - span["first"] >= datetime.timedelta(days=500)
    # Units differ, so rankings have a shape: not every unit is equally satisfied.
    rated = Demand.objects.filter(rating__isnull=False).values_list("org_unit__code", "rating")
    means = {}
    for code, rating in rated:
        means.setdefault(code[:4], []).append(rating)
    averages = [sum(v) / len(v) for v in means.values() if len(v) > 30]
    assert max(averages) - min(averages) > 0.4

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert counts() == first



def test_seed_demo_fills_the_meeting_summary_so_the_matrix_shows_held_meetings(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert MeetingMonth.objects.exists()
    manager = get_user_model().objects.filter(role=Role.MANAGER).first()
    branch = Activity.objects.filter(ref__startswith="DEMO-", status="held").first().org_unit
    year = timezone.localdate().year - 1  # a whole past year of the demo's history
    rows = {row.branch.pk: row for row in compliance_matrix(manager, year=year)}
    assert rows[branch.pk].met > 0
    assert any(cell.state == CellState.HELD for cell in rows[branch.pk].cells)


def test_seed_demo_early_in_the_morning_dates_nothing_in_the_future(db):
    """At 05:58 on a workday the demo's "today 09:00" demand has not been received yet."""
    with time_machine.travel(datetime.datetime(2026, 12, 7, 5, 58, tzinfo=ZoneInfo(settings.TIME_ZONE))):
        call_command("seed_demo", stdout=open("/dev/null", "w"))
        now = timezone.now()
        assert Demand.objects.filter(ref="SQ2026-000101").exists()
        assert not Demand.objects.filter(received_at__gt=now).exists()
        assert not DemandEvent.objects.filter(at__gt=now).exists()
