"""The dashboard's overdue responsibility items are the items the lists and the responsibility sweep
colour red (activities.workflow): an approved item is never overdue, an open one is from the day
after its deadline."""
import datetime

import pytest

from activities.models import ResponsibilityItem
from activities.selectors import items_with_colour_filter
from evaluation import selectors

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)


def test_overdue_items_are_the_red_ones(tree, owner):
    def item(title, deadline, status="in_progress"):
        return ResponsibilityItem.objects.create(ref=title, title=title, lead_org_unit=tree.branch_a,
                                                 deadline=deadline, status=status)

    item("yesterday", TODAY - datetime.timedelta(days=1))
    item("today", TODAY)
    item("approved long ago", TODAY - datetime.timedelta(days=30), status="approved")  # imported without completed_at
    item("submitted late", TODAY - datetime.timedelta(days=2), status="submitted")
    now = datetime.datetime.combine(TODAY, datetime.time(10), tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    lists = {lst.key: lst for lst in selectors.overdue(tree.root, owner, now=now, limit=50)}
    listed = {i.title for i, _due in lists["items"].rows}
    red = set(items_with_colour_filter(ResponsibilityItem.objects.all(), "red", TODAY).values_list("title", flat=True))
    assert listed == red == {"yesterday", "submitted late"}
