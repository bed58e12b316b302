"""`seed_demo` builds an enterprise a newcomer can judge, and a second run changes nothing."""
import datetime

from django.core.management import call_command
from django.db.models import Max, Min

from activities.models import Activity
from demands.models import Demand, MediationCase, Visit
from members.models import OrgUnit, Person


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
