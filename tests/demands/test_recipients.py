"""Who is told (portal.recipients, the one rule): 督办 reaches the supervisors above the unit that
answers for a demand and the staff member who accepted it; low ratings reach the acceptor and the
lead unit's heads; responsibility items and meeting reminders follow the same rule."""
import datetime

import pytest
import time_machine

from activities.tasks import meeting_reminders, responsibility_sweep
from demands import services
from demands.calendar import TZ
from demands.tasks import sla_sweep
from portal.models import Notification
from portal.recipients import accounts_acting_on, recipients_for, supervisors_of
from tests.demands.conftest import zh, zh_prefix
from tests.factories.activities import ItemFactory, local as act_local
from tests.factories.demands import accepted, make_demand, policy

MONDAY_9 = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
SUPERVISION = zh_prefix("Supervision (督办): demand %(ref)s is overdue")


def titles(user):
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


def overdue_demand(unit, *, by, handler, lead_unit=None):
    policy(None, "normal", hours=4, days=2)
    with time_machine.travel(MONDAY_9, tick=False):
        demand = make_demand(unit, by=by)
        return accepted(demand, by=by, handler=handler, lead_unit=lead_unit)


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return sla_sweep()


def test_department_led_demand_escalates_to_the_committee(tree, owner, staff, manager, handler):
    """A department directly under the 党委 has no account: 督办 names the committee and reaches its
    staff and manager, and the branch secretary who accepted it."""
    demand = overdue_demand(tree.group_a, by=owner, handler=handler, lead_unit=tree.department)
    sweep_at(datetime.datetime(2026, 11, 26, 9, tzinfo=TZ))
    assert {e.data["to_unit"] for e in demand.events.filter(action="escalate")} == {"ROOT"}
    for user in (staff, manager, owner):
        assert any(SUPERVISION in t for t in titles(user)), user


def test_a_unit_without_accounts_escalates_further_up(tree, manager, admin_user, handler):
    """Nobody answers for group A1 or branch A: the committee's manager supervises it."""
    demand = overdue_demand(tree.group_a, by=admin_user, handler=handler)
    sweep_at(datetime.datetime(2026, 11, 26, 9, tzinfo=TZ))
    assert {e.data["to_unit"] for e in demand.events.filter(action="escalate")} == {"ROOT"}
    assert any(SUPERVISION in t for t in titles(manager))


def test_escalation_is_never_to_nobody(tree, admin_user):
    users, unit = supervisors_of(tree.group_a)
    assert users == [admin_user] and unit == tree.root


def test_recipients_are_the_nearest_level(tree, owner, staff, manager):
    assert recipients_for(tree.group_a).users == [owner]
    assert recipients_for(tree.department).users == [staff]
    assert supervisors_of(tree.group_a).unit == tree.root
    assert set(supervisors_of(tree.group_a).users) == {staff, manager}
    assert set(accounts_acting_on(tree.department)) == {staff, manager}


@pytest.fixture
def resolved_by_department(tree, owner, staff, handler, member):
    with time_machine.travel(MONDAY_9, tick=False):
        demand = make_demand(tree.group_a, submitter=member.person, by=owner)
        demand = accepted(demand, by=owner, handler=handler, lead_unit=tree.department)
        demand = services.demand_reply(demand=demand, by=handler, text="已联系")
        return services.demand_resolve(demand=demand, by=handler, result="已解决")


def rate_by_link(client, demand, rating):
    url = Notification.objects.get(url__startswith="/demands/rate/", title__contains=demand.ref).url
    # The next day: the link is valid for RATING_LINK_DAYS after the resolution, whatever today is.
    with time_machine.travel(MONDAY_9 + datetime.timedelta(days=1), tick=False):
        response = client.post(url, {"rating": str(rating), "comment": "还是没解决"})
    assert response.status_code in (200, 302)


def test_low_rating_from_the_link_alerts_the_acceptor_and_lead_unit_staff(client, resolved_by_department, owner, staff):
    rate_by_link(client, resolved_by_department, 2)
    title = zh("Demand %(ref)s was rated %(n)d: consider reopening it", ref=resolved_by_department.ref, n=2)
    assert title in titles(owner)  # accepted it
    assert title in titles(staff)  # the department's heads: the committee's staff


def test_good_rating_alerts_nobody(client, resolved_by_department, owner, staff):
    rate_by_link(client, resolved_by_department, 4)
    assert not Notification.objects.filter(title__contains="4").filter(title__contains=resolved_by_department.ref).exists()
    assert not any("重新办理" in t or "reopen" in t for t in titles(owner) + titles(staff))


def test_overdue_item_of_a_department_reaches_the_committee_staff(tree, staff, handler):
    ItemFactory(lead_org_unit=tree.department, responsible=handler.person, deadline=datetime.date(2026, 6, 1), title="逾期事项")
    responsibility_sweep("2026-06-10")
    assert any("逾期事项" in t for t in titles(staff))
    assert any("逾期事项" in t for t in titles(handler))


def test_meeting_reminder_of_a_branch_without_secretary_reaches_the_committee_staff(tree, owner, staff):
    meeting_reminders(act_local(2026, 3, 27, 8, 20).isoformat())
    assert any(tree.branch_b.name in t for t in titles(staff))  # branch B has no secretary account
    assert not any(tree.branch_a.name in t for t in titles(staff))  # branch A's secretary is told instead
    assert any(tree.branch_a.name in t for t in titles(owner))
