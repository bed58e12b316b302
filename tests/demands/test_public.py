"""Without login: the anonymous form with its tracking code, the status lookup (no personal
data, no other demand), and the one-time rating link (reuse, expiry, tampering)."""
import datetime
import re

import pytest

from tests.demands.conftest import zh
import time_machine
from django.urls import reverse
from django.utils import timezone

from demands import services
from demands.choices import Status
from demands.models import Demand
from portal.models import Notification
from tests.factories.demands import category, make_demand, resolved

pytestmark = pytest.mark.django_db


def test_anonymous_submission_gives_a_tracking_code(client, tree, owner):
    cat = category()
    page = client.get(reverse("demands:public_submit"))
    assert page.status_code == 200
    response = client.post(reverse("demands:public_submit"), {
        "org_unit": tree.branch_a.pk, "category": cat.pk, "title": "匿名反映食堂卫生问题", "content": "后厨卫生差",
    }, follow=True)
    assert response.status_code == 200
    code = re.search(r'data-testid="tracking-code">([A-Z0-9-]+)<', response.content.decode()).group(1)
    demand = Demand.objects.get(title="匿名反映食堂卫生问题")
    assert services.normalize_tracking_code(code) == demand.tracking_code
    assert (demand.submitter, demand.channel, demand.created_by) == (None, "anonymous", None)
    # The branch secretary is told about the new demand.
    assert Notification.objects.filter(user=owner, url=demand.get_absolute_url()).exists()


def test_anonymous_form_errors_are_shown_and_robots_are_refused(client, tree):
    cat = category()
    response = client.post(reverse("demands:public_submit"), {"org_unit": tree.branch_a.pk, "category": cat.pk, "title": ""})
    assert response.status_code == 400 and "title" in response.context["form"].errors
    response = client.post(reverse("demands:public_submit"), {
        "org_unit": tree.branch_a.pk, "category": cat.pk, "title": "t", "content": "c", "website": "http://spam",
    })
    assert response.status_code == 400 and not Demand.objects.exists()
    # Party groups are not offered (too fine-grained for an anonymous form).
    choices = dict(client.get(reverse("demands:public_submit")).context["form"].fields["org_unit"].choices)
    assert tree.group_a.pk not in choices and tree.branch_a.pk in choices


def test_tracking_shows_status_only(client, tree, owner, person_a):
    demand = make_demand(tree.group_a, submitter=person_a, by=owner, content="个人隐私内容")
    response = client.post(reverse("demands:track"), {"code": services.format_tracking_code(demand.tracking_code).lower()})
    html = response.content.decode()
    assert response.status_code == 200 and response.context["demand"] == demand
    assert 'data-status="pending"' in html
    assert person_a.name not in html and "个人隐私内容" not in html and owner.username not in html


def test_tracking_with_a_wrong_code_finds_nothing(client, tree, owner):
    make_demand(tree.group_a, by=owner)
    for code in ["", "AAAA-BBBB-CCCC", "%", "*"]:
        response = client.post(reverse("demands:track"), {"code": code})
        assert response.status_code == 400
        assert response.context.get("demand") is None


@pytest.fixture
def resolved_demand(tree, owner, handler, member):
    demand = make_demand(tree.group_a, submitter=member.person, by=owner)
    return resolved(demand, by=owner, handler=handler)


def rating_url(demand):
    return Notification.objects.get(url__startswith="/demands/rate/", title__contains=demand.ref).url


def test_rating_link_works_once_without_login(client, resolved_demand):
    url = rating_url(resolved_demand)
    assert client.get(url).status_code == 200
    response = client.post(url, {"rating": "4", "comment": "满意"})
    assert response.status_code == 200 and 'data-testid="thanks"' in response.content.decode()
    demand = Demand.objects.get(pk=resolved_demand.pk)
    assert (demand.status, demand.rating, demand.rating_comment) == (Status.VISITED, 4, "满意")
    event = demand.events.last()
    assert (event.action, event.actor, event.actor_label) == ("rate", None, "submitter")
    # Used: refused, nothing changes.
    for response in (client.get(url), client.post(url, {"rating": "1"})):
        assert response.status_code == 400 and response.context["reason"] == zh("This link has already been used.")
    assert Demand.objects.get(pk=demand.pk).rating == 4


def test_rating_link_expires(client, resolved_demand):
    url = rating_url(resolved_demand)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=services.RATING_LINK_DAYS + 1)):
        response = client.get(url)
        assert response.status_code == 400 and response.context["reason"] == zh("This link has expired.")
        assert client.post(url, {"rating": "5"}).status_code == 400
    assert Demand.objects.get(pk=resolved_demand.pk).status == Status.RESOLVED


@pytest.mark.parametrize("tamper", ["change_id", "flip_char", "garbage"])
def test_tampered_rating_link_is_refused(client, resolved_demand, tree, owner, tamper):
    url = rating_url(resolved_demand)
    token = url.split("/")[-2]
    if tamper == "change_id":
        from django.core import signing

        payload = signing.loads(token, salt=services.RATING_SALT)
        other = make_demand(tree.group_a, by=owner)
        body = signing.dumps({"d": other.pk, "n": payload["n"]}, salt="not-the-right-salt")
        token = body
    elif tamper == "flip_char":
        token = token[:-3] + ("a" if token[-3] != "a" else "b") + token[-2:]
    else:
        token = "abc:def"
    response = client.post(reverse("demands:rate", args=[token]), {"rating": "5"})
    assert response.status_code == 400 and response.context["reason"] == zh("This link is not valid.")
    assert Demand.objects.get(pk=resolved_demand.pk).status == Status.RESOLVED


def test_rating_link_is_void_once_staff_recorded_the_return_visit(client, resolved_demand, owner):
    url = rating_url(resolved_demand)
    services.demand_return_visit(demand=resolved_demand, by=owner, rating=5)
    assert client.get(url).status_code == 400


def test_rating_link_bad_rating_is_shown(client, resolved_demand):
    url = rating_url(resolved_demand)
    response = client.post(url, {"rating": "9"})
    assert response.status_code == 400 and "rating" in response.context["form"].errors
    assert Demand.objects.get(pk=resolved_demand.pk).status == Status.RESOLVED


def test_low_rating_lets_staff_reopen(client, resolved_demand, owner):
    client.post(rating_url(resolved_demand), {"rating": "2", "comment": "没解决"})
    title = zh("Demand %(ref)s was rated %(n)d: consider reopening it", ref=resolved_demand.ref, n=2)
    assert Notification.objects.filter(user=owner, title=title).exists()
    client.force_login(owner)
    actions = [a for a, _l, _f in client.get(resolved_demand.get_absolute_url()).context["actions"]]
    assert actions == ["reopen"]


def test_anonymous_submitter_rates_from_the_tracking_page(client, tree, owner, handler):
    demand = resolved(make_demand(tree.branch_a, by=None, channel="anonymous"), by=owner, handler=handler)
    response = client.post(reverse("demands:track"), {"code": demand.tracking_code})
    url = response.context["rating_url"]
    assert url and client.post(url, {"rating": "5"}).status_code == 200
    assert Demand.objects.get(pk=demand.pk).status == Status.VISITED
