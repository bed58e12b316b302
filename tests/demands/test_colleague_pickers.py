"""Pickers of colleagues (mediators, parties): the people of the user's scope, the user, and
whoever may act on the record's unit (portal.recipients) — not only people inside the scope."""
import datetime

import time_machine
from django.urls import reverse

from demands.models import MediationCase
from portal.roles import Role
from tests.conftest import make_user


def picked(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("demands:colleague_autocomplete"), params)
    assert response.status_code == 200
    return {r["value"] for r in response.json()["results"]}


def test_the_committee_staff_may_be_picked_for_a_branch_record(client, tree, owner, staff, handler, outsider, person_a):
    people = picked(client, owner, unit=tree.group_a.pk)
    assert {owner.person_id, staff.person_id, person_a.pk} <= people  # staff's scope holds group A1
    assert handler.person_id not in people  # a department's handler may not act on branch A
    assert outsider.person_id not in people
    # Without the record's unit: the scope and oneself only.
    assert staff.person_id not in picked(client, owner)


def test_a_user_picks_themself_even_outside_their_scope(client, tree):
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_b, person_unit=tree.department, username="sec_b")
    assert secretary.person_id in picked(client, secretary, q=secretary.person.name[:1])


def test_a_unit_outside_the_users_scope_adds_nobody(client, tree, owner, outsider):
    assert outsider.person_id not in picked(client, owner, unit=tree.branch_b.pk)


def test_mediation_with_a_mediator_from_the_committee(client, tree, owner, staff, person_a):
    client.force_login(owner)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, tzinfo=datetime.timezone.utc)):
        response = client.post(reverse("demands:mediation_create"), {
            "title": "工时纠纷", "org_unit": tree.group_a.pk, "opened_at": "2026-11-02T09:00", "description": "双方对工时有争议",
            "parties": [person_a.pk], "mediators": [owner.person_id, staff.person_id],
        })
    assert response.status_code == 302, response.context["form"].errors
    assert set(MediationCase.objects.get().mediators.values_list("pk", flat=True)) == {owner.person_id, staff.person_id}


def handlers(client, user, **params):
    client.force_login(user)
    return [r["value"] for r in client.get(reverse("demands:handler_autocomplete"), params).json()["results"]]


def test_handler_picker_offers_the_user_first_and_the_lead_units_accounts_next(client, tree, owner, staff, handler, outsider):
    found = handlers(client, staff)
    assert found[0] == staff.pk  # a staff member picks themself
    assert {owner.pk, handler.pk, outsider.pk} <= set(found)  # assignment crosses units (资源适配)
    found = handlers(client, staff, unit=tree.department.pk)
    assert set(found[:2]) == {staff.pk, handler.pk}  # the department's handler may act on it


def test_unit_picker_offers_units_outside_the_scope(client, tree, owner):
    client.force_login(owner)
    results = client.get(reverse("demands:unit_autocomplete"), {"q": "后勤"}).json()["results"]
    assert [r["value"] for r in results] == [tree.department.pk]
