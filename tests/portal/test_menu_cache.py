"""The navigation menu is rendered once per role, language, script prefix and registry version
(portal.registry.menu_html): each role still sees its own menu, in the page's language, and a new
registration shows at once."""
import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from portal import registry
from portal.roles import Role
from tests.conftest import make_user


def uncached(user) -> str:
    return render_to_string("portal/_menu.html", {"menu": registry.menu_for(user)})


def test_each_role_gets_its_own_menu(client, tree, member, owner, manager, admin_user):
    pages = {}
    for user in (member, owner, manager, admin_user, member):  # the employee's again, from the store
        client.force_login(user)
        html = client.get(reverse("home")).content.decode()
        assert uncached(user) in html
        pages.setdefault(user.role, html)
    assert reverse("portal:account_list") in pages[Role.ADMIN]
    assert reverse("portal:account_list") not in pages[Role.EMPLOYEE]
    assert len({registry.menu_html(u) for u in (member, owner, manager, admin_user)}) == 4


def test_the_menu_depends_only_on_the_role(tree):
    """What makes one stored menu per role right: two accounts of a role with other scopes,
    persons and flags get the same menu."""
    a = make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.branch_a)
    b = make_user(Role.BRANCH_SECRETARY, tree.branch_b, may_view_sensitive=True)
    assert uncached(a) == uncached(b) == registry.menu_html(a) == registry.menu_html(b)


def test_the_menu_follows_the_language(tree, admin_user):
    with translation.override("zh-hans"):
        chinese = registry.menu_html(admin_user)
    with translation.override("en"):
        english = registry.menu_html(admin_user)
        assert english == uncached(admin_user)
    assert "系统管理" in chinese and "Administration" not in chinese
    assert "Administration" in english
    with translation.override("zh-hans"):
        assert registry.menu_html(admin_user) == chinese


@pytest.fixture
def extra_item():
    group = registry._MENU["admin"]
    before = list(group.items)
    yield
    group.items[:] = before
    registry._menu_changed()


def test_a_new_item_shows_in_menus_rendered_before(tree, admin_user, extra_item):
    before = registry.menu_html(admin_user)
    registry.menu_item("admin", "Extra entry", "portal:notifications", "portal.accounts")
    after = registry.menu_html(admin_user)
    assert "Extra entry" not in before and "Extra entry" in after
