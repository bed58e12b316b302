"""服务优先级清单: the stated formula, the admin's weights, the scope of the list. The list is
computed into DemandPriority (the beat, a change of the weights); the page only reads it."""
import pytest
from django.urls import reverse

from demands import priority
from demands.choices import DEFAULT_CATEGORIES
from demands.models import Demand, DemandPriority, PriorityWeights
from tests.conftest import client_for
from tests.factories.demands import category, make_demand

pytestmark = pytest.mark.django_db


def refs(response):
    return [item.demand.ref for item in response.context["ranked"]]


def test_ranked_by_the_formula_within_scope(client, owner, outsider, tree, person_a):
    category()
    calm = make_demand(tree.group_a, title="建议厂区增设快递柜", content="", urgency="low")
    person_a.tags = ["困难职工"]
    person_a.save()
    pressing = make_demand(tree.group_a, submitter=person_a, title="拖欠工资三个月，再不解决只能集体上访", content="", urgency="urgent")
    assert pressing.service_group == "困难职工"
    elsewhere = make_demand(tree.branch_b, title="宿舍漏水", content="")

    # Nothing is ranked on page load: before the list is computed the page says so.
    response = client_for(client, owner).get(reverse("demands:priority_list"))
    assert refs(response) == [] and 'data-testid="not-computed"' in response.content.decode()
    assert priority.compute() == 3
    response = client_for(client, owner).get(reverse("demands:priority_list"))
    assert response.status_code == 200 and 'data-testid="computed-at"' in response.content.decode()
    assert refs(response) == [pressing.ref, calm.ref]  # branch B's demand is outside the scope
    top = response.context["ranked"][0]
    assert top.factors == {"urgency": 1.0, "tone": 1.0, "repeats": 0.0, "deadline": 0.2, "vulnerable": 1.0}
    assert top.score == 30 + 20 + 0 + 20 * 0.2 + 10
    assert 'data-testid="formula"' in response.content.decode()
    assert elsewhere.ref in refs(client_for(client, outsider).get(reverse("demands:priority_list")))


def test_repeats_count_merged_and_similar_open_demands(client, owner, tree):
    for code, name in DEFAULT_CATEGORIES:  # the text model needs categories to learn
        category(code, name)
    first = make_demand(tree.group_a, title="拖欠工资三个月", content="")
    make_demand(tree.group_a, title="工资拖欠了三个月还没发", content="")
    make_demand(tree.group_a, title="宿舍空调坏了", content="")
    Demand.objects.filter(pk=first.pk).update(merged_count=2)
    priority.compute()
    ranked = {item.demand.pk: item for item in client_for(client, owner).get(reverse("demands:priority_list")).context["ranked"]}
    assert ranked[first.pk].repeats == 3


@pytest.fixture
def eager_tasks():
    """Tasks queued with .delay() run in the test's process (the recompute after a change)."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_admin_adjusts_the_weights(client, owner, admin_user, tree, eager_tasks, django_capture_on_commit_callbacks):
    category()
    low_but_negative = make_demand(tree.group_a, title="食堂饭菜太咸太贵，很不满", content="", urgency="low")
    urgent_neutral = make_demand(tree.group_a, title="职称评审什么时候开始", content="", urgency="urgent")
    url = reverse("demands:priority_list")
    priority.compute()
    assert refs(client_for(client, owner).get(url))[0] == urgent_neutral.ref
    assert client_for(client, owner).get(reverse("demands:priority_weights")).status_code == 403
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(client, admin_user).post(reverse("demands:priority_weights"), {
            "urgency": 10, "tone": 60, "repeats": 10, "deadline": 10, "vulnerable": 10})
    assert response.status_code == 302 and len(callbacks) == 1  # the recompute, queued on commit
    assert PriorityWeights.load().tone == 60
    assert refs(client_for(client, owner).get(url))[0] == low_but_negative.ref
    response = client_for(client, admin_user).post(reverse("demands:priority_weights"), {
        "urgency": 500, "tone": "x", "repeats": 10, "deadline": 10, "vulnerable": 10})
    assert response.status_code == 200 and {"urgency", "tone"} <= set(response.context["form"].errors)


def test_text_model_page_for_administrators(client, admin_user, owner, tree):
    category()
    assert client_for(client, owner).get(reverse("demands:text_models")).status_code == 403
    assert client_for(client, admin_user).get(reverse("demands:text_models")).status_code == 200


def test_the_page_says_when_only_the_newest_open_demands_were_ranked(client, owner, tree, monkeypatch):
    """The count is of every open demand in scope, and the page says when the ranking looked at
    fewer of them than there are."""
    monkeypatch.setattr(priority, "MAX_RANKED", 2)
    for n in range(3):
        make_demand(tree.group_a, title=f"第{n}件诉求")
    priority.compute()
    response = client_for(client, owner).get(reverse("demands:priority_list"))
    assert response.context["total"] == 3 and len(response.context["ranked"]) == 2
    assert 'data-testid="priority-considered"' in response.content.decode()


def test_a_recompute_replaces_the_stored_list(tree):
    """The stored list is replaced whole: a demand closed since the last run drops out."""
    category()
    kept = make_demand(tree.group_a, title="宿舍漏水", content="")
    gone = make_demand(tree.group_a, title="食堂太贵", content="")
    assert priority.compute() == 2
    Demand.objects.filter(pk=gone.pk).update(status="closed")
    assert priority.compute() == 1
    assert list(DemandPriority.objects.values_list("demand_id", flat=True)) == [kept.pk]
