"""Responsibility items: colours with frozen time, roll-up, submit → approve / return, scope, copies,
the overdue sweep."""
import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from activities import services, workflow
from activities.choices import Colour
from activities.models import ResponsibilityItem
from activities.selectors import items_with_colour_filter
from activities.tasks import responsibility_sweep
from portal.models import Notification
from portal.roles import Role
from tests.conftest import PAGE_QUERY_BUDGET, make_user, page_queries
from tests.factories import PersonFactory
from tests.factories.activities import ItemFactory, local

pytestmark = pytest.mark.django_db
D = datetime.date(2026, 6, 10)


@pytest.mark.parametrize("moment, colour", [
    (local(2026, 6, 6, 23, 59, 59), Colour.BLUE),     # 4 days left
    (local(2026, 6, 7, 0, 0, 0), Colour.YELLOW),      # 3 days left
    (local(2026, 6, 10, 23, 59, 59), Colour.YELLOW),  # the last second of the deadline day
    (local(2026, 6, 11, 0, 0, 0), Colour.RED),        # due at 00:00 local on d + 1
])
def test_colour_thresholds(moment, colour):
    with time_machine.travel(moment, tick=False):
        assert workflow.deadline_colour(D) == colour
    assert workflow.deadline_colour(D, now=moment) == colour
    assert workflow.deadline_colour(D, now=moment, done=True) == Colour.DONE


def test_colour_filter_matches_the_pure_function(tree):
    with time_machine.travel(local(2026, 6, 7, 9), tick=False):
        items = [ItemFactory(lead_org_unit=tree.branch_a, deadline=D + datetime.timedelta(days=d)) for d in range(-5, 8)]
        items.append(ItemFactory(lead_org_unit=tree.branch_a, deadline=None))
        done = ItemFactory(lead_org_unit=tree.branch_a, deadline=D, status="approved")
        for colour in Colour.values:
            expected = {i.pk for i in items + [done] if i.colour == colour}
            found = set(items_with_colour_filter(ResponsibilityItem.objects.all(), colour).values_list("pk", flat=True))
            assert found == expected, colour


@pytest.mark.parametrize("children, expected", [
    ([(0, 1), (100, 1)], 50), ([(33, 1), (34, 1), (34, 1)], 34), ([(10, 1), (20, 3)], 18), ([(1, 1), (2, 1)], 2), ([], None),
])
def test_rollup_arithmetic(children, expected):
    assert workflow.rollup_progress(children) == expected


@pytest.fixture
def handler_a(tree):
    """A handler whose person is responsible for branch A's items."""
    return make_user(Role.HANDLER, tree.branch_a, person_unit=tree.group_a, username="handler_a")


def test_progress_rolls_up_through_two_levels(tree, owner, handler_a):
    root = ItemFactory(lead_org_unit=tree.branch_a)
    middle = ItemFactory(lead_org_unit=tree.branch_a, parent=root)
    leaf1 = ItemFactory(lead_org_unit=tree.branch_a, parent=middle, responsible=handler_a.person)
    ItemFactory(lead_org_unit=tree.branch_a, parent=middle)
    ItemFactory(lead_org_unit=tree.branch_a, parent=root, progress=100)
    services.item_update_progress(item=leaf1, by=handler_a, progress=60)
    middle.refresh_from_db()
    root.refresh_from_db()
    assert (middle.progress, root.progress) == (30, 65)
    with pytest.raises(ValidationError):
        services.item_update_progress(item=middle, by=owner, progress=80)


def test_submit_approve_and_nobody_approves_their_own(tree, owner, handler_a, outsider, manager):
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person)
    own = ItemFactory(lead_org_unit=tree.branch_a, responsible=owner.person)
    evidence = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    services.item_submit(item=item, by=handler_a, note="已完成", evidence=evidence)
    with pytest.raises(PermissionDenied):
        services.item_decide(item=item, by=handler_a, approve=True)
    with pytest.raises(PermissionDenied):
        services.item_decide(item=item, by=outsider, approve=True)
    with pytest.raises(ValidationError):
        services.item_decide(item=item, by=owner, approve=False, comment="  ")
    services.item_decide(item=item, by=owner, approve=False, comment="材料不全")
    item.refresh_from_db()
    assert item.status == "returned" and item.completed_at is None
    services.item_submit(item=item, by=handler_a)
    with time_machine.travel(local(2026, 6, 9, 10), tick=False):
        services.item_decide(item=item, by=owner, approve=True)
    item.refresh_from_db()
    assert item.status == "approved" and item.completed_at == local(2026, 6, 9, 10)
    assert [e.kind for e in item.records.order_by("id")] == ["submit", "return", "submit", "approve"]
    # The secretary submits their own item; only someone else (the manager) may approve it.
    services.item_submit(item=own, by=owner)
    with pytest.raises(PermissionDenied):
        services.item_decide(item=own, by=owner, approve=True)
    services.item_decide(item=own, by=manager, approve=True)
    assert Notification.objects.filter(user=handler_a, title__contains=item.title).count() == 2


def test_supervising_unit_may_approve(tree, handler_a):
    supervisor = make_user(Role.BRANCH_SECRETARY, tree.department, username="supervisor")
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person, supervising_unit=tree.department)
    services.item_submit(item=item, by=handler_a)
    assert services.may_approve(supervisor, item)
    services.item_decide(item=item, by=supervisor, approve=True)


def test_progress_rights(tree, handler, handler_a, member, staff):
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person)
    for user in (handler, member, staff):  # not assigned (or employee: no progress right)
        with pytest.raises(PermissionDenied):
            services.item_update_progress(item=item, by=user, progress=10)
    services.item_update_progress(item=item, by=handler_a, progress=10)


def test_item_pages_scope_and_actions(client, tree, owner, outsider, handler_a, handler):
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person)
    url = reverse("activities:item_detail", args=[item.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(reverse("activities:item_decide", args=[item.pk]), {"decision": "approve"}).status_code == 404
    client.force_login(handler)
    assert client.get(url).status_code == 404
    client.force_login(handler_a)
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("evil.png", b"not an image", content_type="image/png")
    response = client.post(reverse("activities:item_progress", args=[item.pk]), {"progress": 40, "evidence": upload})
    assert response.status_code == 200 and ResponsibilityItem.objects.get(pk=item.pk).progress == 0
    assert "evidence" in response.context["progress_form"].errors
    response = client.post(reverse("activities:item_progress", args=[item.pk]), {"progress": 140})
    assert ResponsibilityItem.objects.get(pk=item.pk).progress == 0
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    client.post(reverse("activities:item_progress", args=[item.pk]), {"progress": 40, "note": "进展", "evidence": pdf})
    assert ResponsibilityItem.objects.get(pk=item.pk).progress == 40
    record = item.records.get()
    evidence_url = reverse("activities:item_evidence", args=[record.pk])
    assert client.get(evidence_url).status_code == 200
    client.post(reverse("activities:item_progress", args=[item.pk]), {"submit_completion": "1", "note": "完成"})
    assert ResponsibilityItem.objects.get(pk=item.pk).status == "submitted"
    client.force_login(outsider)
    assert client.get(evidence_url).status_code == 404
    client.force_login(owner)
    review = client.get(reverse("activities:review"))
    assert f'data-testid="approve-{item.pk}"'.encode() in review.content
    response = client.post(reverse("activities:item_decide", args=[item.pk]), {"decision": "approve", "next": "/activities/tasks/review/"})
    assert response["Location"] == "/activities/tasks/review/"
    assert ResponsibilityItem.objects.get(pk=item.pk).status == "approved"


def test_copy_a_year_from_a_template_twice_copies_once(tree, owner):
    root = ItemFactory(lead_org_unit=tree.branch_a, deadline=datetime.date(2024, 12, 31))
    child = ItemFactory(lead_org_unit=tree.branch_a, parent=root, deadline=datetime.date(2024, 2, 29), status="approved",
                        progress=100)
    child.cooperating_units.set([tree.department])
    ItemFactory(lead_org_unit=tree.branch_b, deadline=datetime.date(2024, 5, 1))  # out of scope
    with time_machine.travel(local(2024, 12, 1), tick=False):  # copies go into the current or a later year
        assert services.items_copy_year(user=owner, source_year=2024, target_year=2025) == 2
        assert services.items_copy_year(user=owner, source_year=2024, target_year=2025) == 0
    new_child = ResponsibilityItem.objects.get(copied_from=child)
    assert new_child.parent.copied_from == root
    assert (new_child.deadline, new_child.status, new_child.progress) == (datetime.date(2025, 2, 28), "in_progress", 0)
    assert list(new_child.cooperating_units.all()) == [tree.department]


def test_sweep_notifies_once(tree, owner, handler_a):
    ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person, deadline=datetime.date(2026, 6, 1), title="逾期事项")
    ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person, deadline=datetime.date(2026, 6, 12), title="将到期事项")
    ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person, deadline=datetime.date(2026, 7, 12), title="正常事项")
    assert responsibility_sweep("2026-06-10") == 3  # red → handler and secretary; yellow → handler
    assert responsibility_sweep("2026-06-10") == 0
    assert Notification.objects.filter(user=owner).count() == 1
    assert Notification.objects.filter(user=handler_a).count() == 2


def test_item_list_export_and_constant_queries(client, tree, owner):
    """The branch's responsibility list and the review page: as many queries with 3 as with 30
    items (each with a responsible person and cooperating units), within the page budget."""
    def make(n):
        for i in range(n):
            item = ItemFactory(lead_org_unit=tree.branch_a, responsible=PersonFactory(org_unit=tree.group_a),
                               status="submitted" if i % 2 else "in_progress")
            item.cooperating_units.set([tree.department, tree.branch_b])

    client.force_login(owner)
    make(3)
    few = page_queries(client, reverse("activities:item_list"))
    make(27)
    many = page_queries(client, reverse("activities:item_list"))
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)
    few = page_queries(client, reverse("activities:review"))
    make(5)
    many = page_queries(client, reverse("activities:review"))
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)
    response = client.get(reverse("activities:item_list"), {"export": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == "ref,title,lead_org_unit_code,cooperating_org_unit_codes,responsible_employee_no,deadline,completed_at"
    assert len(text.splitlines()) == 36


def test_bad_progress_shows_the_error_beside_the_field_and_keeps_what_was_typed(client, tree, handler_a):
    """Progress 999 used to reset the field to the stored value and wipe the note."""
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person, progress=50)
    client.force_login(handler_a)
    response = client.post(reverse("activities:item_progress", args=[item.pk]),
                           {"progress": "999", "note": "已完成调研，形成初稿"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    form = response.context["progress_form"]
    assert list(form.errors) == ["progress"]
    page = response.content.decode()
    assert 'value="999"' in page and "已完成调研，形成初稿" in page and "is-invalid" in page
    assert ResponsibilityItem.objects.get(pk=item.pk).progress == 50 and not item.records.exists()


@pytest.mark.parametrize("role, scope, heading", [
    (Role.BRANCH_SECRETARY, "branch_a", "第一党支部完整清单"),
    (Role.MANAGER, "root", "全公司完整清单"),       # the top of the tree is the whole company
    (Role.MANAGER, "branch_b", "第二党支部完整清单"),
    (Role.ADMIN, "root", "全公司完整清单"),
])
def test_review_heading_follows_the_scope(client, tree, role, scope, heading):
    user = make_user(role, getattr(tree, scope), username=f"reviewer-{role}")
    client.force_login(user)
    page = client.get(reverse("activities:review"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'data-testid="whole-list-heading">{heading}<' in page and "本支部完整清单" not in page


@pytest.mark.django_db(transaction=True)
def test_the_decision_is_its_own_transaction(tree, owner, handler_a):
    """A view calls item_decide outside any transaction (autocommit): the service opens its own,
    so the row lock works and a failure leaves nothing half written."""
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=handler_a.person)
    services.item_submit(item=item, by=handler_a)
    services.item_decide(item=item, by=owner, approve=True)
    item.refresh_from_db()
    assert item.status == "approved"
