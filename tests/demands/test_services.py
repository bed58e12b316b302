"""Every workflow step as a service: it changes the demand and writes a hash-chained DemandEvent
in the same transaction; forbidden steps change nothing."""
import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from demands import chain, services
from demands.calendar import TZ
from demands.choices import Status
from demands.models import Demand, DemandEvent
from demands.workflow import WorkflowError
from portal.models import Notification
from tests.conftest import make_user
from tests.factories.demands import accepted, category, make_demand, policy, resolved

pytestmark = pytest.mark.django_db

MONDAY_9 = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


@pytest.fixture
def demand(tree, member, owner):
    with time_machine.travel(MONDAY_9, tick=False):
        return make_demand(tree.group_a, submitter=member.person, by=owner)


def chain_ok(demand):
    return chain.verify_chains([demand.pk]) == []


def actions(demand):
    return list(demand.events.order_by("seq").values_list("action", flat=True))


def test_submit_computes_deadlines_from_the_policy_and_starts_the_chain(tree, member, owner):
    cat = category("housing", "住房")
    policy(cat, "urgent", hours=2, days=3)
    with time_machine.travel(MONDAY_9, tick=False):
        demand = make_demand(tree.group_a, submitter=member.person, by=owner, urgency="urgent", category_obj=cat)
    assert demand.status == Status.PENDING
    assert demand.ref.startswith("SQ2026-")
    assert demand.received_at == MONDAY_9
    assert demand.response_due_at == datetime.datetime(2026, 11, 23, 11, 0, tzinfo=TZ)
    assert demand.resolution_due_at == datetime.datetime(2026, 11, 26, 17, 30, tzinfo=TZ)
    assert len(demand.tracking_code) == 12
    event = demand.events.get()
    assert (event.seq, event.action, event.to_status, event.prev_hash) == (1, "submit", "pending", "")
    assert event.hash == chain.compute_hash("", chain.payload_of(event))
    # The unit head (secretary of branch A, the nearest unit with an account) is told.
    assert Notification.objects.filter(user=owner, url=demand.get_absolute_url()).exists()


def test_default_policy_applies_without_one_for_the_category(tree, owner):
    policy(None, "normal", hours=8, days=10)
    with time_machine.travel(MONDAY_9, tick=False):
        demand = make_demand(tree.branch_a, by=owner, category_obj=category("career", "职业发展"))
    assert demand.resolution_due_at == datetime.datetime(2026, 12, 7, 17, 30, tzinfo=TZ)


def test_refs_are_sequential_and_skip_imported_ones(tree, owner):
    first = make_demand(tree.branch_a, by=owner)
    number = int(first.ref[-6:])
    Demand.objects.filter(pk=first.pk).update(ref="X")
    make_demand(tree.branch_a, by=owner)  # takes number + 1
    Demand.objects.create(ref=f"SQ2026-{number + 2:06d}", title="导入", category=first.category, org_unit=tree.branch_a,
                          received_at=first.received_at)
    third = make_demand(tree.branch_a, by=owner)
    assert third.ref == f"SQ2026-{number + 3:06d}"


def test_accept_assigns_and_notifies_the_handler(demand, owner, handler, tree):
    demand = services.demand_accept(demand=demand, by=owner, category=demand.category, urgency="normal", handler=handler,
                                    lead_unit=tree.department, cooperating_units=[tree.branch_b], note="请后勤牵头")
    demand.refresh_from_db()
    assert demand.status == Status.ACCEPTED
    assert (demand.handler, demand.lead_unit) == (handler, tree.department)
    assert list(demand.cooperating_units.all()) == [tree.branch_b]
    event = demand.events.get(seq=2)
    assert event.data["handler"] == handler.username and event.actor == owner and event.note == "请后勤牵头"
    assert Notification.objects.filter(user=handler).exists()
    assert chain_ok(demand)


def test_reclassifying_at_acceptance_recomputes_the_deadlines_from_receipt(demand, owner, handler):
    policy(None, "urgent", hours=2, days=1)
    services.demand_accept(demand=demand, by=owner, category=demand.category, urgency="urgent", handler=handler)
    demand.refresh_from_db()
    assert demand.response_due_at == datetime.datetime(2026, 11, 23, 11, 0, tzinfo=TZ)
    assert demand.resolution_due_at == datetime.datetime(2026, 11, 24, 17, 30, tzinfo=TZ)


def test_accept_needs_an_account_that_can_handle(demand, owner, member):
    with pytest.raises(ValidationError):
        services.demand_accept(demand=demand, by=owner, category=demand.category, urgency="normal", handler=member)
    assert Demand.objects.get(pk=demand.pk).status == Status.PENDING


@pytest.mark.parametrize("who", ["outsider", "handler", "member", "manager"])
def test_accept_is_refused_outside_the_table(demand, who, request, handler):
    user = request.getfixturevalue(who)
    with pytest.raises(WorkflowError):
        services.demand_accept(demand=demand, by=user, category=demand.category, urgency="normal", handler=handler)
    assert actions(Demand.objects.get(pk=demand.pk)) == ["submit"]


def test_the_whole_loop(demand, owner, handler, member):
    demand = accepted(demand, by=owner, handler=handler)
    demand = services.demand_reply(demand=demand, by=handler, text="已联系食堂")
    assert demand.status == Status.IN_PROGRESS and demand.first_response_at is not None
    first = demand.first_response_at
    demand = services.demand_reply(demand=demand, by=handler, text="下周一起增加两个菜品")
    assert demand.first_response_at == first  # the first response stays the first
    demand = services.demand_resolve(demand=demand, by=handler, result="已增加菜品")
    assert demand.status == Status.RESOLVED and demand.resolved_at and demand.rating_nonce
    rating_link = Notification.objects.get(user=member, title__contains=demand.ref, url__startswith="/demands/rate/")
    assert services.demand_for_rating_link(rating_link.url.split("/")[-2]).pk == demand.pk
    demand = services.demand_rate(demand=demand, by=member, rating=5, comment="满意")
    assert (demand.status, demand.rating, demand.rating_nonce) == (Status.VISITED, 5, "")
    assert demand.return_visit_at >= demand.resolved_at
    assert actions(demand) == ["submit", "accept", "reply", "reply", "resolve", "rate"]
    assert chain_ok(demand)


def test_only_the_assigned_handler_replies_and_resolves(demand, owner, handler, tree, admin_user):
    other = make_user("handler", tree.department, person_unit=tree.department, username="other-handler")
    demand = accepted(demand, by=owner, handler=handler)
    for user in (other, owner):
        with pytest.raises(WorkflowError):
            services.demand_reply(demand=demand, by=user, text="x")
    # Administrators may act on anything (roles.md).
    services.demand_reply(demand=demand, by=admin_user, text="管理员答复")


def test_reply_and_resolve_need_text(demand, owner, handler):
    demand = accepted(demand, by=owner, handler=handler)
    with pytest.raises(ValidationError):
        services.demand_reply(demand=demand, by=handler, text="  ")
    with pytest.raises(ValidationError):
        services.demand_resolve(demand=demand, by=handler, result="")


def test_reject_with_reason(demand, owner, member):
    with pytest.raises(ValidationError):
        services.demand_reject(demand=demand, by=owner, reason="")
    demand = services.demand_reject(demand=demand, by=owner, reason="不属于受理范围")
    assert demand.status == Status.REJECTED and demand.resolution == "不属于受理范围"
    assert Notification.objects.filter(user=member, body="不属于受理范围").exists()
    with pytest.raises(WorkflowError):
        services.demand_withdraw(demand=demand, by=member)


def test_withdraw_by_the_submitter_but_not_by_another_employee(demand, member, tree):
    stranger = make_user("employee", tree.group_a, username="stranger")
    with pytest.raises(WorkflowError):
        services.demand_withdraw(demand=demand, by=stranger)
    demand = services.demand_withdraw(demand=demand, by=member, reason="已自行解决")
    assert demand.status == Status.WITHDRAWN


def test_transfer_changes_unit_and_handler_but_not_the_deadlines(demand, owner, handler, tree):
    other = make_user("handler", tree.branch_b, person_unit=tree.branch_b, username="handler-b")
    demand = accepted(demand, by=owner, handler=handler)
    due = demand.resolution_due_at
    demand = services.demand_transfer(demand=demand, by=owner, lead_unit=tree.branch_b, handler=other, note="转第二支部")
    assert (demand.status, demand.handler, demand.lead_unit, demand.resolution_due_at) == (Status.ACCEPTED, other, tree.branch_b, due)
    assert demand.events.last().data["previous"]["handler"] == handler.username
    with pytest.raises(WorkflowError):
        services.demand_reply(demand=demand, by=handler, text="不是我的了")


def test_return_visit_by_staff_and_reopen_after_a_low_rating(demand, owner, handler):
    demand = resolved(demand, by=owner, handler=handler)
    demand = services.demand_return_visit(demand=demand, by=owner, rating=2, comment="没有解决")
    assert demand.status == Status.VISITED and demand.rating_nonce == ""
    with pytest.raises(ValidationError):
        services.demand_reopen(demand=demand, by=owner, note="")
    demand = services.demand_reopen(demand=demand, by=owner, note="重新协调")
    assert demand.status == Status.IN_PROGRESS
    assert (demand.resolved_at, demand.return_visit_at, demand.rating) == (None, None, None)
    event = demand.events.last()
    assert event.data["previous"]["rating"] == 2
    assert demand.resolution_due_at > event.at
    assert chain_ok(demand)


def test_reopen_is_refused_after_a_good_rating(demand, owner, handler):
    demand = resolved(demand, by=owner, handler=handler)
    demand = services.demand_return_visit(demand=demand, by=owner, rating=4)
    with pytest.raises(WorkflowError):
        services.demand_reopen(demand=demand, by=owner, note="再办")


def test_close_without_a_return_visit(demand, owner, handler):
    demand = resolved(demand, by=owner, handler=handler)
    demand = services.demand_close(demand=demand, by=owner, note="电话无人接听")
    assert demand.status == Status.CLOSED and demand.rating_nonce == ""


def test_merge_a_duplicate(demand, owner, tree, member):
    duplicate = make_demand(tree.group_a, submitter=member.person, by=owner, title="食堂午餐菜品太单一")
    with pytest.raises(ValidationError):
        services.demand_merge(demand=duplicate, by=owner, target=duplicate)
    duplicate = services.demand_merge(demand=duplicate, by=owner, target=demand, note="重复")
    assert (duplicate.status, duplicate.merged_into_id) == (Status.CLOSED, demand.pk)
    assert duplicate.resolved_at is not None
    assert demand.events.last().action == "merged_in"
    assert chain_ok(duplicate) and chain_ok(demand)


def test_merge_target_outside_scope_is_refused(demand, owner, tree, outsider):
    other = make_demand(tree.branch_b, by=outsider)
    with pytest.raises(ValidationError):
        services.demand_merge(demand=demand, by=owner, target=other)
    assert Demand.objects.get(pk=demand.pk).status == Status.PENDING


def test_a_failed_step_writes_no_event(demand, owner, handler):
    before = DemandEvent.objects.count()
    with pytest.raises(WorkflowError):
        services.demand_resolve(demand=demand, by=handler, result="x")
    assert DemandEvent.objects.count() == before


def test_unit_heads_are_the_nearest_unit_with_accounts(tree, owner, staff):
    heads, unit = services.unit_heads(tree.group_a)
    assert heads == [owner] and unit == tree.branch_a
    above, unit = services.unit_heads(tree.branch_a, above=True)
    assert above == [staff] and unit == tree.root
