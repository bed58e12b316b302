"""Categories, SLA policies and calendar overrides: administrators edit them in the portal, and
new deadlines follow."""
import datetime

import pytest
import time_machine
from django.urls import reverse

from demands.calendar import TZ
from demands.models import DemandCategory, SlaPolicy, WorkCalendarDay
from tests.conftest import client_for
from tests.factories.demands import category, make_demand, policy

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["demands:category_list", "demands:slapolicy_list", "demands:calendar_list",
                                  "demands:category_create", "demands:slapolicy_create", "demands:calendar_create"])
def test_administrators_only(client, admin_user, owner, staff, name):
    assert client_for(client, admin_user).get(reverse(name)).status_code == 200
    assert client_for(client, owner).get(reverse(name)).status_code == 403
    assert client_for(client, staff).get(reverse(name)).status_code == 403


def test_edit_categories_and_policies(client, admin_user):
    client_for(client, admin_user)
    assert client.post(reverse("demands:category_create"), {"code": "canteen", "name": "食堂", "sort_order": 5, "is_active": "on"}).status_code == 302
    cat = DemandCategory.objects.get(code="canteen")
    response = client.post(reverse("demands:category_create"), {"code": "canteen2", "name": "食堂", "sort_order": 5})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    data = {"category": cat.pk, "urgency": "urgent", "response_hours": 2, "resolution_days": 1}
    assert client.post(reverse("demands:slapolicy_create"), data).status_code == 302
    response = client.post(reverse("demands:slapolicy_create"), data)
    assert response.status_code == 200 and "urgency" in response.context["form"].errors
    response = client.post(reverse("demands:slapolicy_create"), {**data, "urgency": "low", "resolution_days": 0})
    assert "resolution_days" in response.context["form"].errors
    assert SlaPolicy.objects.filter(category=cat).count() == 1


def test_a_calendar_override_moves_new_deadlines(client, admin_user, tree, owner):
    policy(None, "normal", hours=8, days=1)
    client_for(client, admin_user)
    assert client.post(reverse("demands:calendar_create"), {"date": "2026-11-24", "note": "停电检修"}).status_code == 302
    assert WorkCalendarDay.objects.get(date=datetime.date(2026, 11, 24)).is_workday is False
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, tzinfo=TZ), tick=False):
        demand = make_demand(tree.group_a, by=owner, category_obj=category())
    assert demand.resolution_due_at == datetime.datetime(2026, 11, 25, 17, 30, tzinfo=TZ)
    override = WorkCalendarDay.objects.get()
    assert client.post(reverse("demands:calendar_delete", args=[override.pk])).status_code == 302
    assert not WorkCalendarDay.objects.exists()
    assert client.get(reverse("demands:sla_overview")).status_code == 200
