"""The transition table of demands/workflow.py, exhaustively: every allowed and every forbidden
(status, action, role, condition) combination."""
import itertools

import re

import pytest

from tests.demands.conftest import zh

from demands import workflow
from demands.choices import Status
from demands.workflow import Action, Facts, WorkflowError

S = Status
ROLES = ["employee", "staff", "handler", "branch_secretary", "manager", "admin", workflow.PUBLIC]
MANAGER_ROLES = {"staff", "branch_secretary", "admin"}
HANDLER_ROLES = {"staff", "handler", "branch_secretary"}

# The specification (issue 3): from status, action → to status.
EXPECTED = {
    (S.PENDING, Action.ACCEPT): S.ACCEPTED,
    (S.PENDING, Action.REJECT): S.REJECTED,
    (S.PENDING, Action.WITHDRAW): S.WITHDRAWN,
    (S.PENDING, Action.MERGE): S.CLOSED,
    (S.ACCEPTED, Action.REPLY): S.IN_PROGRESS,
    (S.ACCEPTED, Action.RESOLVE): S.RESOLVED,
    (S.ACCEPTED, Action.TRANSFER): S.ACCEPTED,
    (S.ACCEPTED, Action.WITHDRAW): S.WITHDRAWN,
    (S.ACCEPTED, Action.MERGE): S.CLOSED,
    (S.IN_PROGRESS, Action.REPLY): S.IN_PROGRESS,
    (S.IN_PROGRESS, Action.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, Action.TRANSFER): S.IN_PROGRESS,
    (S.IN_PROGRESS, Action.WITHDRAW): S.WITHDRAWN,
    (S.IN_PROGRESS, Action.MERGE): S.CLOSED,
    (S.RESOLVED, Action.RETURN_VISIT): S.VISITED,
    (S.RESOLVED, Action.RATE): S.VISITED,
    (S.RESOLVED, Action.CLOSE): S.CLOSED,
    (S.VISITED, Action.REOPEN): S.IN_PROGRESS,
}


def expected_allowed(action: str, facts: Facts) -> bool:
    """Who may, in words (roles.md): managing steps need the scope, handling steps the
    assignment, withdrawing the submitter or a manager, rating the submitter or the link."""
    if action in (Action.ACCEPT, Action.REJECT, Action.TRANSFER, Action.MERGE, Action.RETURN_VISIT, Action.CLOSE):
        return facts.role in MANAGER_ROLES and facts.in_scope
    if action == Action.REOPEN:
        return facts.role in MANAGER_ROLES and facts.in_scope and facts.rating is not None and facts.rating <= 2
    if action in (Action.REPLY, Action.RESOLVE):
        return (facts.role in HANDLER_ROLES and facts.is_assigned) or facts.role == "admin"
    if action == Action.WITHDRAW:
        return (facts.is_submitter and facts.role != workflow.PUBLIC) or (facts.role in MANAGER_ROLES and facts.in_scope)
    if action == Action.RATE:
        return (facts.is_submitter and facts.role != workflow.PUBLIC) or (facts.role == workflow.PUBLIC and facts.via_link)
    raise AssertionError(action)


def all_facts():
    for role, in_scope, assigned, submitter, link, rating in itertools.product(
        ROLES, [False, True], [False, True], [False, True], [False, True], [None, 1, 2, 3, 5]
    ):
        yield Facts(role=role, in_scope=in_scope, is_assigned=assigned, is_submitter=submitter, via_link=link, rating=rating)


FACTS = list(all_facts())


def test_the_table_is_exactly_the_specified_one():
    assert {key: t.to for key, t in workflow.TABLE.items()} == EXPECTED


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_allowed_transition_for_every_role_and_condition(key):
    status, action = key
    for facts in FACTS:
        assert workflow.may(status, action, facts) == expected_allowed(action, facts), (status, action, facts)


@pytest.mark.parametrize("status", Status.values)
def test_every_action_outside_the_table_is_forbidden_for_everyone(status):
    omnipotent = [Facts(role=r, in_scope=True, is_assigned=True, is_submitter=True, via_link=True, rating=1) for r in ROLES]
    for action in Action.values:
        if (status, action) in EXPECTED:
            continue
        for facts in omnipotent:
            assert not workflow.may(status, action, facts)
            with pytest.raises(WorkflowError):
                workflow.check(status, action, facts)


def test_terminal_statuses_have_no_way_out():
    for status in (S.CLOSED, S.REJECTED, S.WITHDRAWN):
        assert all(key[0] != status for key in workflow.TABLE)


def test_allowed_actions_lists_only_what_the_user_may_do():
    handler = Facts(role="handler", is_assigned=True)
    assert workflow.allowed_actions(S.ACCEPTED, handler) == [Action.REPLY, Action.RESOLVE]
    staff = Facts(role="staff", in_scope=True)
    assert workflow.allowed_actions(S.PENDING, staff) == [Action.ACCEPT, Action.REJECT, Action.WITHDRAW, Action.MERGE]
    employee = Facts(role="employee", is_submitter=True)
    assert workflow.allowed_actions(S.RESOLVED, employee) == [Action.RATE]
    assert workflow.allowed_actions(S.VISITED, Facts(role="staff", in_scope=True, rating=4)) == []
    assert workflow.allowed_actions(S.VISITED, Facts(role="staff", in_scope=True, rating=2)) == [Action.REOPEN]


def test_check_messages():
    with pytest.raises(WorkflowError, match=zh("“%(action)s” is not possible while the demand is “%(status)s”.").split("“")[0]):
        workflow.check(S.PENDING, Action.RESOLVE, Facts(role="admin"))
    with pytest.raises(WorkflowError, match=re.escape(zh("A demand can be reopened only after a rating of %(n)d or less.", n=2))):
        workflow.check(S.VISITED, Action.REOPEN, Facts(role="admin", in_scope=True, rating=4))
    with pytest.raises(WorkflowError, match=re.escape(zh("You may not do this with this demand."))):
        workflow.check(S.PENDING, Action.ACCEPT, Facts(role="handler"))
    assert workflow.check(S.PENDING, Action.ACCEPT, Facts(role="staff", in_scope=True)).to == S.ACCEPTED


def test_status_derivation_for_imports():
    from datetime import datetime, timezone

    t = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert workflow.derive_status(None, None, None) == S.ACCEPTED
    assert workflow.derive_status(t, None, None) == S.IN_PROGRESS
    assert workflow.derive_status(t, t, None) == S.RESOLVED
    assert workflow.derive_status(None, t, t) == S.VISITED
