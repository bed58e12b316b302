"""The transition table of members/hardship/workflow.py, exhaustively: every allowed and every
forbidden (status, action, role, condition, guard) combination."""
import itertools

import pytest
from django.utils import translation

from members.hardship import workflow
from members.hardship.choices import Status
from members.hardship.workflow import NEW, Action, Facts, WorkflowError

S = Status
ROLES = ["employee", "staff", "handler", "branch_secretary", "manager", "admin"]
MANAGER_ROLES = {"staff", "branch_secretary", "admin"}

# The specification (issue 18): from status, action → to status.
EXPECTED = {
    (NEW, Action.REGISTER): S.REGISTERED,
    (S.REGISTERED, Action.REVIEW): S.REGISTERED,
    (S.REGISTERED, Action.RELIEVE): S.RELIEVED,
    (S.REGISTERED, Action.CANCEL): S.CANCELLED,
    (S.RELIEVED, Action.REREGISTER): S.REGISTERED,
    (S.CANCELLED, Action.REREGISTER): S.REGISTERED,
}


def expected_allowed(action: str, facts: Facts) -> bool:
    """Who may, in words: managers in scope do every step; the liaison may also review; out of
    hardship needs a second person; leaving and coming back need a date and a reason."""
    manager = facts.role in MANAGER_ROLES and facts.in_scope
    if action == Action.REGISTER:
        return manager
    if action == Action.REVIEW:
        return manager or (facts.role in {"staff", "branch_secretary"} and facts.is_liaison)
    if action == Action.RELIEVE:
        return manager and facts.has_date_and_reason and not facts.registered_it
    if action in (Action.CANCEL, Action.REREGISTER):
        return manager and facts.has_date_and_reason
    raise AssertionError(action)


FACTS = [
    Facts(role=role, in_scope=scope, is_liaison=liaison, registered_it=registered, has_date_and_reason=dated)
    for role, scope, liaison, registered, dated in itertools.product(ROLES, *[[False, True]] * 4)
]


def test_the_table_is_exactly_the_specified_one():
    assert {key: t.to for key, t in workflow.TABLE.items()} == EXPECTED


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0] or 'new'}-{k[1]}")
def test_every_allowed_transition_for_every_role_and_condition(key):
    status, action = key
    for facts in FACTS:
        assert workflow.may(status, action, facts) == expected_allowed(action, facts), (status, action, facts)
        if expected_allowed(action, facts):
            assert workflow.check(status, action, facts).to == EXPECTED[key]
        else:
            with pytest.raises(WorkflowError):
                workflow.check(status, action, facts)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("status", [NEW, *Status.values])
def test_every_step_not_in_the_table_is_refused_for_everyone(status, english):
    for action in Action.values:
        if (status, action) in EXPECTED:
            continue
        for facts in FACTS:
            assert not workflow.may(status, action, facts)
            with pytest.raises(WorkflowError, match="not possible"):
                workflow.check(status, action, facts)


def test_allowed_actions_leave_the_date_and_reason_to_the_form_but_not_the_second_person():
    registrar = Facts(role="staff", in_scope=True, registered_it=True, has_date_and_reason=False)
    assert workflow.allowed_actions(S.REGISTERED, registrar) == [Action.REVIEW, Action.CANCEL]
    other = Facts(role="staff", in_scope=True, has_date_and_reason=False)
    assert workflow.allowed_actions(S.REGISTERED, other) == [Action.REVIEW, Action.RELIEVE, Action.CANCEL]


def test_the_refusals_say_why(english):
    with pytest.raises(WorkflowError, match="registered the household"):
        workflow.check(S.REGISTERED, Action.RELIEVE, Facts(role="staff", in_scope=True, registered_it=True))
    with pytest.raises(WorkflowError, match="date and a reason"):
        workflow.check(S.RELIEVED, Action.REREGISTER, Facts(role="staff", in_scope=True, has_date_and_reason=False))
    with pytest.raises(WorkflowError, match="may not"):
        workflow.check(S.REGISTERED, Action.CANCEL, Facts(role="manager", in_scope=True))


def test_reviews_fall_due_each_quarter():
    import datetime

    assert workflow.next_review_on(datetime.date(2026, 11, 30)) == datetime.date(2027, 2, 28)
    assert workflow.next_review_on(datetime.date(2026, 3, 1)) == datetime.date(2026, 6, 1)
