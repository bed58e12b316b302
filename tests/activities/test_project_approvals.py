"""Activity projects need a second person: the submitter never approves their own stage, the
approver has approval reach over the project's unit, closing checks milestones, budget and risks,
and the approval history is on the project page. One separation rule serves items and projects."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from activities import services
from activities.models import Expense, Project, Risk
from portal.roles import Role
from portal.separation import own_work
from tests.conftest import make_user
from tests.factories.activities import ItemFactory, MilestoneFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def handler_a(tree):
    return make_user(Role.HANDLER, tree.branch_a, person_unit=tree.group_a, username="handler_a")


@pytest.fixture
def committee_secretary(tree):
    """Secretary of the committee above branch A: approval reach over A."""
    return make_user(Role.BRANCH_SECRETARY, tree.root, person_unit=tree.root, username="committee")


def test_the_submitter_never_approves_their_own_stage(tree, owner, manager):
    project = ProjectFactory(org_unit=tree.branch_a)  # owner is not the leader: only the submission is theirs
    services.project_submit(project=project, by=owner)
    with pytest.raises(PermissionDenied):
        services.project_decide(project=project, by=owner, approve=True)
    with pytest.raises(PermissionDenied):
        services.project_decide(project=project, by=owner, approve=False, comment="撤回")
    assert Project.objects.get(pk=project.pk).approval == "pending"
    services.project_decide(project=project, by=manager, approve=True)
    assert Project.objects.get(pk=project.pk).stage == "planning"


def test_the_approver_needs_reach_over_the_unit(tree, owner, outsider, committee_secretary, member):
    project = ProjectFactory(org_unit=tree.branch_a)
    services.project_submit(project=project, by=owner)
    for user in (outsider, member):  # another branch's secretary; an employee
        with pytest.raises(PermissionDenied):
            services.project_decide(project=project, by=user, approve=True)
    services.project_decide(project=project, by=committee_secretary, approve=True, comment="同意立项")
    assert Project.objects.get(pk=project.pk).stage == "planning"


def test_self_approval_is_refused_in_the_page(client, tree, owner, manager):
    project = ProjectFactory(org_unit=tree.branch_a)
    client.force_login(owner)
    client.post(reverse("activities:project_action", args=[project.pk, "submit"]), {"comment": "请审批"})
    page = client.get(project.get_absolute_url()).content.decode()
    assert 'id="project-approve"' not in page and 'id="project-own-submission"' in page
    response = client.post(reverse("activities:project_action", args=[project.pk, "approve"]), follow=True)
    assert "another person with approval rights must decide" in response.content.decode() or \
        "不能审批自己提交的事项" in response.content.decode()
    assert Project.objects.get(pk=project.pk).approval == "pending"
    client.force_login(manager)
    assert 'id="project-approve"' in client.get(project.get_absolute_url()).content.decode()


def _project_at_closing(tree, owner):
    """The issue's project: 44 % progress, 37,000 spent of 30,000, a high risk open."""
    project = ProjectFactory(org_unit=tree.branch_a, budget=Decimal("30000"), stage="evaluation",
                             evaluation_score=80, lessons="经验")
    done = MilestoneFactory(project=project, title="方案", weight=1, progress=100)
    late = MilestoneFactory(project=project, title="推广", weight=1, progress=0)
    Expense.objects.create(project=project, spent_on=datetime.date(2026, 5, 1), item="物料", amount=Decimal("37000"))
    risk = Risk.objects.create(project=project, description="人手不足", level="high")
    Risk.objects.create(project=project, description="天气", level="medium")  # not high: no need
    return project, done, late, risk


def test_closing_is_blocked_until_milestones_budget_and_risks_are_settled(tree, owner, manager):
    project, done, late, risk = _project_at_closing(tree, owner)
    with pytest.raises(ValidationError) as refused:
        services.project_submit(project=project, by=owner)
    messages = refused.value.messages
    assert len(messages) == 3
    assert "推广" in messages[0] and "0%" in messages[0]
    assert "37,000.00" in messages[1] and "30,000.00" in messages[1]
    assert "人手不足" in messages[2]
    late.unfinished_reason = "推广移至明年"
    late.save()
    project.overrun_reason = "物料涨价，已经党委同意"
    project.save()
    with pytest.raises(ValidationError) as refused:
        services.project_submit(project=project, by=owner)
    assert len(refused.value.messages) == 1  # the open high risk
    risk.accepted_reason = "已安排志愿者补位"
    risk.save()
    services.project_submit(project=project, by=owner)
    # A milestone reopened after the submission blocks the approval too.
    done.progress = 90
    done.save()
    with pytest.raises(ValidationError):
        services.project_decide(project=project, by=manager, approve=True)
    done.progress = 100
    done.save()
    services.project_decide(project=project, by=manager, approve=True)
    assert Project.objects.get(pk=project.pk).stage == "closed"


def test_closing_reasons_are_given_in_the_page(client, tree, owner, manager):
    project, _done, late, risk = _project_at_closing(tree, owner)
    client.force_login(owner)
    page = client.get(project.get_absolute_url()).content.decode()
    assert 'id="project-closing-problems"' in page and 'name="overrun_reason"' in page
    part = lambda name: reverse("activities:project_part", args=[project.pk, name])  # noqa: E731
    client.post(part("milestone-reason"), {"milestone": late.pk, "reason": "推广移至明年"})
    client.post(part("risk-accept"), {"risk": risk.pk, "reason": ""})  # refused: a reason is needed
    assert Risk.objects.get(pk=risk.pk).accepted_reason == ""
    client.post(part("risk-accept"), {"risk": risk.pk, "reason": "已安排志愿者补位"})
    client.post(part("evaluation"), {"evaluation_score": 80, "lessons": "经验", "overrun_reason": "物料涨价"})
    client.post(reverse("activities:project_action", args=[project.pk, "submit"]))
    assert Project.objects.get(pk=project.pk).approval == "pending"
    client.force_login(manager)
    client.post(reverse("activities:project_action", args=[project.pk, "approve"]), {"comment": "同意结项"})
    assert Project.objects.get(pk=project.pk).stage == "closed"


def test_the_approval_history_is_on_the_project_page(client, tree, owner, manager):
    project = ProjectFactory(org_unit=tree.branch_a)
    services.project_submit(project=project, by=owner, comment="请审批立项")
    services.project_decide(project=project, by=manager, approve=False, comment="论证不充分")
    client.force_login(owner)
    page = client.get(project.get_absolute_url()).content.decode()
    history = page[page.index('id="project-approvals"'):]
    assert history.index("请审批立项") < history.index("论证不充分")
    assert 'data-action="submit"' in history and 'data-action="return"' in history
    assert manager.username in history or (manager.person and manager.person.name in history)


def test_one_separation_rule_for_items_and_projects(tree, owner, manager, handler_a):
    assert own_work(owner, submitted_by_ids=[owner.pk])
    assert own_work(handler_a, responsible_person_ids=[handler_a.person_id])
    assert not own_work(manager, submitted_by_ids=[owner.pk], responsible_person_ids=[handler_a.person_id])
    # A secretary who submits a completion on someone's behalf does not approve it either.
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person)
    services.item_submit(item=item, by=owner)
    assert not services.may_approve(owner, item)
    with pytest.raises(PermissionDenied):
        services.item_decide(item=item, by=owner, approve=True)
    services.item_decide(item=item, by=manager, approve=True)
