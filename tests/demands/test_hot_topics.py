"""热点诉求: computed into HotTopic by the beat task, shown on the home page card and the list,
drill-down limited to the scope."""
import datetime

import pytest
from django.urls import reverse

from demands import tasks
from demands.calendar import TZ
from demands.choices import DEFAULT_CATEGORIES
from demands.models import HotTopic
from tests.conftest import client_for
from tests.factories.demands import category, make_demand

pytestmark = pytest.mark.django_db


def at(month: int, day: int) -> datetime.datetime:
    return datetime.datetime(2026, month, day, 10, 0, tzinfo=TZ)


@pytest.fixture
def month_of_demands(tree):
    categories = {code: category(code, name) for code, name in DEFAULT_CATEGORIES}
    # October: a little about hot water. November: much more about hot water, and about the canteen.
    for n in range(3):
        make_demand(tree.group_a, title=f"{n + 1}号宿舍楼热水时有时无", content="", category_obj=categories["housing"], received_at=at(10, 5 + n))
    for n in range(9):
        make_demand(tree.group_a, title=f"{n + 1}号宿舍楼热水时有时无", content="", category_obj=categories["housing"], received_at=at(11, 2 + n))
    for n in range(5):
        make_demand(tree.branch_b, title=f"食堂第{n + 1}窗口菜品单一", content="", category_obj=categories["welfare"], received_at=at(11, 3 + n))
    return categories


def test_hot_topics_per_unit_with_growth_and_scoped_drill_down(client, month_of_demands, tree, owner, outsider, manager):
    assert tasks.hot_topics("2026-11") > 0
    whole = list(HotTopic.objects.filter(period="2026-11", org_unit=tree.root).order_by("rank"))
    water = whole[0]
    assert "热水" in water.key_words and water.size == 9 and water.previous_size == 3 and water.growth == 2.0
    assert any("食堂" in t.key_words or "菜品" in t.key_words for t in whole)
    branch_a = HotTopic.objects.get(period="2026-11", org_unit=tree.branch_a, rank=1)
    assert branch_a.size == 9

    # The manager's home page shows the card of the whole enterprise.
    home = client_for(client, manager).get("/").content.decode()
    assert 'data-testid="widget-hot-topics"' in home and "热水" in home
    # Drill-down to the demands; a topic of another unit does not exist for an outsider.
    page = client_for(client, owner).get(reverse("demands:hot_topic_detail", args=[branch_a.pk]))
    assert page.status_code == 200 and len(page.context["demands"]) == 9
    assert client_for(client, outsider).get(reverse("demands:hot_topic_detail", args=[branch_a.pk])).status_code == 404
    listing = client_for(client, owner).get(reverse("demands:hot_topics"), {"period": "2026-11"})
    assert {t.org_unit for t in listing.context["topics"]} == {tree.branch_a}


def test_recomputing_replaces_the_month(month_of_demands, tree):
    tasks.hot_topics("2026-11")
    first = HotTopic.objects.filter(period="2026-11").count()
    tasks.hot_topics("2026-11")
    assert HotTopic.objects.filter(period="2026-11").count() == first


def test_the_monthly_report_lists_the_units_hot_topics_as_issued(client, month_of_demands, tree, manager):
    """The report freezes the month's hot topics with its figures: topics computed after it was
    issued change that version of the report not at all."""
    from evaluation import reports
    from evaluation.models import MonthlyReport

    tasks.hot_topics("2026-11")
    report = MonthlyReport.objects.create(period="2026-11", org_unit=tree.root)
    assert reports.generate(report.pk)
    url = f"/evaluation/reports/{report.pk}/"
    html = client_for(client, manager).get(url).content.decode()
    assert 'data-testid="report-hot-topics"' in html and "热水" in html
    HotTopic.objects.all().delete()
    assert "热水" in client_for(client, manager).get(url).content.decode()
