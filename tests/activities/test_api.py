"""API resources: activities with attendance, responsibility items, projects — scoped like the pages."""
import pytest
from rest_framework.test import APIClient

from tests.factories.activities import ActivityFactory, AttendanceFactory, ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_activities_with_attendance_are_scoped(api, tree, owner, outsider, member, person_a):
    mine = ActivityFactory(org_unit=tree.group_a)
    AttendanceFactory(activity=mine, person=person_a)
    AttendanceFactory(activity=mine, person=member.person, status="leave")
    other = ActivityFactory(org_unit=tree.branch_b)
    api.force_authenticate(owner)
    data = api.get("/api/activities/").json()
    assert [a["ref"] for a in data["results"]] == [mine.ref]
    detail = api.get(f"/api/activities/{mine.pk}/").json()
    assert sorted(a["status"] for a in detail["attendance"]) == ["leave", "present"]
    assert api.get(f"/api/activities/{other.pk}/").status_code == 404
    api.force_authenticate(member)
    assert [a["ref"] for a in api.get("/api/activities/").json()["results"]] == [mine.ref]
    assert api.post("/api/activities/", {}, format="json").status_code == 403
    api.force_authenticate(outsider)
    assert api.get(f"/api/activities/{mine.pk}/").status_code == 404


def test_activity_write_validates(api, tree, owner):
    api.force_authenticate(owner)
    response = api.post("/api/activities/", {"type": "nope", "title": "", "org_unit": tree.branch_b.pk,
                                             "held_at": "garbage"}, format="json")
    assert response.status_code == 400
    assert {"type", "title", "org_unit", "held_at"} <= set(response.json())
    response = api.post("/api/activities/", {"type": "party_lecture", "title": "党课", "org_unit": tree.branch_a.pk,
                                             "held_at": "2099-01-01T09:00:00+08:00", "status": "held"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    response = api.post("/api/activities/", {"type": "party_lecture", "title": "党课", "org_unit": tree.branch_a.pk,
                                             "held_at": "2026-03-01T09:00:00+08:00", "status": "held"}, format="json")
    assert response.status_code == 201 and response.json()["ref"]


def test_items_and_projects_are_scoped(api, tree, owner, outsider, manager):
    item = ItemFactory(lead_org_unit=tree.branch_a)
    ItemFactory(lead_org_unit=tree.branch_b)
    project = ProjectFactory(org_unit=tree.branch_a)
    api.force_authenticate(owner)
    items = api.get("/api/responsibility-items/").json()["results"]
    assert [i["ref"] for i in items] == [item.ref] and items[0]["colour"] == "blue"
    assert api.get("/api/projects/").json()["results"][0]["id"] == project.pk
    api.force_authenticate(outsider)
    assert api.get(f"/api/responsibility-items/{item.pk}/").status_code == 404
    assert api.get(f"/api/projects/{project.pk}/").status_code == 404
    api.force_authenticate(manager)
    assert len(api.get("/api/responsibility-items/").json()["results"]) == 2
    bad = api.post("/api/responsibility-items/", {"title": "x", "lead_org_unit": 99999, "deadline": "2026-02-30"}, format="json")
    assert bad.status_code == 400 and {"lead_org_unit", "deadline"} <= set(bad.json())


def test_item_deadline_rule_holds_in_the_api(api, tree, owner):
    import datetime

    parent = ItemFactory(lead_org_unit=tree.branch_a, deadline=datetime.date(2099, 6, 30))
    api.force_authenticate(owner)
    missing = api.post("/api/responsibility-items/", {"title": "整理台账", "lead_org_unit": tree.branch_a.pk}, format="json")
    assert missing.status_code == 400 and "deadline" in missing.json()
    late = api.post("/api/responsibility-items/", {"title": "整理台账", "lead_org_unit": tree.branch_a.pk,
                                                  "parent": parent.pk, "deadline": "2099-07-31"}, format="json")
    assert late.status_code == 400 and "deadline" in late.json()
    child = api.post("/api/responsibility-items/", {"title": "整理台账", "lead_org_unit": tree.branch_a.pk,
                                                   "parent": parent.pk, "deadline": "2099-06-30"}, format="json")
    assert child.status_code == 201
    cleared = api.patch(f"/api/responsibility-items/{child.json()['id']}/", {"deadline": None}, format="json")
    assert cleared.status_code == 400 and "deadline" in cleared.json()
