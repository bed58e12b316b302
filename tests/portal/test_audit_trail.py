"""Refused requests and failed logins are logged with account, IP, path and time, and admins read
them (with changes and reveals) on the audit trail page."""
import pytest
from axes.models import AccessFailureLog
from django.urls import reverse

from portal.models import AccessDenial
from tests.factories import PersonFactory
from tests.factories.activities import ActivityFactory, ItemFactory, ProjectFactory
from tests.factories.demands import make_demand


def test_an_outsiders_look_at_another_branchs_demand_is_logged(client, outsider, owner, tree):
    demand = make_demand(tree.branch_a, by=owner)
    client.force_login(outsider)
    path = reverse("demands:demand_detail", args=[demand.pk])
    assert client.get(path, REMOTE_ADDR="10.1.2.3").status_code == 404
    denial = AccessDenial.objects.get()
    assert (denial.user, denial.username, denial.ip_address, denial.path, denial.status) == (
        outsider, "outsider", "10.1.2.3", path, 404)
    assert denial.at is not None


def test_a_missing_record_is_not_a_denial(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("demands:demand_detail", args=[999999])).status_code == 404
    assert not AccessDenial.objects.exists()


def test_an_outsiders_api_read_of_another_branchs_demand_is_logged(client, outsider, owner, tree):
    demand = make_demand(tree.branch_a, by=owner)
    client.force_login(outsider)
    path = f"/api/demands/{demand.pk}/"
    assert client.get(path, REMOTE_ADDR="10.1.2.4").status_code == 404
    denial = AccessDenial.objects.get()
    assert (denial.user, denial.ip_address, denial.path, denial.status) == (outsider, "10.1.2.4", path, 404)


@pytest.mark.parametrize("endpoint", ["people", "activities", "projects", "responsibility-items"])
def test_every_api_detail_logs_an_out_of_scope_read(client, outsider, tree, endpoint):
    record = {
        "people": lambda: PersonFactory(org_unit=tree.branch_a),
        "activities": lambda: ActivityFactory(org_unit=tree.branch_a),
        "projects": lambda: ProjectFactory(org_unit=tree.branch_a),
        "responsibility-items": lambda: ItemFactory(lead_org_unit=tree.branch_a),
    }[endpoint]()
    client.force_login(outsider)
    assert client.get(f"/api/{endpoint}/{record.pk}/").status_code == 404
    assert AccessDenial.objects.get().status == 404


def test_an_api_read_of_a_missing_or_malformed_id_is_not_a_denial(client, outsider):
    client.force_login(outsider)
    assert client.get("/api/demands/999999/").status_code == 404
    assert client.get("/api/demands/abc/").status_code == 404
    assert not AccessDenial.objects.exists()


def test_a_403_is_logged(client, member):
    client.force_login(member)
    path = reverse("portal:audit_trail")
    assert client.get(path).status_code == 403
    assert AccessDenial.objects.get().status == 403


def test_a_wrong_password_is_logged(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "wrong"}, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 200
    failure = AccessFailureLog.objects.get()
    assert (failure.username, failure.ip_address, failure.path_info) == ("owner", "10.9.8.7", reverse("login"))


def test_audit_trail_page_lists_and_filters(client, admin_user, outsider, owner, tree):
    demand = make_demand(tree.branch_a, by=owner)
    client.force_login(outsider)
    client.get(reverse("demands:demand_detail", args=[demand.pk]))
    client.logout()
    client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    client.force_login(admin_user)
    url = reverse("portal:audit_trail")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "outsider" in html and "owner" in html
    denied = client.get(url, {"kind": "denial", "who": "outs"}).context["table"]
    assert [(row[1], row[2], row[4]) for row in denied.data] == [("denial", "outsider", f"/demands/{demand.pk}/")]
    failures = client.get(url, {"kind": "login_failure"}).context["table"]
    assert [row[2] for row in failures.data] == ["owner"]
    assert list(client.get(url, {"start": "2000-01-01", "end": "2000-01-02"}).context["table"].data) == []


def test_audit_trail_page_is_for_admins_only(client, owner, manager):
    for user in (owner, manager):
        client.force_login(user)
        assert client.get(reverse("portal:audit_trail")).status_code in (403, 404)


def test_audit_trail_is_in_the_admin_menu(client, admin_user):
    client.force_login(admin_user)
    assert reverse("portal:audit_trail") in client.get(reverse("home")).content.decode()


def test_changes_made_through_pages_are_in_the_audit_trail(client, admin_user, owner, person_a):
    from tests.portal.test_audit import edit_data

    client.force_login(owner)
    url = reverse("members:person_edit", args=[person_a.pk])
    assert client.post(url, edit_data(person_a, name="张三丰")).status_code == 302
    client.force_login(admin_user)
    table = client.get(reverse("portal:audit_trail"), {"kind": "change", "who": "owner"}).context["table"]
    assert [(row[1], row[2], row[4]) for row in table.data] == [("change", "owner", url)]
