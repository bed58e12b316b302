"""People exports are masked like the pages; an unmasked export is an explicit, reasoned choice of
accounts that may reveal, logged with who, when, why, how many and which people."""
import csv
import io

from django.urls import reverse

from members.models import RevealLog
from portal.roles import Role
from tests.conftest import make_user
from tests.factories import PersonFactory

URL = "members:person_export_unmasked"


def rows_of(response):
    body = b"".join(response.streaming_content)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def people(tree):
    a = PersonFactory(org_unit=tree.group_a, name="党员甲", phone="13800000001", id_number="11010519491231002X")
    b = PersonFactory(org_unit=tree.branch_a, name="群众乙", phone="13800000002")
    c = PersonFactory(org_unit=tree.branch_b, name="党员丙", phone="13800000003")
    return a, b, c


def test_default_list_export_is_masked_for_a_secretary_who_may_reveal(client, tree):
    people(tree)
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a, may_view_sensitive=True, username="sec")
    client.force_login(secretary)
    rows = rows_of(client.get(reverse("members:person_list"), {"export": "csv", "q": "党员甲"}))
    assert rows[1][4] == "138****0001" and rows[1][5] == "1101**********002X"
    assert not RevealLog.objects.exists()


def test_unmasked_export_is_refused_without_the_reveal_permission(client, owner, tree):
    people(tree)
    client.force_login(owner)  # may_view_sensitive is off
    assert reverse(URL) not in client.get(reverse("members:person_list")).content.decode()
    assert client.get(reverse(URL)).status_code == 403
    response = client.post(reverse(URL), {"reason": "核对", "format": "csv", "query": ""})
    assert response.status_code == 403
    assert not RevealLog.objects.exists()


def test_unmasked_export_requires_a_reason(client, tree):
    people(tree)
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a, may_view_sensitive=True, username="sec")
    client.force_login(secretary)
    response = client.post(reverse(URL), {"reason": "   ", "format": "csv", "query": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not RevealLog.objects.exists()


def test_unmasked_export_logs_who_when_why_count_and_ids(client, tree):
    a, b, c = people(tree)
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a, may_view_sensitive=True, username="sec")
    client.force_login(secretary)
    page = client.get(reverse("members:person_list"), {"political_status": "masses"}).content.decode()
    assert reverse(URL) in page
    form = client.get(reverse(URL), {"q": "党员"})
    assert form.context["form"].initial["query"] == "q=%E5%85%9A%E5%91%98"
    response = client.post(reverse(URL), {"reason": "社保核对", "format": "csv", "query": "q=党员"},
                           REMOTE_ADDR="10.2.3.4")
    rows = rows_of(response)
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [("党员甲", "13800000001", "11010519491231002X")]
    log = RevealLog.objects.get()
    assert (log.user, log.field, log.reason, log.record_count, log.record_ids, log.ip_address) == (
        secretary, "export", "社保核对", 1, [a.pk], "10.2.3.4")
    assert log.at is not None


def test_admin_may_export_unmasked_with_a_reason(client, admin_user, tree):
    a, b, c = people(tree)
    client.force_login(admin_user)
    rows = rows_of(client.post(reverse(URL), {"reason": "年度审计", "format": "csv", "query": ""}))
    assert {r[4] for r in rows[1:]} == {"13800000001", "13800000002", "13800000003"}
    assert sorted(RevealLog.objects.get().record_ids) == sorted([a.pk, b.pk, c.pk])
