"""Which requests may read the replica (portal/dbrouting.py), and that nothing changes without one.
The routing against a real standby: tests/portal/test_multihost.py."""
from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import resolve, reverse

from evaluation import kpis
from portal import dbrouting


def reads_replica(url: str, method: str = "get") -> bool:
    request = getattr(RequestFactory(), method)(url)
    return dbrouting.view_reads_from_replica(resolve(request.path_info).func, request)


def test_the_heavy_reads_are_marked_for_the_replica_and_nothing_else():
    drill = reverse("evaluation:drill", args=[next(iter(kpis.REGISTRY))])
    for url in (reverse("evaluation:dashboard"), drill, f"{drill}?export=xlsx", "/api/demands/",
                reverse("demands:demand_list") + "?export=csv", reverse("members:person_list") + "?export=xlsx"):
        assert reads_replica(url), url
    for url in (reverse("home"), reverse("demands:demand_list"), reverse("members:person_list"), "/api/demands/1/"):
        assert not reads_replica(url), url
    assert not reads_replica("/api/demands/", "post")  # the viewset's create, not its list


@pytest.mark.django_db
def test_without_a_replica_everything_reads_the_primary_and_no_cookie_is_set(client, admin_user, tree):
    assert not dbrouting.replica_configured()
    with dbrouting.replica_reads():
        assert dbrouting.read_alias() == "default" and dbrouting.lag_seconds() is None
    client.force_login(admin_user)
    response = client.post(reverse("members:orgunit_edit", args=[tree.branch_a.pk]), {
        "code": "A", "name": "改名后的支部", "kind": "branch", "parent": tree.root.pk, "sort_order": 0, "is_active": "on",
    })
    assert response.status_code == 302 and dbrouting.PIN_COOKIE not in response.cookies
    response = client.get(reverse("evaluation:dashboard"))
    assert response.status_code == 200 and b'data-testid="replica-lag"' not in response.content
