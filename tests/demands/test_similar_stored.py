"""Each demand's similar demands are found once and kept (SimilarDemands): the demand page reads the
stored list with the viewer's scope and only what is still open; a duplicate filed later joins the
earlier demand's list through the worker; a list of another text-model version is found again."""
import pytest
from django.utils import timezone

from demands import services
from demands.choices import DEFAULT_CATEGORIES, Status
from demands.models import Demand, SimilarDemands
from tests.conftest import client_for
from tests.factories.demands import category, make_demand

pytestmark = pytest.mark.django_db

TITLE = "宿舍空调坏了一直没人修"


def similar_on_page(client, user, demand) -> list[str]:
    response = client_for(client, user).get(demand.get_absolute_url())
    assert response.status_code == 200
    return [d.ref for d in response.context["similar"]]


def test_the_page_keeps_the_list_and_a_later_duplicate_joins_it(client, owner, member, tree):
    first = make_demand(tree.group_a, by=owner, submitter=member.person, title=TITLE)
    assert similar_on_page(client, owner, first) == []
    assert SimilarDemands.objects.get(pk=first.pk).ids == []  # found once, kept

    second = make_demand(tree.group_a, by=owner, submitter=member.person, title="宿舍空调坏了没人修")
    services.find_similar_for(second.pk)  # the worker's part of filing
    assert similar_on_page(client, owner, first) == [second.ref]
    assert similar_on_page(client, owner, second) == [first.ref]
    # Found again, the list is the same: nothing is added twice.
    services.find_similar_for(second.pk)
    assert SimilarDemands.objects.get(pk=first.pk).ids == [second.pk]


def test_the_stored_list_is_read_with_the_viewers_scope_and_open_demands_only(client, owner, staff, member, person_b, tree):
    mine = make_demand(tree.group_a, by=owner, submitter=member.person, title=TITLE)
    services.find_similar_for(mine.pk)
    theirs = make_demand(tree.branch_b, submitter=person_b, title="宿舍空调坏了没人修")
    other = make_demand(tree.group_a, by=owner, submitter=member.person, title="宿舍的空调坏了一直没人修")
    for demand in (theirs, other):
        services.find_similar_for(demand.pk)
    assert set(SimilarDemands.objects.get(pk=mine.pk).ids) == {theirs.pk, other.pk}
    assert similar_on_page(client, owner, mine) == [other.ref]  # branch B's demand is not the secretary's
    assert set(similar_on_page(client, staff, mine)) == {theirs.ref, other.ref}
    Demand.objects.filter(pk=other.pk).update(status=Status.RESOLVED)
    assert similar_on_page(client, owner, mine) == []


def test_a_list_found_by_another_model_version_is_found_again(client, owner, member, tree):
    for code, name in DEFAULT_CATEGORIES:
        category(code, name)
    first = make_demand(tree.group_a, by=owner, submitter=member.person, title=TITLE)
    second = make_demand(tree.group_a, by=owner, submitter=member.person, title="宿舍空调坏了没人修")
    SimilarDemands.objects.create(pk=first.pk, model_version=999, ids=[], scores=[], found_at=timezone.now())
    assert similar_on_page(client, owner, first) == [second.ref]
    assert SimilarDemands.objects.get(pk=first.pk).model_version != 999


@pytest.mark.celery_worker
def test_filing_a_demand_has_the_worker_find_its_similar_demands(celery_worker, client, owner, member, tree):
    first = make_demand(tree.group_a, by=owner, submitter=member.person, title=TITLE)
    celery_worker(lambda: SimilarDemands.objects.filter(pk=first.pk).exists(), timeout=60)
    second = make_demand(tree.group_a, by=owner, submitter=member.person, title="宿舍空调坏了没人修")
    celery_worker(lambda: SimilarDemands.objects.filter(pk=second.pk).exists(), timeout=60)
    assert SimilarDemands.objects.get(pk=first.pk).ids == [second.pk]
    assert similar_on_page(client, owner, first) == [second.ref]


def test_a_cut_list_that_leaves_the_viewer_too_few_is_searched_in_the_viewers_scope(client, owner, staff, member, person_b, tree, monkeypatch):
    """A branch secretary's own duplicates may be past the enterprise's best SIMILAR_KEPT."""
    monkeypatch.setattr(services, "SIMILAR_KEPT", 1)
    mine = make_demand(tree.group_a, by=owner, submitter=member.person, title=TITLE)
    theirs = make_demand(tree.branch_b, submitter=person_b, title=TITLE)
    ours = make_demand(tree.group_a, by=owner, submitter=member.person, title="宿舍的空调坏了一直没人修")
    services.find_similar_for(mine.pk)
    stored = SimilarDemands.objects.get(pk=mine.pk)
    assert (stored.ids, stored.complete) == ([theirs.pk], False)
    assert similar_on_page(client, owner, mine) == [ours.ref]
    assert set(similar_on_page(client, staff, mine)) == {theirs.ref, ours.ref}
