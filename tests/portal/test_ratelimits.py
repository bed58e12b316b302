"""The public doors are throttled: the request after the limit answers 429 (a page in Chinese,
JSON for the API), another address is not affected, and a signed-in account is counted on its own."""
import pytest
from django.urls import reverse

from tests.factories.activities import ActivityFactory

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.PORTAL_RATE_LIMITS = dict.fromkeys(settings.PORTAL_RATE_LIMITS, f"{LIMIT}/h")


def hammer(client, method, url, data=None, ip="10.0.0.1", **extra):
    return [getattr(client, method)(url, data or {}, REMOTE_ADDR=ip, **extra).status_code for _ in range(LIMIT + 1)]


@pytest.mark.parametrize("url, method", [
    ("/demands/public/track/", "post"),
    ("/demands/public/submit/", "post"),
    ("/login/", "post"),
    ("/demands/rate/not-a-token/", "get"),
    ("/demands/public/suggest/", "get"),
])
def test_the_request_after_the_limit_is_refused_and_another_address_is_not(client, tree, url, method):
    statuses = hammer(client, method, url, {"code": "ABCD-EFGH", "username": "x", "password": "y"})
    assert 429 not in statuses[:LIMIT] and statuses[LIMIT] == 429
    response = getattr(client, method)(url, {}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429 and "请求过于频繁" in response.content.decode()
    assert getattr(client, method)(url, {}, REMOTE_ADDR="10.0.0.2").status_code != 429


def test_api_token_endpoint_answers_json_429(client, tree):
    statuses = hammer(client, "post", reverse("api_token"), {"username": "x", "password": "y"})
    assert statuses[LIMIT] == 429
    response = client.post(reverse("api_token"), {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429 and "请求过于频繁" in response.json()["detail"]
    assert client.post(reverse("api_token"), {}, REMOTE_ADDR="10.0.0.9").status_code == 400


def test_checkin_is_counted_per_account_across_addresses(client, tree, member):
    activity = ActivityFactory(org_unit=tree.branch_a)
    client.force_login(member)
    url = reverse("activities:checkin", args=["bad-token"])
    statuses = [client.get(url, REMOTE_ADDR=f"10.1.0.{i}").status_code for i in range(LIMIT + 1)]
    assert 429 not in statuses[:LIMIT] and statuses[LIMIT] == 429
    assert activity.pk  # the activity exists; the code is refused before it matters


def test_reading_the_track_page_is_not_counted(client, tree):
    assert 429 not in [client.get("/demands/public/track/").status_code for _ in range(LIMIT + 3)]
