"""Activity projects: lifecycle with approvals, milestone roll-up, budget versus actual."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from activities import services
from activities.models import Expense, Project
from tests.factories.activities import MilestoneFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_lifecycle_with_approvals(tree, owner, manager, outsider):
    project = ProjectFactory(org_unit=tree.branch_a, leader=owner.person)
    services.project_submit(project=project, by=owner)
    with pytest.raises(PermissionDenied):
        services.project_decide(project=project, by=owner, approve=True)  # own project
    with pytest.raises(PermissionDenied):
        services.project_decide(project=project, by=outsider, approve=True)
    with pytest.raises(ValidationError):
        services.project_decide(project=project, by=manager, approve=False)  # a return needs a reason
    services.project_decide(project=project, by=manager, approve=False, comment="论证不充分")
    project.refresh_from_db()
    assert (project.stage, project.approval) == ("proposal", "returned")
    services.project_submit(project=project, by=owner)
    services.project_decide(project=project, by=manager, approve=True)
    project.refresh_from_db()
    assert (project.stage, project.approval) == ("planning", "draft")
    with pytest.raises(ValidationError):
        services.project_submit(project=project, by=owner)  # a plan needs milestones
    MilestoneFactory(project=project, progress=100)  # closing needs it done (or a reason)
    services.project_submit(project=project, by=owner)
    services.project_decide(project=project, by=manager, approve=True)
    services.project_submit(project=Project.objects.get(pk=project.pk), by=owner)
    services.project_decide(project=project, by=manager, approve=True)
    project.refresh_from_db()
    assert project.stage == "evaluation"
    with pytest.raises(ValidationError):
        services.project_submit(project=project, by=owner)  # the closing evaluation comes first
    project.evaluation_score, project.lessons = 92, "经验"
    project.save()
    services.project_submit(project=project, by=owner)
    services.project_decide(project=project, by=manager, approve=True)
    project.refresh_from_db()
    assert project.stage == "closed"
    assert [e.action for e in project.approvals.all()] == ["submit", "return", "submit", "approve", "submit", "approve",
                                                            "submit", "approve", "submit", "approve"]


def test_milestone_progress_rolls_up_by_weight_and_budget(tree):
    project = ProjectFactory(org_unit=tree.branch_a, budget=Decimal("1000"))
    MilestoneFactory(project=project, weight=1, progress=100)
    MilestoneFactory(project=project, weight=3, progress=20)
    assert services.project_progress(project) == 40
    Expense.objects.create(project=project, spent_on=datetime.date(2026, 5, 1), item="物料", amount=Decimal("300.50"))
    Expense.objects.create(project=project, spent_on=datetime.date(2026, 5, 2), item="场地", amount=Decimal("800"))
    assert services.project_spent(project) == Decimal("1100.50")


def test_milestone_delete(client, tree, owner, outsider):
    project = ProjectFactory(org_unit=tree.branch_a)
    milestone = MilestoneFactory(project=project)
    url = reverse("activities:milestone_delete", args=[milestone.pk])
    client.force_login(outsider)
    assert client.post(url).status_code == 404  # another branch's project
    client.force_login(owner)
    assert client.post(url).url == project.get_absolute_url()
    assert not project.milestones.exists()
    assert client.post(url).status_code == 404  # gone

def test_project_pages(client, tree, owner, outsider, member, manager):
    project = ProjectFactory(org_unit=tree.branch_a)
    url = reverse("activities:project_detail", args=[project.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(member)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200
    part = lambda name: reverse("activities:project_part", args=[project.pk, name])  # noqa: E731
    client.post(part("milestone"), {"title": "方案", "weight": 2, "progress": 50})
    client.post(part("milestone"), {"title": "", "weight": 0, "progress": 500})  # invalid: nothing saved
    client.post(part("expense"), {"spent_on": "2026-05-01", "item": "物料", "amount": "-5"})
    client.post(part("expense"), {"spent_on": "2026-05-01", "item": "物料", "amount": "120.5"})
    client.post(part("risk"), {"description": "人手不足", "level": "high"})
    assert project.milestones.count() == 1 and project.expenses.count() == 1 and project.risks.count() == 1
    milestone = project.milestones.get()
    client.post(part("milestone-progress"), {"milestone": milestone.pk, "progress": 100})
    milestone.refresh_from_db()
    assert milestone.progress == 100 and milestone.done_on
    client.post(reverse("activities:project_action", args=[project.pk, "submit"]))
    client.force_login(manager)
    client.post(reverse("activities:project_action", args=[project.pk, "approve"]))
    assert Project.objects.get(pk=project.pk).stage == "planning"
    response = client.get(reverse("activities:project_list"))
    assert project.name in response.content.decode()
