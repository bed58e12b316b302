"""The hardship API: the pages' scope (outsider 404, employee 403), writes through the services
(separation of duties, one household per person), 400 with field errors."""
import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from members.hardship import services
from members.hardship.models import AssistanceRecord, HardshipHousehold

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 12, 6, 10, 0), tick=False):
        yield


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def household(owner, person_a):
    return services.household_register(by=owner, person=person_a, liaison=owner, reason="illness", level="severe",
                                       registered_on=datetime.date(2026, 3, 1), family_size=3)


def test_read_scope(owner, member, outsider, manager, household):
    listed = api(owner).get("/api/hardship-households/").json()["results"]
    assert [h["ref"] for h in listed] == [household.ref] and listed[0]["person"] == household.person.employee_no
    assert api(manager).get(f"/api/hardship-households/{household.pk}/").status_code == 200
    assert api(outsider).get("/api/hardship-households/").json()["results"] == []
    assert api(outsider).get(f"/api/hardship-households/{household.pk}/").status_code == 404
    assert api(member).get("/api/hardship-households/").status_code == 403
    assert api(manager).post("/api/hardship-households/", {}).status_code == 403


def test_register_step_review_and_assistance(owner, staff, person_a, outsider, person_b):
    created = api(owner).post("/api/hardship-households/", {
        "person": person_a.employee_no, "reason": "low_income", "level": "ordinary", "family_size": 2,
        "registered_on": "2026-11-01", "liaison": owner.username,
    })
    assert created.status_code == 201, created.json()
    household = HardshipHousehold.objects.get()
    assert created.json()["ref"] == household.ref and household.registered_by == owner
    twice = api(owner).post("/api/hardship-households/", {
        "person": person_a.employee_no, "reason": "low_income", "level": "ordinary", "registered_on": "2026-11-01",
        "liaison": owner.username,
    })
    assert twice.status_code == 400 and "person" in twice.json()
    foreign = api(owner).post("/api/hardship-households/", {
        "person": person_b.employee_no, "reason": "low_income", "level": "ordinary", "registered_on": "2026-11-01",
        "liaison": owner.username,
    })
    assert foreign.status_code == 400 and "person" in foreign.json()

    review = api(owner).post(f"/api/hardship-households/{household.pk}/review/",
                             {"reviewed_on": "2026-12-01", "outcome": "continue", "level": "severe"})
    assert review.status_code == 200 and review.json()["next_review_on"] == "2027-03-01"

    given = api(owner).post("/api/hardship-assistance/", {"household": household.ref, "given_on": "2026-12-02",
                                                         "kind": "subsidy", "amount": "800.00"})
    assert given.status_code == 201, given.json()
    assert AssistanceRecord.objects.get().amount == 800
    empty = api(owner).post("/api/hardship-assistance/", {"household": household.ref, "given_on": "2026-12-02", "kind": "subsidy"})
    assert empty.status_code == 400 and "amount" in empty.json()
    assert api(outsider).get("/api/hardship-assistance/").json()["results"] == []

    own = api(owner).post(f"/api/hardship-households/{household.pk}/step/",
                          {"action": "relieve", "on": "2026-12-05", "reason": "再就业"})
    assert own.status_code == 400
    assert api(outsider).post(f"/api/hardship-households/{household.pk}/step/",
                              {"action": "relieve", "on": "2026-12-05", "reason": "再就业"}).status_code == 404
    done = api(staff).post(f"/api/hardship-households/{household.pk}/step/",
                           {"action": "relieve", "on": "2026-12-05", "reason": "再就业"})
    assert done.status_code == 200 and done.json()["status"] == "relieved"
