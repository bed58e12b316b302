"""The SLA sweep (Celery beat): marks 即将到期 and 已超期, notifies the handler and the unit head,
escalates (督办) overdue demands to the unit above, and notifies nothing twice."""
import datetime

import pytest

from tests.demands.conftest import zh_prefix
import time_machine
from django.utils import timezone

from demands import services
from demands.calendar import TZ
from demands.choices import SlaFlag, Status
from demands.models import Demand, DemandEvent
from demands.tasks import sla_sweep
from portal.models import Notification
from tests.factories.demands import accepted, make_demand, policy

MONDAY_9 = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def local(day, hour, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def demand(db, tree, owner, staff, handler, member):
    policy(None, "normal", hours=4, days=2)  # response Mon 14:30, resolution Wed 17:30
    with time_machine.travel(MONDAY_9, tick=False):
        return make_demand(tree.group_a, submitter=member.person, by=owner)


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return sla_sweep()


DUE_SOON = zh_prefix("Due soon (%(deadline)s): demand %(ref)s")
OVERDUE = zh_prefix("Overdue (%(deadline)s): demand %(ref)s")
SUPERVISION = zh_prefix("Supervision (督办): demand %(ref)s is overdue")


def titles(user):
    return sorted(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_deadlines(demand):
    assert demand.response_due_at == local(23, 14, 30)
    assert demand.resolution_due_at == local(25, 17, 30)


def test_nothing_to_do_while_on_track(demand):
    counts = sweep_at(local(23, 10))
    assert sum(counts.values()) == 0


def test_response_due_soon_then_overdue_then_escalated(demand, owner, staff, handler):
    before = Notification.objects.count()
    counts = sweep_at(local(23, 13))
    assert counts["response_warning"] == 1 and counts["response_overdue"] == 0
    assert Demand.objects.get(pk=demand.pk).response_flag == SlaFlag.WARNING
    # Pending: no handler yet, so the unit head (secretary of branch A) is told.
    assert any(DUE_SOON in t for t in titles(owner))
    assert Notification.objects.count() == before + 1

    # Running again notifies nothing twice.
    assert sum(sweep_at(local(23, 13, 10)).values()) == 0
    assert Notification.objects.count() == before + 1

    counts = sweep_at(local(23, 15))
    assert counts == {**counts, "response_overdue": 1, "escalated": 1}
    demand.refresh_from_db()
    assert demand.response_flag == SlaFlag.OVERDUE and demand.escalated_at == local(23, 15)
    event = demand.events.last()
    assert (event.action, event.actor_label, event.data["to_unit"], event.data["deadline"]) == ("escalate", "system", "ROOT", "response")
    # 督办: the unit above (the party committee's staff) is told.
    assert any(SUPERVISION in t for t in titles(staff))
    assert any(OVERDUE in t for t in titles(owner))
    total = Notification.objects.count()
    assert sum(sweep_at(local(23, 16)).values()) == 0
    assert Notification.objects.count() == total
    assert DemandEvent.objects.filter(demand=demand, action="escalate").count() == 1


def test_resolution_deadline_for_the_handler(demand, owner, staff, handler):
    with time_machine.travel(local(23, 10), tick=False):
        demand = accepted(demand, by=owner, handler=handler)
        services.demand_reply(demand=demand, by=handler, text="正在办理")
    sweep_at(local(23, 15))  # the response was in time: nothing
    assert not titles(handler) or all(DUE_SOON not in t and "Overdue" not in t for t in titles(handler))
    counts = sweep_at(local(25, 11))
    assert counts["resolution_warning"] == 1
    assert any(DUE_SOON in t for t in titles(handler))
    counts = sweep_at(local(26, 9))
    assert counts["resolution_overdue"] == 1 and counts["escalated"] == 1
    assert any(OVERDUE in t for t in titles(handler))
    assert any(SUPERVISION in t for t in titles(staff))
    assert sum(sweep_at(local(26, 10)).values()) == 0


def test_finished_demands_are_not_swept(demand, owner):
    with time_machine.travel(local(23, 10), tick=False):
        services.demand_reject(demand=demand, by=owner, reason="不属于受理范围")
    assert sum(sweep_at(local(30, 9)).values()) == 0


def test_reopen_starts_a_new_deadline_with_fresh_marks(demand, owner, handler):
    with time_machine.travel(local(23, 10), tick=False):
        demand = accepted(demand, by=owner, handler=handler)
        demand = services.demand_reply(demand=demand, by=handler, text="处理中")
    sweep_at(local(26, 9))
    assert Demand.objects.get(pk=demand.pk).resolution_flag == SlaFlag.OVERDUE
    with time_machine.travel(local(26, 10), tick=False):
        demand = services.demand_resolve(demand=demand, by=handler, result="已处理")
        demand = services.demand_return_visit(demand=demand, by=owner, rating=1)
        demand = services.demand_reopen(demand=demand, by=owner, note="重新办理")
    assert (demand.status, demand.resolution_flag, demand.escalated_at) == (Status.IN_PROGRESS, "", None)
    assert demand.resolution_due_at == local(30, 17, 30)
    counts = sweep_at(local(30, 18))
    assert counts["resolution_overdue"] == 1 and counts["escalated"] == 1


@pytest.mark.celery_worker
def test_the_sweep_runs_on_a_real_worker(celery_worker, tree, owner, staff, handler, member):
    policy(None, "normal", hours=1, days=1)  # both deadlines passed a few days ago (not stale yet)
    received = timezone.now() - datetime.timedelta(days=5)
    demand = make_demand(tree.group_a, submitter=member.person, by=owner, received_at=received)
    accepted(demand, by=owner, handler=handler)
    result = sla_sweep.delay()
    celery_worker(lambda: Notification.objects.filter(user=staff, title__contains=demand.ref).exists(), timeout=60)
    celery_worker(lambda: celery_worker.succeeded("sla_sweep") >= 1, timeout=60)
    assert Demand.objects.get(pk=demand.pk).escalated_at is not None
    assert Notification.objects.filter(user=handler, title__contains=OVERDUE).exists()
    count = Notification.objects.count()
    # A second run on the worker notifies nothing.
    sla_sweep.delay()
    celery_worker(lambda: celery_worker.succeeded("sla_sweep") >= 2, timeout=60)
    assert Notification.objects.count() == count
    assert result.id


def test_long_passed_deadlines_are_marked_without_alarms(tree, owner, staff, handler, member):
    policy(None, "normal", hours=4, days=2)
    with time_machine.travel(datetime.datetime(2026, 9, 1, 9, tzinfo=TZ), tick=False):
        old = accepted(make_demand(tree.group_a, submitter=member.person, by=owner), by=owner, handler=handler)
    before = Notification.objects.count()
    counts = sweep_at(local(23, 9))
    assert counts["stale"] == 2 and counts["escalated"] == 0
    old.refresh_from_db()
    assert (old.response_flag, old.resolution_flag, old.escalated_at) == (SlaFlag.OVERDUE, SlaFlag.OVERDUE, None)
    assert Notification.objects.count() == before
    assert sum(sweep_at(local(23, 10)).values()) == 0
