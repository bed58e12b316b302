"""REST API: token and session authentication, scope (404 outside), masking and the logged reveal,
400 with field errors on bad input, read-only roles, the OpenAPI schema, cursor pagination."""
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members.models import OrgUnit, Person, RevealLog
from portal.roles import Role
from tests.conftest import make_user
from tests.factories import TEST_PASSWORD, PersonFactory, valid_id_number

PEOPLE = "/api/people/"
UNITS = "/api/orgunits/"


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user=None)
    api.force_login(user)
    return api


@pytest.fixture
def masked_person(tree):
    return PersonFactory(org_unit=tree.group_a, name="王小明", phone="13812341234", id_number="11010519491231002X")


def new_person(unit, **overrides):
    data = {"employee_no": "API1", "name": "接口人员", "gender": "F", "phone": "13900001111",
            "id_number": valid_id_number(555), "org_unit": unit.pk, "political_status": "masses", "tags": ["青年"]}
    data.update(overrides)
    return data


# --- Authentication -----------------------------------------------------------------------------
def test_token_endpoint(api, owner):
    response = api.post("/api/auth/token/", {"username": "owner", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=owner).key == token
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(PEOPLE).status_code == 200


def test_token_endpoint_bad_credentials(api, owner):
    response = api.post("/api/auth/token/", {"username": "owner", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()
    response = api.post("/api/auth/token/", {"username": "owner"}, format="json")
    assert response.status_code == 400 and "password" in response.json()


def test_bad_token_is_refused(api, owner):
    api.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert api.get(PEOPLE).status_code in (401, 403)


def test_session_auth(api, owner):
    assert as_user(api, owner).get(PEOPLE).status_code == 200


def test_anonymous_is_refused(api, person_a):
    for url in (PEOPLE, f"{PEOPLE}{person_a.pk}/", UNITS):
        assert api.get(url).status_code in (401, 403)
    assert api.post(PEOPLE, {}, format="json").status_code in (401, 403)


# --- Scope and masking --------------------------------------------------------------------------
def test_outsider_cannot_see_other_branch(api, outsider, person_a, person_b):
    as_user(api, outsider)
    assert api.get(f"{PEOPLE}{person_a.pk}/").status_code == 404
    ids = {p["id"] for p in api.get(PEOPLE).json()["results"]}
    assert person_b.pk in ids and person_a.pk not in ids
    assert api.get(f"{UNITS}{OrgUnit.objects.get(code='A').pk}/").status_code == 404
    assert {u["code"] for u in api.get(UNITS).json()["results"]} == {"B"}


def test_employee_sees_only_self(api, member, person_a):
    as_user(api, member)
    results = api.get(PEOPLE).json()["results"]
    assert [p["id"] for p in results] == [member.person_id]
    assert api.get(f"{PEOPLE}{person_a.pk}/").status_code == 404
    assert api.get(UNITS).status_code == 403


def test_handler_has_no_people(api, handler):
    assert as_user(api, handler).get(PEOPLE).status_code == 403


def test_list_and_detail_are_masked(api, owner, masked_person):
    as_user(api, owner)
    row = next(p for p in api.get(PEOPLE).json()["results"] if p["id"] == masked_person.pk)
    assert row["phone"] == "138****1234" and row["id_number"] == "1101**********002X"
    detail = api.get(f"{PEOPLE}{masked_person.pk}/").json()
    assert detail["phone"] == "138****1234" and detail["id_number"] == "1101**********002X"
    assert "13812341234" not in str(api.get(PEOPLE).content)


def test_filters(api, admin_user, person_a, person_b):
    as_user(api, admin_user)
    ids = {p["id"] for p in api.get(PEOPLE, {"org": "A"}).json()["results"]}
    assert person_a.pk in ids and person_b.pk not in ids
    assert api.get(PEOPLE, {"org": "NOPE"}).json()["results"] == []
    assert [p["id"] for p in api.get(PEOPLE, {"employee_no": person_b.employee_no}).json()["results"]] == [person_b.pk]


# --- Reveal ------------------------------------------------------------------------------------
def test_reveal_logs_and_returns_values(api, tree, masked_person):
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a, may_view_sensitive=True, username="sec")
    response = as_user(api, secretary).post(f"{PEOPLE}{masked_person.pk}/reveal/")
    assert response.status_code == 200
    assert response.json() == {"phone": "13812341234", "id_number": "11010519491231002X"}
    log = RevealLog.objects.get()
    assert (log.user, log.person, log.field) == (secretary, masked_person, "api")
    assert log.ip_address == "127.0.0.1"


def test_reveal_without_permission(api, owner, masked_person):
    assert as_user(api, owner).post(f"{PEOPLE}{masked_person.pk}/reveal/").status_code == 403
    assert not RevealLog.objects.exists()


def test_reveal_out_of_scope_and_bad_ids(api, tree, masked_person):
    outsider = make_user(Role.BRANCH_SECRETARY, tree.branch_b, may_view_sensitive=True, username="out")
    as_user(api, outsider)
    assert api.post(f"{PEOPLE}{masked_person.pk}/reveal/").status_code == 404
    assert api.post(f"{PEOPLE}abc/reveal/").status_code == 404
    assert api.post(f"{PEOPLE}999999/reveal/").status_code == 404
    assert not RevealLog.objects.exists()


def test_employee_reveals_own(api, member, person_a):
    as_user(api, member)
    assert api.post(f"{PEOPLE}{member.person_id}/reveal/").json()["phone"] == member.person.phone
    assert api.post(f"{PEOPLE}{person_a.pk}/reveal/").status_code == 404


# --- Writes -------------------------------------------------------------------------------------
def test_create_and_update(api, owner, tree):
    as_user(api, owner)
    response = api.post(PEOPLE, new_person(tree.group_a), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "139****1111"
    person = Person.objects.get(employee_no="API1")
    assert person.id_number == valid_id_number(555) and person.tags == ["青年"]
    response = api.patch(f"{PEOPLE}{person.pk}/", {"name": "改名", "phone": "+86 138 0000 9999"}, format="json")
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.name == "改名" and person.phone == "13800009999"


@pytest.mark.parametrize("overrides,field", [
    ({"id_number": "110105194912310021"}, "id_number"),
    ({"id_number": "123"}, "id_number"),
    ({"phone": "12345"}, "phone"),
    ({"gender": "X"}, "gender"),
    ({"political_status": "king"}, "political_status"),
    ({"birth_date": "1990-13-45"}, "birth_date"),
    ({"org_unit": 999999}, "org_unit"),
    ({"org_unit": "abc"}, "org_unit"),
    ({"name": ""}, "name"),
    ({"joined_party_on": "2010-01-01", "political_status": "masses"}, "joined_party_on"),
    ({"tags": "not-a-list"}, "tags"),
])
def test_create_bad_input_is_400(api, owner, tree, overrides, field):
    as_user(api, owner)
    response = api.post(PEOPLE, new_person(tree.group_a, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Person.objects.filter(employee_no="API1").exists()


def test_org_unit_outside_scope_is_400(api, owner, tree):
    as_user(api, owner)
    response = api.post(PEOPLE, new_person(tree.branch_b), format="json")
    assert response.status_code == 400 and "org_unit" in response.json()
    assert not Person.objects.filter(employee_no="API1").exists()


def test_moving_out_of_scope_is_400(api, owner, tree, person_a):
    as_user(api, owner)
    response = api.patch(f"{PEOPLE}{person_a.pk}/", {"org_unit": tree.branch_b.pk}, format="json")
    assert response.status_code == 400
    person_a.refresh_from_db()
    assert person_a.org_unit == tree.group_a


def test_duplicates_are_400(api, owner, tree, person_a):
    as_user(api, owner)
    response = api.post(PEOPLE, new_person(tree.group_a, employee_no=person_a.employee_no), format="json")
    assert response.status_code == 400 and "employee_no" in response.json()
    response = api.post(PEOPLE, new_person(tree.group_a, id_number=person_a.id_number), format="json")
    assert response.status_code == 400 and "id_number" in response.json()


def test_malformed_body_is_400(api, owner):
    response = as_user(api, owner).post(PEOPLE, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_out_of_scope_write_is_404(api, outsider, person_a):
    as_user(api, outsider)
    assert api.patch(f"{PEOPLE}{person_a.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api.delete(f"{PEOPLE}{person_a.pk}/").status_code == 403  # secretaries delete nobody
    person_a.refresh_from_db()
    assert person_a.name == "张三"


@pytest.mark.parametrize("fixture", ["manager", "member"])
def test_read_only_roles_cannot_write(api, request, tree, person_a, fixture):
    as_user(api, request.getfixturevalue(fixture))
    assert api.post(PEOPLE, new_person(tree.group_a), format="json").status_code == 403
    assert api.patch(f"{PEOPLE}{person_a.pk}/", {"name": "x"}, format="json").status_code in (403, 404)
    assert not Person.objects.filter(employee_no="API1").exists()


def test_org_units_write_is_admin_only(api, owner, admin_user, tree):
    data = {"code": "A2", "name": "第二党小组", "kind": "group", "parent": tree.branch_a.pk}
    assert as_user(api, owner).post(UNITS, data, format="json").status_code == 403
    response = as_user(api, admin_user).post(UNITS, data, format="json")
    assert response.status_code == 201
    unit = OrgUnit.objects.get(code="A2")
    assert unit.path == tree.branch_a.path + f"{unit.pk:07d}/"


def test_org_unit_cycle_and_second_root_are_400(api, admin_user, tree):
    as_user(api, admin_user)
    response = api.patch(f"{UNITS}{tree.branch_a.pk}/", {"parent": tree.group_a.pk}, format="json")
    assert response.status_code == 400 and "parent" in response.json()
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.parent == tree.root
    response = api.post(UNITS, {"code": "R2", "name": "第二个党委", "kind": "committee", "parent": None}, format="json")
    assert response.status_code == 400 and "parent" in response.json()
    assert not OrgUnit.objects.filter(code="R2").exists()


# --- Schema, docs, pagination -------------------------------------------------------------------
def test_schema(api, db):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3" in response.content
    response = api.get("/api/schema/", {"format": "json"})
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/people/" in schema["paths"] and "/api/people/{id}/reveal/" in schema["paths"]
    assert "/api/auth/token/" in schema["paths"]


def test_docs_page(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200 and b"swagger" in response.content.lower()


def test_cursor_pagination(api, admin_user, tree):
    for _ in range(5):
        PersonFactory(org_unit=tree.branch_a)
    as_user(api, admin_user)
    page = api.get(PEOPLE, {"page_size": 2}).json()
    assert set(page) == {"next", "previous", "results"}  # no count
    assert len(page["results"]) == 2 and page["next"]
    seen = [p["id"] for p in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [p["id"] for p in page["results"]]
    assert sorted(seen, reverse=True) == seen and len(seen) == len(set(seen)) == Person.objects.count()


def test_api_list_makes_no_full_count(api, admin_user, tree, count_queries):
    for _ in range(5):
        PersonFactory(org_unit=tree.branch_a)
    as_user(api, admin_user)
    with count_queries() as ctx:
        api.get(PEOPLE)
    # (The account's query counts its unread notifications; the list itself is never counted.)
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and 'FROM "members_person"' in q["sql"]]


def test_token_endpoint_is_locked_after_five_failures(api, owner):
    for _ in range(5):
        api.post("/api/auth/token/", {"username": "owner", "password": "wrong"}, format="json")
    response = api.post("/api/auth/token/", {"username": "owner", "password": TEST_PASSWORD}, format="json")
    assert response.status_code in (400, 403, 429)
    assert "token" not in response.json()


def test_delete_needs_the_pages_delete_permission(api, owner, admin_user, person_a):
    """Secretaries may edit people but, as on the pages, only administrators delete them."""
    assert as_user(api, owner).delete(f"{PEOPLE}{person_a.pk}/").status_code == 403
    assert Person.objects.filter(pk=person_a.pk).exists()
    assert as_user(api, admin_user).delete(f"{PEOPLE}{person_a.pk}/").status_code == 204
    assert not Person.objects.filter(pk=person_a.pk).exists()


def test_delete_of_a_referenced_record_is_400(api, admin_user, tree):
    as_user(api, admin_user)
    response = api.delete(f"{UNITS}{tree.branch_a.pk}/")  # has a sub-unit
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert OrgUnit.objects.filter(pk=tree.branch_a.pk).exists()
    assert api.delete(f"{UNITS}{tree.department.pk}/").status_code == 204
