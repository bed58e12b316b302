"""The REST API: the scope and masking of the pages, 404 outside the scope, 400 with field errors."""
import pytest
from rest_framework.test import APIClient

from demands.models import Demand, LifeEvent, MediationCase, Visit
from tests.factories.demands import LifeEventFactory, VisitFactory, accepted, category, make_demand

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def demand_a(tree, owner, member):
    return make_demand(tree.group_a, submitter=member.person, by=owner, title="食堂午餐菜品单一")


@pytest.fixture
def demand_b(tree, outsider, person_b):
    return make_demand(tree.branch_b, submitter=person_b, by=outsider, title="宿舍热水")


def test_token_authentication(client, owner, demand_a):
    from tests.factories import TEST_PASSWORD

    token = client.post("/api/auth/token/", {"username": owner.username, "password": TEST_PASSWORD}).json()["token"]
    response = APIClient().get("/api/demands/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200 and [d["ref"] for d in response.json()["results"]] == [demand_a.ref]


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("url", ["/api/demands/", "/api/demands/?status=accepted&org=A", "detail"])
def test_api_queries_constant_within_budget(client, tree, owner, handler, auth, url):
    """The demand list (unfiltered and filtered) and a demand with its events, by token and by
    session: as many queries with 3 as with 30 demands and events, within the page budget."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from demands import services
    from tests.conftest import PAGE_QUERY_BUDGET
    from tests.factories import PersonFactory

    api_client = APIClient()
    if auth == "token":
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    else:
        api_client.force_login(owner)
    first = accepted(make_demand(tree.group_a, by=owner, title="诉求"), by=owner, handler=handler,
                     cooperating_units=[tree.department])
    target = f"/api/demands/{first.pk}/" if url == "detail" else url

    def grow(n):
        for i in range(n):
            demand = accepted(make_demand(tree.group_a, by=owner, submitter=PersonFactory(org_unit=tree.group_a),
                                          title=f"诉求{i}"), by=owner, handler=handler)
            services.demand_reply(demand=demand, by=handler, text="处理中")
            services.demand_reply(demand=first, by=handler, text=f"答复{i}")

    def measure():
        api_client.get(target)
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get(target).status_code == 200
        return len(ctx.captured_queries)

    grow(3)
    few = measure()
    grow(27)
    many = measure()
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)


def test_demand_list_is_scoped(owner, outsider, member, handler, demand_a, demand_b):
    assert [d["ref"] for d in api(owner).get("/api/demands/").json()["results"]] == [demand_a.ref]
    assert [d["ref"] for d in api(outsider).get("/api/demands/").json()["results"]] == [demand_b.ref]
    assert [d["ref"] for d in api(member).get("/api/demands/").json()["results"]] == [demand_a.ref]
    assert api(handler).get("/api/demands/").json()["results"] == []
    assert api(outsider).get(f"/api/demands/{demand_a.pk}/").status_code == 404
    assert api(outsider).get(f"/api/demands/{demand_a.pk}/events/").status_code == 404


def test_detail_has_the_events_and_no_personal_data(owner, handler, demand_a):
    accepted(demand_a, by=owner, handler=handler)
    data = api(owner).get(f"/api/demands/{demand_a.pk}/").json()
    assert [e["action"] for e in data["events"]] == ["submit", "accept"]
    assert data["events"][1]["prev_hash"] == data["events"][0]["hash"]
    assert data["handler"] == handler.username and data["status"] == "accepted"
    assert "phone" not in str(data) and demand_a.submitter.phone not in str(data)
    events = api(owner).get(f"/api/demands/{demand_a.pk}/events/").json()
    assert [e["seq"] for e in events] == [1, 2]


def test_filters(owner, demand_a, tree):
    client = api(owner)
    assert client.get("/api/demands/", {"status": "pending", "org": "A"}).json()["results"][0]["ref"] == demand_a.ref
    assert client.get("/api/demands/", {"org": "B"}).json()["results"] == []
    assert client.get("/api/demands/", {"received_after": "not-a-date"}).status_code == 400


def test_create_on_behalf_within_scope(owner, person_a, person_b, tree):
    cat = category("housing", "住房")
    response = api(owner).post("/api/demands/", {"title": "宿舍漏水", "category": "住房", "submitter": person_a.employee_no}, format="json")
    assert response.status_code == 201, response.json()
    demand = Demand.objects.get(ref=response.json()["ref"])
    assert (demand.category, demand.submitter, demand.org_unit, demand.channel) == (cat, person_a, person_a.org_unit, "staff_entry")
    assert response.json()["events"][0]["action"] == "submit"
    response = api(owner).post("/api/demands/", {"title": "x", "category": "住房", "submitter": person_b.employee_no}, format="json")
    assert response.status_code == 400 and "submitter" in response.json()
    response = api(owner).post("/api/demands/", {"title": "", "category": "nope"}, format="json")
    assert response.status_code == 400 and {"title", "category"} <= set(response.json())


def test_employee_creates_only_their_own(member, person_a):
    category()
    response = api(member).post("/api/demands/", {"title": "我的", "category": "other", "submitter": person_a.employee_no}, format="json")
    assert response.status_code == 201
    assert Demand.objects.get(title="我的").submitter == member.person
    response = api(member).post("/api/demands/", {"title": "我的", "category": "other", "channel": "petition"}, format="json")
    assert response.status_code == 400 and "channel" in response.json()


def test_demands_cannot_be_edited_or_deleted_through_the_api(owner, demand_a):
    assert api(owner).patch(f"/api/demands/{demand_a.pk}/", {"status": "resolved"}, format="json").status_code == 405
    assert api(owner).delete(f"/api/demands/{demand_a.pk}/").status_code == 405


def test_mediations(owner, outsider, demand_a, person_a, tree):
    client = api(owner)
    response = client.post("/api/mediations/", {
        "title": "工时纠纷", "org_unit": "A", "opened_at": "2026-11-02T09:00:00+08:00", "demand": demand_a.ref,
        "parties": [person_a.employee_no],
    }, format="json")
    assert response.status_code == 201, response.json()
    case = MediationCase.objects.get(ref=response.json()["ref"])
    assert case.ref.startswith("TJ2026-") and case.demand == demand_a
    bad = client.patch(f"/api/mediations/{case.pk}/", {"outcome": "success"}, format="json")
    assert bad.status_code == 400 and "outcome" in bad.json()
    ok = client.patch(f"/api/mediations/{case.pk}/", {"outcome": "success", "concluded_at": "2026-11-05T10:00:00+08:00"}, format="json")
    assert ok.status_code == 200
    assert api(outsider).get(f"/api/mediations/{case.pk}/").status_code == 404
    out_of_scope = client.post("/api/mediations/", {"org_unit": "B", "opened_at": "2026-11-02T09:00:00+08:00"}, format="json")
    assert out_of_scope.status_code == 400 and "org_unit" in out_of_scope.json()


def test_visits_and_life_events(owner, outsider, person_a, person_b, tree):
    client = api(owner)
    response = client.post("/api/life-events/", {"person": person_a.employee_no, "kind": "hospitalization", "event_date": "2026-11-20"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["visit_due_on"] == "2026-11-27"
    event = LifeEvent.objects.get(ref=response.json()["ref"])
    response = client.post("/api/visits/", {
        "person": person_a.employee_no, "visitor": owner.person.employee_no, "visited_on": "2026-11-21",
        "kind": "must_visit", "life_event": event.ref, "notes": "住院慰问",
    }, format="json")
    assert response.status_code == 201, response.json()
    visit = Visit.objects.get(ref=response.json()["ref"])
    assert client.get(f"/api/life-events/{event.pk}/").json()["visited_on"] == "2026-11-21"
    not_visited = LifeEventFactory(person=person_a)
    assert [e["ref"] for e in client.get("/api/life-events/?visited=false").json()["results"]] == [not_visited.ref]
    assert [e["ref"] for e in client.get("/api/life-events/?visited=true").json()["results"]] == [event.ref]
    assert client.get("/api/life-events/?visited=maybe").status_code == 400
    assert api(outsider).get(f"/api/visits/{visit.pk}/").status_code == 404
    assert api(outsider).get(f"/api/life-events/{event.pk}/").status_code == 404
    other_event = LifeEventFactory(person=person_b)
    response = client.post("/api/visits/", {
        "person": person_a.employee_no, "visitor": owner.person.employee_no, "visited_on": "2999-01-01", "kind": "routine",
    }, format="json")
    assert response.status_code == 400 and "visited_on" in response.json()
    response = api(outsider).post("/api/visits/", {
        "person": person_a.employee_no, "visitor": outsider.person.employee_no, "visited_on": "2026-11-21",
    }, format="json")
    assert response.status_code == 400 and "person" in response.json()
    assert other_event.person == person_b


def test_visit_list_scoped(owner, outsider, person_a, person_b):
    VisitFactory(person=person_a, visitor=owner.person)
    VisitFactory(person=person_b, visitor=outsider.person)
    assert len(api(owner).get("/api/visits/").json()["results"]) == 1
    assert api(owner).get("/api/visits/").json()["results"][0]["person"] == person_a.employee_no


def test_employee_has_no_visit_api(member):
    assert api(member).get("/api/visits/").status_code == 403
    assert api(member).get("/api/mediations/").status_code == 403


def test_schema_builds(admin_user):
    assert api(admin_user).get("/api/schema/").status_code == 200


def test_a_visit_to_a_hardship_household_through_the_api(owner, outsider, person_a, person_b):
    """A visit names its hardship household by reference and is logged by the service the visit
    form uses: the kind follows from the household, the household must be the visited person's
    and in the caller's view of the register, and a change keeps to the same rules."""
    import datetime

    from members.hardship import services as hardship
    from tests.factories import PersonFactory

    def register(person, by):
        return hardship.household_register(by=by, person=person, liaison=by, reason="illness", level="severe",
                                           registered_on=datetime.date(2026, 3, 1), family_size=3)

    household, elsewhere = register(person_a, owner), register(person_b, outsider)
    client = api(owner)
    visit = {"person": person_a.employee_no, "visitor": owner.person.employee_no, "visited_on": "2026-11-21",
             "hardship_household": household.ref, "notes": "送去慰问金"}
    response = client.post("/api/visits/", visit, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["hardship_household"], response.json()["kind"]) == (household.ref, "hardship")
    logged = Visit.objects.get(ref=response.json()["ref"])
    assert (logged.hardship_household, logged.created_by) == (household, owner)
    assert client.get(f"/api/visits/{logged.pk}/").json()["hardship_household"] == household.ref

    neighbour = register(PersonFactory(org_unit=person_a.org_unit), owner)  # in view, another person's
    refused = client.post("/api/visits/", {**visit, "hardship_household": neighbour.ref}, format="json")
    assert refused.status_code == 400 and "hardship_household" in refused.json()
    out_of_view = client.post("/api/visits/", {**visit, "hardship_household": elsewhere.ref}, format="json")
    assert out_of_view.status_code == 400 and "hardship_household" in out_of_view.json()
    later = client.patch(f"/api/visits/{logged.pk}/", {"visited_on": "2999-01-01"}, format="json")
    assert later.status_code == 400 and "visited_on" in later.json()
    assert Visit.objects.filter(person=person_a).count() == 1
