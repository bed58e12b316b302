"""Portal pages: home and menu per role, notifications, accounts administration, language,
error pages, log-in with lockout, log-out and password change."""
import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from portal.models import Notification, User
from portal.notifications import notify
from portal.roles import Role
from tests.factories import TEST_PASSWORD

ROLE_FIXTURES = ["member", "staff", "handler", "owner", "manager", "admin_user"]


def login(client, user):
    client.force_login(user)
    return client


# --- Home and menu ------------------------------------------------------------------------------
@pytest.mark.parametrize("fixture", ROLE_FIXTURES)
def test_home_for_every_role(client, request, fixture):
    user = request.getfixturevalue(fixture)
    response = login(client, user).get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "党群工作管理门户" in html
    assert str(user.get_role_display()) in html
    templates = [t for t, _context in response.context["widgets"]]
    if fixture == "member":
        assert "members/widgets/my_record.html" in templates
        assert "我的档案" in html and user.person.name in html
    if fixture in ("staff", "owner", "manager", "admin_user"):
        assert "members/widgets/scope_summary.html" in templates
        assert "管辖范围内人员" in html
    if fixture == "handler":
        assert "members/widgets/scope_summary.html" not in templates


def test_home_scope_summary_counts_only_scope(client, owner, person_a, person_b):
    response = login(client, owner).get(reverse("home"))
    summary = dict(response.context["widgets"])["members/widgets/scope_summary.html"]
    # person_a and the secretary's own record are in branch A; person_b is not.
    assert summary["counts"]["total"] == 2


def test_anonymous_home_goes_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_menu_per_role(client, member, admin_user, owner, handler):
    html = login(client, member).get(reverse("home")).content.decode()
    assert reverse("members:orgunit_list") not in html and "组织机构" not in html
    assert reverse("members:my_record") in html
    assert reverse("portal:account_list") not in html and "账号管理" not in html
    html = login(client, admin_user).get(reverse("home")).content.decode()
    assert "账号管理" in html and reverse("portal:account_list") in html
    assert "数据导入" in html and reverse("portal:import") in html
    assert "组织机构" in html
    html = login(client, owner).get(reverse("home")).content.decode()
    assert "组织机构" in html and "党员发展" in html and "数据导入" not in html
    html = login(client, handler).get(reverse("home")).content.decode()
    assert reverse("members:person_list") not in html


# --- Notifications ------------------------------------------------------------------------------
@pytest.fixture
def notes(member, owner):
    mine = notify(member, title="您的诉求已受理", url=reverse("members:my_record"), key="k1", email=False)
    other = notify(owner, title="别人的通知", key="k2", email=False)
    return mine, other


def test_notify_is_idempotent_per_key(member, notes):
    assert notify(member, title="再来一次", key="k1", email=False) is None
    assert Notification.objects.filter(user=member).count() == 1


def test_notifications_list_shows_only_mine(client, member, notes):
    response = login(client, member).get(reverse("portal:notifications"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "您的诉求已受理" in html and "别人的通知" not in html


def test_unread_badge_and_open_marks_read(client, member, notes):
    mine, _other = notes
    login(client, member)
    assert client.get(reverse("home")).context["unread_notifications"] == 1
    response = client.get(reverse("portal:notification_open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("members:my_record")
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.get(reverse("home")).context["unread_notifications"] == 0


def test_other_users_notification_is_404(client, member, notes):
    _mine, other = notes
    login(client, member)
    assert client.get(reverse("portal:notification_open", args=[other.pk])).status_code == 404
    client.post(reverse("portal:notifications"), {"id": other.pk})
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read(client, member, owner, notes):
    mine, other = notes
    notify(member, title="第二条", key="k3", email=False)
    response = login(client, member).post(reverse("portal:notifications"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=member, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_one_read_and_bad_input(client, member, notes):
    mine, _other = notes
    login(client, member)
    assert client.post(reverse("portal:notifications"), {"id": "abc"}).status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is None
    client.post(reverse("portal:notifications"), {"id": mine.pk})
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_mark_read_does_not_redirect_off_site(client, member, notes):
    response = login(client, member).post(reverse("portal:notifications"), {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_notifications_need_login(client):
    response = client.get(reverse("portal:notifications"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- Accounts administration --------------------------------------------------------------------
def account_data(**overrides):
    data = dict(username="newuser", role="staff", scope_org="", person="", email="", is_active="on",
                new_password="Secret#pass-2026")
    data.update(overrides)
    return data


@pytest.mark.parametrize("fixture", ["member", "staff", "handler", "owner", "manager"])
def test_accounts_are_admin_only(client, request, fixture):
    login(client, request.getfixturevalue(fixture))
    assert client.get(reverse("portal:account_list")).status_code == 403
    assert client.get(reverse("portal:account_create")).status_code == 403
    assert client.post(reverse("portal:account_create"), account_data()).status_code == 403
    assert not User.objects.filter(username="newuser").exists()


def test_accounts_anonymous(client, owner):
    for url in (reverse("portal:account_list"), reverse("portal:account_create"), reverse("portal:account_edit", args=[owner.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_account_list(client, admin_user, owner, member):
    response = login(client, admin_user).get(reverse("portal:account_list"))
    assert response.status_code == 200
    names = {u.username for u in response.context["table"].data}
    assert {"admin", "owner", "member"} <= names


def test_create_account_password_stored_hashed(client, admin_user, tree):
    response = login(client, admin_user).post(reverse("portal:account_create"), account_data(scope_org=tree.branch_a.pk))
    assert response.status_code == 302
    user = User.objects.get(username="newuser")
    assert user.password != "Secret#pass-2026" and "Secret#pass-2026" not in user.password
    assert check_password("Secret#pass-2026", user.password)
    assert user.scope_org == tree.branch_a and user.role == "staff"


def test_edit_account_empty_password_keeps_it(client, admin_user, owner, tree):
    old_hash = owner.password
    response = login(client, admin_user).post(
        reverse("portal:account_edit", args=[owner.pk]),
        account_data(username="owner", role="branch_secretary", scope_org=tree.branch_b.pk,
                     person=owner.person_id, new_password=""),
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.password == old_hash and owner.scope_org == tree.branch_b


@pytest.mark.parametrize("overrides,field", [
    ({"new_password": ""}, "new_password"),
    ({"new_password": "123"}, "new_password"),
    ({"new_password": "12345678901"}, "new_password"),
    ({"username": "owner"}, "username"),
    ({"username": ""}, "username"),
    ({"role": "staff", "scope_org": ""}, "scope_org"),
    ({"role": "employee"}, "person"),
    ({"role": "king"}, "role"),
    ({"scope_org": "999999"}, "scope_org"),
    ({"email": "not-an-email"}, "email"),
])
def test_create_account_bad_input(client, admin_user, owner, tree, overrides, field):
    data = account_data(scope_org=tree.branch_a.pk)
    data.update(overrides)
    before = User.objects.count()
    response = login(client, admin_user).post(reverse("portal:account_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    for message in response.context["form"].errors[field]:
        assert str(message) in response.content.decode()
    assert User.objects.count() == before


def test_person_already_linked(client, admin_user, member):
    data = account_data(role="employee", person=member.person_id)
    response = login(client, admin_user).post(reverse("portal:account_create"), data)
    assert response.status_code == 200
    assert "该人员已有账号" in response.content.decode()


def test_delete_account(client, admin_user, tree):
    from tests.factories import UserFactory

    user = UserFactory(username="gone", role=Role.HANDLER)
    response = login(client, admin_user).post(reverse("portal:account_delete", args=[user.pk]))
    assert response.status_code == 302
    assert not User.objects.filter(username="gone").exists()


def test_delete_account_in_use_is_refused(client, admin_user, tree, person_a):
    """An account that revealed data is kept for the log; the page says so instead of failing."""
    from members.models import RevealLog

    from tests.factories import UserFactory

    user = UserFactory(username="kept", role=Role.HANDLER)
    RevealLog.objects.create(user=user, person=person_a, field="phone")
    response = login(client, admin_user).post(reverse("portal:account_delete", args=[user.pk]), follow=True)
    assert response.status_code == 200
    assert "该记录仍被其他记录引用" in response.content.decode()
    assert User.objects.filter(username="kept").exists()


# --- Language ------------------------------------------------------------------------------------
def test_default_language_is_chinese(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "党群工作管理门户" in html


def test_switch_to_english_and_back(client, owner):
    login(client, owner)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html
    assert "Party-Mass Work Portal" in html and "Log out" in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("home")})
    html = client.get(reverse("home")).content.decode()
    assert "退出登录" in html


def test_language_switch_is_in_the_menu(client, owner):
    html = login(client, owner).get(reverse("home")).content.decode()
    assert reverse("set_language") in html and 'value="en"' in html


def test_time_zone_is_shanghai(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.LANGUAGE_CODE == "zh-hans"


# --- Error pages --------------------------------------------------------------------------------
def test_403_page(client, member):
    response = login(client, member).get(reverse("members:orgunit_list"))
    assert response.status_code == 403
    assert "您没有权限访问此页面" in response.content.decode()


def test_404_page(client, member):
    response = login(client, member).get("/no/such/page/")
    assert response.status_code == 404
    assert "页面或记录不存在" in response.content.decode()


def test_500_page_renders():
    from django.test import RequestFactory

    from portal.views import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "系统出现错误" in response.content.decode()


# --- Log in, lockout, log out, password change -------------------------------------------------
def test_login_and_logout(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405  # log-out is a POST
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_shows_a_message(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_lockout_after_five_failures(client, owner):
    for _ in range(5):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    from tests.factories import UserFactory

    UserFactory(username="other")
    response = client.post(reverse("login"), {"username": "other", "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_four_failures_do_not_lock(client, owner):
    for _ in range(4):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_inactive_account_cannot_log_in(client, owner):
    owner.is_active = False
    owner.save()
    response = client.post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_password_change(client, owner):
    login(client, owner)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(reverse("password_change"), {
        "old_password": TEST_PASSWORD, "new_password1": "Another#pass-2027", "new_password2": "Another#pass-2027",
    })
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert "密码已修改" in client.get(response["Location"]).content.decode()
    owner.refresh_from_db()
    assert owner.check_password("Another#pass-2027")


def test_password_change_bad_input(client, owner):
    login(client, owner)
    response = client.post(reverse("password_change"), {
        "old_password": "wrong", "new_password1": "short", "new_password2": "different",
    })
    assert response.status_code == 200
    assert {"old_password", "new_password2"} <= set(response.context["form"].errors)
    owner.refresh_from_db()
    assert owner.check_password(TEST_PASSWORD)


def test_password_change_needs_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", [
    "/", "/portal/notifications/", "/portal/notifications/1/", "/portal/accounts/", "/portal/accounts/new/",
    "/portal/accounts/1/edit/", "/portal/accounts/1/delete/", "/portal/import/", "/portal/import/1/",
    "/portal/import/batches/", "/portal/import/template/people/", "/password/",
])
def test_every_portal_page_sends_anonymous_to_login(client, db, url):
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (url, method)
        assert response["Location"].startswith(reverse("login") + "?next=")
