"""The records that belong to a record (milestones of a project, its team) show in its 变更记录;
appraisal ballots leave a trace that a vote was cast, never who chose what."""
import pghistory
from django.apps import apps
from django.urls import reverse

from evaluation.models import AppraisalRound, AppraisalVote
from tests.factories.activities import MilestoneFactory, ProjectFactory


def test_project_history_shows_its_milestones_and_team(client, owner, tree, person_a):
    project = ProjectFactory(org_unit=tree.branch_a)
    client.force_login(owner)
    with pghistory.context(user=owner.pk):
        MilestoneFactory(project=project, title="完成调研")
        project.team.add(person_a)
    response = client.get(reverse("activities:project_detail", args=[project.pk]), {"history": "1"},
                          HTTP_HX_REQUEST="true")
    history = response.context["history"]
    subjects = {str(e.subject) for e in history if e.subject}
    assert {"里程碑", "项目团队"} <= subjects, subjects
    team_event = next(e for e in history if str(e.subject) == "项目团队")
    assert team_event.actor == owner
    assert any(c.after == str(person_a) for c in team_event.changes)
    html = response.content.decode()
    assert "完成调研" in html


def test_appraisal_votes_are_recorded_as_cast_without_grade_or_voter(tree, person_a, owner):
    appraisal = AppraisalRound.objects.create(name="2026 民主评议", org_unit=tree.branch_a, year=2026)
    event_model = next(m for m in apps.get_models() if getattr(m, "pgh_tracked_model", None) is AppraisalVote)
    with pghistory.context(user=owner.pk):
        vote = AppraisalVote.objects.create(round=appraisal, person=person_a, grade="excellent")
        vote.grade = "good"
        vote.save()
    events = list(event_model.objects.order_by("pgh_id"))
    assert [e.pgh_label for e in events] == ["cast", "changed"]
    columns = {f.attname for f in event_model._meta.fields}
    assert not columns & {"grade", "person_id", "pgh_context_id", "pgh_obj_id"}, columns
