"""Every members URL: anonymous → login, roles → 200 or 403, out of scope → 404, bad input saves
nothing and shows a message beside the field, masking and the reveal log, the history block."""
import datetime

import pytest
from django.urls import reverse

from members.choices import DevelopmentStage as S
from members.models import DevelopmentRecord, OrgUnit, Person, PointsEntry, RevealLog
from portal.roles import Role
from tests.conftest import make_user
from tests.factories import PersonFactory, valid_id_number


def login(client, user):
    client.force_login(user)
    return client


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def person_data(unit, **overrides):
    data = dict(
        employee_no="N0001", name="王五", gender="M", birth_date="1990-05-01", phone="13812341234",
        id_number=valid_id_number(901), org_unit=unit.pk, position="工程师", political_status="masses",
        joined_party_on="", tags="青年;技术骨干", dual_cultivation="", is_active="on",
    )
    data.update(overrides)
    return data


def edit_data(person, **overrides):
    data = dict(
        employee_no=person.employee_no, name=person.name, gender=person.gender, birth_date="1990-01-01",
        phone="", id_number="", org_unit=person.org_unit_id, position="", political_status=person.political_status,
        joined_party_on="", tags="", dual_cultivation="", is_active="on",
    )
    data.update(overrides)
    return data


@pytest.fixture
def manager_b(tree):
    """A manager scoped to branch B (managers may adjust points)."""
    return make_user(Role.MANAGER, tree.branch_b, username="manager_b")


@pytest.fixture
def urls(person_a, tree):
    pk = person_a.pk
    return {
        "person_list": ("get", reverse("members:person_list")),
        "person_detail": ("get", reverse("members:person_detail", args=[pk])),
        "person_create": ("get", reverse("members:person_create")),
        "person_edit": ("get", reverse("members:person_edit", args=[pk])),
        "person_delete": ("get", reverse("members:person_delete", args=[pk])),
        "person_reveal": ("post", reverse("members:person_reveal", args=[pk, "phone"])),
        "person_stage": ("post", reverse("members:person_stage", args=[pk])),
        "person_points": ("post", reverse("members:person_points", args=[pk])),
        "my_record": ("get", reverse("members:my_record")),
        "development": ("get", reverse("members:development")),
        "reveal_log": ("get", reverse("members:reveal_log")),
        "orgunit_list": ("get", reverse("members:orgunit_list")),
        "orgunit_detail": ("get", reverse("members:orgunit_detail", args=[tree.branch_a.pk])),
        "orgunit_create": ("get", reverse("members:orgunit_create")),
        "orgunit_edit": ("get", reverse("members:orgunit_edit", args=[tree.branch_a.pk])),
        "orgunit_delete": ("get", reverse("members:orgunit_delete", args=[tree.group_a.pk])),
        "orgunit_autocomplete": ("get", reverse("members:orgunit_autocomplete")),
        "person_autocomplete": ("get", reverse("members:person_autocomplete")),
    }


def fetch(client, urls, name):
    method, url = urls[name]
    return getattr(client, method)(url)


# --- Anonymous ---------------------------------------------------------------------------------
URL_NAMES = [
    "person_list", "person_detail", "person_create", "person_edit", "person_delete", "person_reveal", "person_stage",
    "person_points", "my_record", "development", "reveal_log", "orgunit_list", "orgunit_detail", "orgunit_create",
    "orgunit_edit", "orgunit_delete", "orgunit_autocomplete", "person_autocomplete",
]


@pytest.mark.parametrize("name", URL_NAMES)
def test_anonymous_goes_to_login(client, urls, name):
    assert_login_redirect(fetch(client, urls, name))


# --- Who may open what -------------------------------------------------------------------------
# (url name, roles answered 200, roles answered 403); POST views are tested below.
ACCESS = [
    ("person_list", {"owner", "member", "staff", "manager", "admin_user"}, {"handler"}),
    ("person_detail", {"owner", "staff", "manager", "admin_user"}, {"handler"}),
    ("person_create", {"owner", "staff", "admin_user"}, {"member", "manager", "handler"}),
    ("person_edit", {"owner", "staff", "admin_user"}, {"member", "manager", "handler"}),
    ("person_delete", {"admin_user"}, {"owner", "staff", "manager", "member", "handler"}),
    ("development", {"owner", "staff", "manager", "admin_user"}, {"member", "handler"}),
    ("reveal_log", {"admin_user"}, {"owner", "staff", "manager", "member", "handler"}),
    ("orgunit_list", {"owner", "staff", "manager", "admin_user"}, {"member", "handler"}),
    ("orgunit_detail", {"owner", "staff", "manager", "admin_user"}, {"member", "handler"}),
    ("orgunit_create", {"admin_user"}, {"owner", "staff", "manager", "member", "handler"}),
    ("orgunit_edit", {"admin_user"}, {"owner", "staff", "manager", "member", "handler"}),
    ("orgunit_delete", {"admin_user"}, {"owner", "staff", "manager", "member", "handler"}),
    ("orgunit_autocomplete", {"owner", "staff", "manager", "admin_user"}, {"member", "handler"}),
    ("person_autocomplete", {"owner", "member", "staff", "manager", "admin_user"}, {"handler"}),
]


@pytest.mark.parametrize("name,allowed,denied", ACCESS, ids=[a[0] for a in ACCESS])
def test_roles(client, request, urls, name, allowed, denied):
    for fixture in sorted(allowed):
        client.force_login(request.getfixturevalue(fixture))
        assert fetch(client, urls, name).status_code == 200, (name, fixture)
    for fixture in sorted(denied):
        client.force_login(request.getfixturevalue(fixture))
        assert fetch(client, urls, name).status_code == 403, (name, fixture)


def test_my_record(client, member, handler, admin_user):
    response = login(client, member).get(reverse("members:my_record"))
    assert response.status_code == 302
    assert response["Location"] == reverse("members:person_detail", args=[member.person_id])
    assert client.get(response["Location"]).status_code == 200
    # An account without a person record goes home with a message.
    response = login(client, admin_user).get(reverse("members:my_record"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert login(client, handler).get(reverse("members:my_record")).status_code == 403



@pytest.mark.parametrize("role", [Role.STAFF, Role.BRANCH_SECRETARY, Role.MANAGER])
def test_my_record_opens_for_an_account_whose_person_is_outside_its_scope(client, tree, role):
    """Everyone may read their own 一人一档, wherever their scope unit lies."""
    user = make_user(role, tree.branch_b, person_unit=tree.department)
    response = login(client, user).get(reverse("members:my_record"))
    assert response["Location"] == reverse("members:person_detail", args=[user.person_id])
    assert client.get(response["Location"]).status_code == 200
    # Their own record only: another person outside the scope still does not exist for them.
    other = PersonFactory(org_unit=tree.department)
    assert client.get(reverse("members:person_detail", args=[other.pk])).status_code == 404

def test_employee_sees_only_own_record(client, member, person_a):
    login(client, member)
    assert client.get(reverse("members:person_detail", args=[person_a.pk])).status_code == 404
    response = client.get(reverse("members:person_list"))
    names = [p.name for p in response.context["table"].data]
    assert names == [member.person.name]


# --- Out of scope answers 404 ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["person_detail", "person_edit"])
def test_outsider_gets_404(client, outsider, urls, name):
    assert fetch(login(client, outsider), urls, name).status_code == 404


def test_outsider_cannot_post_edit(client, outsider, person_a):
    login(client, outsider)
    response = client.post(reverse("members:person_edit", args=[person_a.pk]), edit_data(person_a, name="改名"))
    assert response.status_code == 404
    person_a.refresh_from_db()
    assert person_a.name == "张三"


def test_outsider_reveal_stage_are_404(client, tree, person_a):
    outsider = make_user(Role.BRANCH_SECRETARY, tree.branch_b, may_view_sensitive=True, username="outsider2")
    login(client, outsider)
    assert client.post(reverse("members:person_reveal", args=[person_a.pk, "phone"])).status_code == 404
    assert client.post(reverse("members:person_reveal", args=[person_a.pk, "id_number"])).status_code == 404
    response = client.post(reverse("members:person_stage", args=[person_a.pk]), {"stage": "applicant", "reached_on": "2020-01-01"})
    assert response.status_code == 404
    assert not RevealLog.objects.exists()
    assert not DevelopmentRecord.objects.exists()


def test_points_out_of_scope_is_404(client, manager_b, person_a):
    response = login(client, manager_b).post(
        reverse("members:person_points", args=[person_a.pk]), {"points": 5, "reason": "奖励", "awarded_on": "2026-01-05"}
    )
    assert response.status_code == 404
    assert not PointsEntry.objects.exists()


def test_orgunit_out_of_scope(client, outsider, tree):
    login(client, outsider)
    assert client.get(reverse("members:orgunit_detail", args=[tree.branch_a.pk])).status_code == 404
    assert client.get(reverse("members:orgunit_detail", args=[tree.branch_b.pk])).status_code == 200
    codes = {u.code for u in client.get(reverse("members:orgunit_list")).context["table"].data}
    assert codes == {"B"}


def test_nonexistent_ids_are_404(client, admin_user):
    login(client, admin_user)
    assert client.get(reverse("members:person_detail", args=[999999])).status_code == 404
    assert client.get(reverse("members:orgunit_edit", args=[999999])).status_code == 404
    assert client.post(reverse("members:person_delete", args=[999999])).status_code == 404


def test_delete_by_role_without_permission_is_refused(client, owner, person_a):
    response = login(client, owner).post(reverse("members:person_delete", args=[person_a.pk]))
    assert response.status_code == 403
    assert Person.objects.filter(pk=person_a.pk).exists()


# --- Autocompletes ----------------------------------------------------------------------------
def test_orgunit_autocomplete_is_scoped(client, owner, admin_user):
    data = login(client, owner).get(reverse("members:orgunit_autocomplete"), {"q": "第"}).json()
    assert {r["text"].split("（")[0] for r in data["results"]} == {"第一党支部", "第一党小组"}
    data = login(client, admin_user).get(reverse("members:orgunit_autocomplete"), {"q": "第"}).json()
    assert len(data["results"]) == 3


def test_person_autocomplete_is_scoped(client, outsider, owner, person_a, person_b):
    data = login(client, outsider).get(reverse("members:person_autocomplete"), {"q": "张"}).json()
    assert data["results"] == []
    data = login(client, owner).get(reverse("members:person_autocomplete"), {"q": "张"}).json()
    assert [r["value"] for r in data["results"]] == [person_a.pk]
    data = client.get(reverse("members:person_autocomplete"), {"q": person_a.employee_no}).json()
    assert [r["value"] for r in data["results"]] == [person_a.pk]


def test_autocomplete_returns_at_most_20(client, admin_user, tree):
    for i in range(25):
        PersonFactory(org_unit=tree.branch_a, name=f"赵{i}")
    data = login(client, admin_user).get(reverse("members:person_autocomplete"), {"q": "赵"}).json()
    assert len(data["results"]) == 20


# --- Creating and editing people --------------------------------------------------------------
def test_create_person(client, owner, tree):
    response = login(client, owner).post(reverse("members:person_create"), person_data(tree.group_a))
    person = Person.objects.get(employee_no="N0001")
    assert response.status_code == 302 and response["Location"] == person.get_absolute_url()
    assert person.tags == ["青年", "技术骨干"]
    assert person.org_unit == tree.group_a
    assert person.id_number == valid_id_number(901)


def test_create_normalises_phone_and_id(client, owner, tree):
    data = person_data(tree.branch_a, phone="+86 138 1234 1234", id_number="11010519491231002x", birth_date="1949-12-31")
    response = login(client, owner).post(reverse("members:person_create"), data)
    assert response.status_code == 302
    person = Person.objects.get(employee_no="N0001")
    assert person.phone == "13812341234" and person.id_number == "11010519491231002X"


BAD_INPUT = [
    ("id_number", {"id_number": "110105194912310021"}, "身份证号校验位不正确"),
    ("id_number", {"id_number": "12345"}, "身份证号应为 18 位"),
    ("phone", {"phone": "12345"}, "010-12345678"),
    ("birth_date", {"birth_date": "2999-01-01"}, "出生日期不能晚于今天"),
    ("birth_date", {"birth_date": "not-a-date"}, None),
    ("joined_party_on", {"joined_party_on": "2010-01-01", "political_status": "masses"}, "只有党员才有入党日期"),
    ("political_status", {"political_status": "king"}, None),
    ("name", {"name": ""}, None),
]


@pytest.mark.parametrize("field,overrides,text", BAD_INPUT, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_INPUT)])
def test_create_with_bad_input_saves_nothing(client, owner, tree, field, overrides, text):
    before = Person.objects.count()
    response = login(client, owner).post(reverse("members:person_create"), person_data(tree.group_a, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert "invalid-feedback" in html
    for message in response.context["form"].errors[field]:
        assert str(message) in html
    if text:
        assert text in html
    assert Person.objects.count() == before


def test_duplicate_employee_number_and_id_number(client, owner, tree, person_a):
    login(client, owner)
    before = Person.objects.count()
    response = client.post(reverse("members:person_create"), person_data(tree.group_a, employee_no=person_a.employee_no))
    assert response.status_code == 200 and "employee_no" in response.context["form"].errors
    assert "工号" in str(response.context["form"].errors["employee_no"])
    response = client.post(reverse("members:person_create"), person_data(tree.group_a, id_number=person_a.id_number))
    assert response.status_code == 200 and "id_number" in response.context["form"].errors
    assert "该身份证号已被其他人员使用" in response.content.decode()
    assert Person.objects.count() == before


def test_org_unit_outside_scope_chosen_by_id(client, owner, tree):
    login(client, owner)
    response = client.post(reverse("members:person_create"), person_data(tree.branch_b))
    assert response.status_code == 200
    assert "org_unit" in response.context["form"].errors
    assert not Person.objects.filter(employee_no="N0001").exists()


def test_moving_a_person_outside_scope_is_refused(client, owner, tree, person_a):
    login(client, owner)
    response = client.post(reverse("members:person_edit", args=[person_a.pk]), edit_data(person_a, org_unit=tree.branch_b.pk))
    assert response.status_code == 200
    assert "org_unit" in response.context["form"].errors
    person_a.refresh_from_db()
    assert person_a.org_unit == tree.group_a


def test_edit_keeps_masked_values_when_left_empty(client, owner, person_a):
    phone, id_number = person_a.phone, person_a.id_number
    login(client, owner)
    response = client.get(reverse("members:person_edit", args=[person_a.pk]))
    html = response.content.decode()
    assert phone not in html and id_number not in html  # never put into the form
    response = client.post(reverse("members:person_edit", args=[person_a.pk]), edit_data(person_a, name="张三丰"))
    assert response.status_code == 302
    person_a.refresh_from_db()
    assert (person_a.name, person_a.phone, person_a.id_number) == ("张三丰", phone, id_number)


def test_edit_with_bad_input_saves_nothing(client, staff, person_a):
    login(client, staff)
    response = client.post(reverse("members:person_edit", args=[person_a.pk]), edit_data(person_a, name="新名字", phone="999"))
    assert response.status_code == 200 and "phone" in response.context["form"].errors
    person_a.refresh_from_db()
    assert person_a.name == "张三"


def test_delete_person(client, admin_user, person_a):
    login(client, admin_user)
    assert "张三" in client.get(reverse("members:person_delete", args=[person_a.pk])).content.decode()
    response = client.post(reverse("members:person_delete", args=[person_a.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("members:person_list")
    assert not Person.objects.filter(pk=person_a.pk).exists()


# --- Development stages and points --------------------------------------------------------------
def test_record_stage(client, owner, person_a):
    response = login(client, owner).post(
        reverse("members:person_stage", args=[person_a.pk]), {"stage": "activist", "reached_on": "2024-03-01"}
    )
    assert response.status_code == 302
    assert person_a.development.get().stage == S.ACTIVIST
    response = client.get(response["Location"])
    assert "发展阶段已记录" in response.content.decode()


def test_record_stage_too_early_shows_the_earliest_date(client, owner, person_a):
    DevelopmentRecord.objects.create(person=person_a, stage=S.ACTIVIST, reached_on=datetime.date(2024, 3, 1))
    response = login(client, owner).post(
        reverse("members:person_stage", args=[person_a.pk]), {"stage": "candidate", "reached_on": "2024-09-01"}, follow=True
    )
    assert response.status_code == 200
    assert "2025-03-01" in response.content.decode()
    assert person_a.development.count() == 1


@pytest.mark.parametrize("data", [{"stage": "king", "reached_on": "2024-01-01"}, {"stage": "applicant", "reached_on": "x"}, {}])
def test_record_stage_bad_input(client, owner, person_a, data):
    response = login(client, owner).post(reverse("members:person_stage", args=[person_a.pk]), data, follow=True)
    assert response.status_code == 200
    assert list(response.context["messages"])
    assert not person_a.development.exists()


def test_stage_needs_permission(client, manager, member, person_a):
    for user in (manager, member):
        response = login(client, user).post(reverse("members:person_stage", args=[person_a.pk]), {"stage": "applicant", "reached_on": "2024-01-01"})
        assert response.status_code == 403
    assert not person_a.development.exists()


def test_points(client, manager, person_a):
    response = login(client, manager).post(
        reverse("members:person_points", args=[person_a.pk]), {"points": -3, "reason": "缺席", "awarded_on": "2026-01-05"}
    )
    assert response.status_code == 302
    entry = PointsEntry.objects.get()
    assert (entry.person, entry.points, entry.awarded_by) == (person_a, -3, manager)


@pytest.mark.parametrize("data", [
    {"points": 0, "reason": "零", "awarded_on": "2026-01-05"},
    {"points": "abc", "reason": "x", "awarded_on": "2026-01-05"},
    {"points": 5000, "reason": "太多", "awarded_on": "2026-01-05"},
    {"points": 5, "reason": "", "awarded_on": "2026-01-05"},
    {"points": 5, "reason": "x", "awarded_on": "bad"},
])
def test_points_bad_input(client, manager, person_a, data):
    response = login(client, manager).post(reverse("members:person_points", args=[person_a.pk]), data, follow=True)
    assert response.status_code == 200
    assert list(response.context["messages"])
    assert not PointsEntry.objects.exists()


def test_points_need_permission(client, owner, person_a):
    response = login(client, owner).post(reverse("members:person_points", args=[person_a.pk]), {"points": 5, "reason": "x", "awarded_on": "2026-01-05"})
    assert response.status_code == 403


# --- Masking, reveal and the reveal log --------------------------------------------------------
@pytest.fixture
def phone_person(tree):
    return PersonFactory(org_unit=tree.group_a, name="王小明", phone="13812341234", id_number="11010519491231002X")


def test_list_and_detail_are_masked(client, owner, phone_person):
    login(client, owner)
    html = client.get(reverse("members:person_list")).content.decode()
    assert "138****1234" in html and "13812341234" not in html
    html = client.get(reverse("members:person_detail", args=[phone_person.pk])).content.decode()
    assert "138****1234" in html and "13812341234" not in html
    assert "1101**********002X" in html and "11010519491231002X" not in html


def test_reveal_without_permission_is_403(client, owner, phone_person):
    login(client, owner)  # may_view_sensitive is off
    html = client.get(reverse("members:person_detail", args=[phone_person.pk])).content.decode()
    assert reverse("members:person_reveal", args=[phone_person.pk, "phone"]) not in html
    assert client.post(reverse("members:person_reveal", args=[phone_person.pk, "phone"])).status_code == 403
    assert not RevealLog.objects.exists()


def test_reveal_logs_who_what_where(client, tree, phone_person):
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a, may_view_sensitive=True, username="sec")
    login(client, secretary)
    html = client.get(reverse("members:person_detail", args=[phone_person.pk])).content.decode()
    assert reverse("members:person_reveal", args=[phone_person.pk, "phone"]) in html
    response = client.post(reverse("members:person_reveal", args=[phone_person.pk, "phone"]), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200 and "13812341234" in response.content.decode()
    response = client.post(reverse("members:person_reveal", args=[phone_person.pk, "id_number"]))
    assert "11010519491231002X" in response.content.decode()
    logs = list(RevealLog.objects.order_by("id"))
    assert [(l.user, l.person, l.field) for l in logs] == [
        (secretary, phone_person, "phone"), (secretary, phone_person, "id_number"),
    ]
    assert logs[0].ip_address == "10.1.2.3" and logs[0].at is not None


def test_reveal_is_post_only_and_fields_are_limited(client, admin_user, phone_person):
    login(client, admin_user)
    assert client.get(reverse("members:person_reveal", args=[phone_person.pk, "phone"])).status_code == 405
    assert client.post(reverse("members:person_reveal", args=[phone_person.pk, "name"])).status_code in (403, 404)
    assert not RevealLog.objects.exists()


def test_admin_reveal_is_logged(client, admin_user, phone_person):
    response = login(client, admin_user).post(reverse("members:person_reveal", args=[phone_person.pk, "phone"]))
    assert response.status_code == 200
    assert RevealLog.objects.get().user == admin_user


def test_employee_may_reveal_own(client, member, person_a):
    login(client, member)
    response = client.post(reverse("members:person_reveal", args=[member.person_id, "phone"]))
    assert response.status_code == 200 and member.person.phone in response.content.decode()
    assert client.post(reverse("members:person_reveal", args=[person_a.pk, "phone"])).status_code == 404


def test_handler_cannot_reveal(client, handler, person_a):
    assert login(client, handler).post(reverse("members:person_reveal", args=[person_a.pk, "phone"])).status_code == 403


def test_reveal_log_page(client, admin_user, tree, phone_person):
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a, may_view_sensitive=True, username="sec")
    login(client, secretary).post(reverse("members:person_reveal", args=[phone_person.pk, "phone"]))
    html = login(client, admin_user).get(reverse("members:reveal_log")).content.decode()
    assert "sec" in html and "王小明" in html and "127.0.0.1" in html


# --- History on the person page ----------------------------------------------------------------
def test_history_shows_who_changed_what_masked(client, owner, phone_person):
    login(client, owner)
    response = client.post(
        reverse("members:person_edit", args=[phone_person.pk]),
        edit_data(phone_person, name="王大明", phone="13900005678", id_number=valid_id_number(77)),
    )
    assert response.status_code == 302
    html = client.get(reverse("members:person_detail", args=[phone_person.pk]), {"history": "1"}).content.decode()
    history = html[html.index("变更记录"):]
    assert owner.display_name in history
    assert "王小明 → 王大明" in history
    assert "138****1234 → 139****5678" in history
    assert "13900005678" not in html and "13812341234" not in html
    assert valid_id_number(77) not in html and "11010519491231002X" not in html


def test_history_hidden_from_employee(client, member):
    html = login(client, member).get(reverse("members:person_detail", args=[member.person_id])).content.decode()
    assert "变更记录" not in html


# --- Org units --------------------------------------------------------------------------------
def test_create_orgunit(client, admin_user, tree):
    login(client, admin_user)
    response = client.post(reverse("members:orgunit_create"), {"code": "A2", "name": "第二党小组", "kind": "group", "parent": tree.branch_a.pk, "sort_order": 0, "is_active": "on"})
    assert response.status_code == 302
    unit = OrgUnit.objects.get(code="A2")
    assert unit.path == tree.branch_a.path + f"{unit.pk:07d}/"


def test_orgunit_bad_input(client, admin_user, tree):
    login(client, admin_user)
    before = OrgUnit.objects.count()
    for data in (
        {"code": "A", "name": "重复", "kind": "group", "parent": tree.branch_a.pk, "sort_order": 0},
        {"code": "X", "name": "", "kind": "group", "parent": tree.branch_a.pk, "sort_order": 0},
        {"code": "X", "name": "x", "kind": "group", "parent": 999999, "sort_order": 0},
        {"code": "X", "name": "x", "kind": "group", "parent": "", "sort_order": 0},
        {"code": "X", "name": "x", "kind": "group", "parent": tree.branch_a.pk, "sort_order": "abc"},
    ):
        response = client.post(reverse("members:orgunit_create"), data)
        assert response.status_code == 200, data
        assert response.context["form"].errors
    assert OrgUnit.objects.count() == before


def test_orgunit_cycle_refused_in_the_page(client, admin_user, tree):
    login(client, admin_user)
    response = client.post(reverse("members:orgunit_edit", args=[tree.branch_a.pk]),
                           {"code": "A", "name": "第一党支部", "kind": "branch", "parent": tree.group_a.pk, "sort_order": 0, "is_active": "on"})
    assert response.status_code == 200
    assert "组织不能设置在其自身或其下级组织之下" in response.content.decode()
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.parent == tree.root


def test_orgunit_move_in_the_page(client, admin_user, tree):
    login(client, admin_user)
    response = client.post(reverse("members:orgunit_edit", args=[tree.group_a.pk]),
                           {"code": "A1", "name": "第一党小组", "kind": "group", "parent": tree.branch_b.pk, "sort_order": 0, "is_active": "on"})
    assert response.status_code == 302
    tree.group_a.refresh_from_db()
    assert tree.group_a.path.startswith(tree.branch_b.path)


def test_delete_orgunit_in_use_is_refused(client, admin_user, tree, person_a):
    login(client, admin_user)
    response = client.post(reverse("members:orgunit_delete", args=[tree.branch_a.pk]), follow=True)
    assert response.status_code == 200
    assert "该记录仍被其他记录引用" in response.content.decode()
    assert OrgUnit.objects.filter(pk=tree.branch_a.pk).exists()


def test_delete_empty_orgunit(client, admin_user, tree):
    response = login(client, admin_user).post(reverse("members:orgunit_delete", args=[tree.department.pk]))
    assert response.status_code == 302
    assert not OrgUnit.objects.filter(pk=tree.department.pk).exists()


def test_orgunit_detail_shows_breadcrumb_children_and_people(client, owner, tree, person_a):
    html = login(client, owner).get(reverse("members:orgunit_detail", args=[tree.branch_a.pk])).content.decode()
    assert "第一党小组" in html and "测试党委" in html
    assert "人员名册（2）" in html  # person_a in the group and the secretary's own record


# --- Development page --------------------------------------------------------------------------
def test_development_page_lists_due_conversions_in_scope(client, owner, tree, person_a, person_b):
    from django.utils import timezone

    due = timezone.localdate() - datetime.timedelta(days=360)
    DevelopmentRecord.objects.create(person=person_a, stage=S.PROBATIONARY, reached_on=due)
    DevelopmentRecord.objects.create(person=person_b, stage=S.PROBATIONARY, reached_on=due)
    response = login(client, owner).get(reverse("members:development"))
    assert [r.person for r in response.context["due_conversions"]] == [person_a]
    assert "张三" in response.content.decode() and "李四" not in response.content.decode()


# --- Autocomplete instead of select lists, timeline, masking helpers -----------------------------
def test_forms_do_not_list_big_tables(client, admin_user, tree, person_a):
    from tests.factories import OrgUnitFactory

    for i in range(30):
        OrgUnitFactory(parent=tree.branch_a, kind="group", name=f"大表单位{i}")
    login(client, admin_user)
    html = client.get(reverse("members:person_create")).content.decode()
    assert reverse("members:orgunit_autocomplete") in html
    assert "大表单位" not in html
    html = client.get(reverse("members:person_edit", args=[person_a.pk])).content.decode()
    assert "第一党小组" in html and "大表单位" not in html  # only the chosen unit is rendered
    html = client.get(reverse("portal:account_create")).content.decode()
    assert reverse("members:person_autocomplete") in html and "张三" not in html


def test_person_page_timeline(client, owner, manager, person_a):
    DevelopmentRecord.objects.create(person=person_a, stage=S.ACTIVIST, reached_on=datetime.date(2024, 3, 1), note="支委会讨论")
    PointsEntry.objects.create(person=person_a, points=5, reason="参加主题党日", awarded_on=datetime.date(2025, 7, 1))
    response = login(client, owner).get(reverse("members:person_detail", args=[person_a.pk]))
    timeline = response.context["timeline"]
    assert timeline[0].title == "+5 参加主题党日"  # newest first
    assert timeline[1].detail == "支委会讨论" and timeline[1].when == datetime.date(2024, 3, 1)
    html = response.content.decode()
    assert "参加主题党日" in html and "支委会讨论" in html and "2024-03-01" in html


def test_masking_helpers():
    from members.masking import mask_id_number, mask_phone

    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("010-12345678") == "010****5678"
    assert mask_phone("") == ""
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("") == ""
