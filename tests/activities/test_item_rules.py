"""Responsibility item rules at the edges of time: copies of a year's list, deadlines (required, not
later than the parent's, not in the past when set), the supervising unit picker and progress by
whoever is responsible."""
import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities import services
from activities.forms import CopyYearForm, ResponsibilityItemForm
from activities.models import ResponsibilityItem
from tests.factories.activities import ItemFactory, local

pytestmark = pytest.mark.django_db
TODAY = local(2026, 12, 6, 10)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_copy_only_into_the_current_or_a_later_year(tree, owner):
    ItemFactory(lead_org_unit=tree.branch_a, deadline=datetime.date(2026, 6, 30))
    with pytest.raises(ValidationError):
        services.items_copy_year(user=owner, source_year=2026, target_year=2025)
    form = CopyYearForm({"source_year": 2026, "target_year": 2025}, user=owner)
    assert not form.is_valid() and "target_year" in form.errors
    assert ResponsibilityItem.objects.count() == 1


def test_copy_takes_the_whole_tree_and_twice_is_once(tree, owner):
    root = ItemFactory(lead_org_unit=tree.branch_a, deadline=datetime.date(2026, 12, 31), title="年度党建")
    ItemFactory(lead_org_unit=tree.branch_a, parent=root, deadline=datetime.date(2027, 1, 15), title="年终总结")
    ItemFactory(lead_org_unit=tree.branch_a, parent=root, deadline=datetime.date(2026, 3, 31), title="一季度")
    assert services.items_copy_year(user=owner, source_year=2026, target_year=2027) == 3
    copy = ResponsibilityItem.objects.get(copied_from=root)
    assert copy.deadline == datetime.date(2027, 12, 31)
    assert sorted((c.title, c.deadline) for c in copy.children.all()) == [
        ("一季度", datetime.date(2027, 3, 31)), ("年终总结", datetime.date(2028, 1, 15))]
    assert services.items_copy_year(user=owner, source_year=2026, target_year=2027) == 0
    assert ResponsibilityItem.objects.count() == 6


def test_29_february_becomes_28_february(tree, owner):
    with time_machine.travel(local(2028, 3, 1), tick=False):
        leap = ItemFactory(lead_org_unit=tree.branch_a, deadline=datetime.date(2028, 2, 29))
        services.items_copy_year(user=owner, source_year=2028, target_year=2029)
    assert ResponsibilityItem.objects.get(copied_from=leap).deadline == datetime.date(2029, 2, 28)


def _form(owner, tree, **data):
    base = {"title": "事项", "lead_org_unit": tree.branch_a.pk, "deadline": "2026-12-31"}
    return ResponsibilityItemForm({**base, **data}, user=owner)


def test_deadline_rules(tree, owner):
    assert _form(owner, tree).is_valid()
    assert "deadline" in _form(owner, tree, deadline="").errors  # required
    assert "deadline" in _form(owner, tree, deadline="2020-01-01").errors  # not in the past when set
    assert _form(owner, tree, deadline="2026-12-06").is_valid()  # today is fine
    parent = ItemFactory(lead_org_unit=tree.branch_a, deadline=datetime.date(2026, 12, 20))
    form = _form(owner, tree, parent=parent.pk, deadline="2026-12-21")
    assert "deadline" in form.errors and "2026-12-20" in str(form.errors["deadline"])
    assert _form(owner, tree, parent=parent.pk, deadline="2026-12-20").is_valid()
    # An old item whose deadline has passed can still be edited without moving its deadline.
    old = ItemFactory(lead_org_unit=tree.branch_a, deadline=datetime.date(2026, 11, 30))
    form = ResponsibilityItemForm({"title": "改名", "lead_org_unit": tree.branch_a.pk, "deadline": "2026-11-30"},
                                  instance=old, user=owner)
    assert form.is_valid(), form.errors


def test_the_supervising_unit_picker_offers_every_unit_that_may_supervise(client, tree, owner):
    client.force_login(owner)  # secretary of branch A: the department is outside their subtree
    names = [r["text"] for r in client.get(reverse("activities:supervisor_autocomplete")).json()["results"]]
    assert any(tree.department.name in n for n in names) and any(tree.root.name in n for n in names)
    assert not any(tree.branch_b.name in n for n in names)
    assert _form(owner, tree, supervising_unit=tree.department.pk).is_valid()
    assert "supervising_unit" in _form(owner, tree, supervising_unit=tree.branch_b.pk).errors


def test_an_employee_made_responsible_records_progress(client, tree, member):
    item = ItemFactory(lead_org_unit=tree.branch_a, responsible=member.person)
    client.force_login(member)
    assert reverse("activities:item_list") in client.get("/").content.decode()  # in the menu
    page = client.get(item.get_absolute_url()).content.decode()
    assert reverse("activities:item_progress", args=[item.pk]) in page
    client.post(reverse("activities:item_progress", args=[item.pk]), {"progress": 40, "note": "已开展"})
    assert ResponsibilityItem.objects.get(pk=item.pk).progress == 40
    other = ItemFactory(lead_org_unit=tree.branch_a)  # not theirs: not found
    response = client.post(reverse("activities:item_progress", args=[other.pk]), {"progress": 40})
    assert response.status_code == 404
