"""Audit trail (django-pghistory): a change through a page keeps who, when, before and after; a
delete is recorded; passwords never enter the history."""
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pghistory.models import Events, MiddlewareEvents

from members.models import OrgUnit, Person


def edit_data(person, **overrides):
    data = dict(
        employee_no=person.employee_no, name=person.name, gender=person.gender, birth_date="1990-01-01",
        phone="", id_number="", org_unit=person.org_unit_id, position="", political_status=person.political_status,
        joined_party_on="", tags="", dual_cultivation="", is_active="on",
    )
    data.update(overrides)
    return data


def test_change_through_the_page_keeps_who_before_and_after(client, owner, person_a):
    client.force_login(owner)
    url = reverse("members:person_edit", args=[person_a.pk])
    response = client.post(url, edit_data(person_a, name="张三丰", position="组长"))
    assert response.status_code == 302
    event = MiddlewareEvents.objects.tracks(person_a).filter(pgh_label="update").order_by("-pgh_created_at").first()
    assert event is not None
    assert event.pgh_context["user"] == owner.pk
    assert event.pgh_context["url"] == url
    assert event.pgh_diff["name"] == ["张三", "张三丰"]
    assert event.pgh_diff["position"] == ["", "组长"]
    assert event.pgh_created_at is not None


def test_history_block_on_the_record_page(client, owner, person_a):
    """The record's page carries the history's button; the history comes when it is opened."""
    client.force_login(owner)
    client.post(reverse("members:person_edit", args=[person_a.pk]), edit_data(person_a, name="张三丰"))
    url = reverse("members:person_detail", args=[person_a.pk])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert 'data-testid="show-history"' in page and f'hx-get="{url}?history=1"' in page
    assert "张三 → 张三丰" not in page and not [q for q in queries if "pgh_" in q["sql"]]
    response = client.get(url, {"history": "1"}, HTTP_HX_REQUEST="true")
    assert "<html" not in response.content.decode()
    history = response.context["history"]
    update = next(e for e in history if e.pgh_label == "update")
    assert update.actor == owner
    assert ("name", "姓名", "张三", "张三丰") in update.changes
    html = response.content.decode()
    assert "姓名</span>：张三 → 张三丰" in html and owner.display_name in html


def test_history_reads_as_the_pages_do(client, admin_user, person_a, tree):
    """Labels instead of column names, choice labels instead of codes, related records by name,
    local times; a save that changed nothing is not listed."""
    import datetime

    from django.utils import timezone

    client.force_login(admin_user)
    url = reverse("members:person_edit", args=[person_a.pk])
    client.post(url, edit_data(person_a, political_status="activist", org_unit=tree.branch_b.pk))
    client.post(url, edit_data(Person.objects.get(pk=person_a.pk)))  # nothing changed
    # Asked for as a page (the button's link, without script): the page with its history.
    response = client.get(reverse("members:person_detail", args=[person_a.pk]), {"history": "1"})
    updates = [e for e in response.context["history"] if e.pgh_label == "update"]
    assert len(updates) == 1
    changes = {c.field: c for c in updates[0].changes}
    assert str(changes["political_status"].after) == "入党积极分子"
    assert changes["org_unit"].after == str(tree.branch_b)
    assert changes["org_unit"].before == str(Person.objects.get(pk=person_a.pk).org_unit.__class__.objects.get(
        pk=person_a.org_unit_id))
    html = response.content.decode()
    assert "political_status" not in html and "org_unit_id" not in html
    assert "入党积极分子" in html
    local = timezone.localtime(updates[0].pgh_created_at)
    assert local.utcoffset() == datetime.timedelta(hours=8)
    assert local.strftime("%Y-%m-%d %H:%M") in html


def test_creation_is_recorded(client, owner, tree):
    client.force_login(owner)
    client.post(reverse("members:person_create"), dict(
        employee_no="N1", name="新人", gender="F", birth_date="", phone="", id_number="", org_unit=tree.group_a.pk,
        position="", political_status="masses", joined_party_on="", tags="", dual_cultivation="", is_active="on",
    ))
    person = Person.objects.get(employee_no="N1")
    event = MiddlewareEvents.objects.tracks(person).get(pgh_label="insert")
    assert event.pgh_context["user"] == owner.pk


def test_delete_is_recorded(client, admin_user, person_a):
    pk = person_a.pk
    client.force_login(admin_user)
    response = client.post(reverse("members:person_delete", args=[pk]))
    assert response.status_code == 302
    assert not Person.objects.filter(pk=pk).exists()
    event = MiddlewareEvents.objects.tracks(person_a).get(pgh_label="delete")
    assert event.pgh_context["user"] == admin_user.pk
    assert event.pgh_data["name"] == "张三"


def test_org_unit_change_is_recorded_and_shown(client, admin_user, tree):
    client.force_login(admin_user)
    response = client.post(reverse("members:orgunit_edit", args=[tree.branch_b.pk]), {
        "code": "B", "name": "第二党支部（新）", "kind": "branch", "parent": tree.root.pk, "sort_order": 0, "is_active": "on",
    })
    assert response.status_code == 302
    event = MiddlewareEvents.objects.tracks(tree.branch_b).get(pgh_label="update")
    assert event.pgh_context["user"] == admin_user.pk
    assert event.pgh_diff["name"] == ["第二党支部", "第二党支部（新）"]
    html = client.get(reverse("members:orgunit_detail", args=[tree.branch_b.pk]), {"history": "1"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "第二党支部 → 第二党支部（新）" in html


def test_org_unit_delete_is_recorded(client, admin_user, tree):
    client.force_login(admin_user)
    client.post(reverse("members:orgunit_delete", args=[tree.department.pk]))
    assert not OrgUnit.objects.filter(pk=tree.department.pk).exists()
    assert MiddlewareEvents.objects.tracks(tree.department).filter(pgh_label="delete").exists()


def test_account_changes_never_record_passwords(client, admin_user, owner, tree):
    client.force_login(admin_user)
    response = client.post(reverse("portal:account_edit", args=[owner.pk]), {
        "username": "owner", "role": "branch_secretary", "scope_org": tree.branch_b.pk, "person": owner.person_id,
        "email": "", "is_active": "on", "new_password": "Brand#new-2026",
    })
    assert response.status_code == 302
    events = list(Events.objects.tracks(owner))
    assert events
    for event in events:
        assert "password" not in (event.pgh_data or {})
        assert "password" not in (event.pgh_diff or {})
    update = next(e for e in events if e.pgh_label == "update" and e.pgh_diff and "scope_org_id" in e.pgh_diff)
    assert update.pgh_diff["scope_org_id"] == [tree.branch_a.pk, tree.branch_b.pk]


def test_history_of_a_record_out_of_scope_is_not_found(client, outsider, person_a):
    client.force_login(outsider)
    url = reverse("members:person_detail", args=[person_a.pk])
    assert client.get(url, {"history": "1"}, HTTP_HX_REQUEST="true").status_code == 404


def test_history_needs_the_audit_permission(client, member):
    client.force_login(member)
    url = reverse("members:person_detail", args=[member.person_id])
    response = client.get(url)
    assert "history" not in response.context and 'data-testid="history"' not in response.content.decode()
    assert "history" not in client.get(url, {"history": "1"}).context
    assert client.get(url, {"history": "1"}, HTTP_HX_REQUEST="true").status_code == 403


def test_a_record_asked_for_with_its_history_prints_it(client, owner, person_a):
    """The page prints without the closed panel; asked for with its history, it prints that too."""
    import re

    client.force_login(owner)
    url = reverse("members:person_detail", args=[person_a.pk])

    def history_card(params):
        page = client.get(url, params).content.decode()
        return re.search(r'<div class="([^"]*)" data-testid="history">', page).group(1).split()

    assert "no-print" in history_card({})
    assert "no-print" not in history_card({"history": "1"})
