"""Shared fixtures. The org tree and the three classic users of every view test:

    root (committee)
    ├── branch_a (branch) ── group_a (party group)   ← owner (secretary of A) and member (employee in A)
    └── branch_b (branch)                             ← outsider (secretary of B)
"""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.importers import rebuild_org_paths
from portal.roles import Role
from tests.factories import OrgUnitFactory, PersonFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tree(db):
    root = OrgUnitFactory(code="ROOT", name="测试党委", kind="committee")
    branch_a = OrgUnitFactory(code="A", name="第一党支部", kind="branch", parent=root)
    group_a = OrgUnitFactory(code="A1", name="第一党小组", kind="group", parent=branch_a)
    branch_b = OrgUnitFactory(code="B", name="第二党支部", kind="branch", parent=root)
    department = OrgUnitFactory(code="D", name="后勤部", kind="department", parent=root)
    rebuild_org_paths()
    for unit in (root, branch_a, group_a, branch_b, department):
        unit.refresh_from_db()
    return type("Tree", (), dict(root=root, branch_a=branch_a, group_a=group_a, branch_b=branch_b, department=department))


def make_user(role: str, scope, *, person_unit=None, may_view_sensitive=False, username=None):
    person = PersonFactory(org_unit=person_unit or scope) if person_unit or role == Role.EMPLOYEE else None
    kwargs = dict(role=role, scope_org=scope, person=person, may_view_sensitive=may_view_sensitive)
    if username:
        kwargs["username"] = username
    return UserFactory(**kwargs)


@pytest.fixture
def owner(tree):
    """Secretary of branch A: the records of branch A are theirs to manage."""
    return make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.branch_a, username="owner")


@pytest.fixture
def member(tree):
    """An employee of branch A (party group A1): sees only their own records."""
    return make_user(Role.EMPLOYEE, tree.group_a, username="member")


@pytest.fixture
def outsider(tree):
    """Secretary of branch B: branch A's records do not exist for them."""
    return make_user(Role.BRANCH_SECRETARY, tree.branch_b, person_unit=tree.branch_b, username="outsider")


@pytest.fixture
def staff(tree):
    return make_user(Role.STAFF, tree.root, person_unit=tree.department, username="staff")


@pytest.fixture
def manager(tree):
    return make_user(Role.MANAGER, tree.root, username="manager")


@pytest.fixture
def admin_user(tree):
    return make_user(Role.ADMIN, tree.root, username="admin")


@pytest.fixture
def handler(tree):
    return make_user(Role.HANDLER, tree.department, person_unit=tree.department, username="handler")


@pytest.fixture
def person_a(tree):
    """A person in branch A's party group."""
    return PersonFactory(org_unit=tree.group_a, name="张三")


@pytest.fixture
def person_b(tree):
    return PersonFactory(org_unit=tree.branch_b, name="李四")


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def count_queries():
    """Use: `with count_queries() as ctx: ...; len(ctx.captured_queries)`."""

    def make():
        return CaptureQueriesContext(connection)

    return make
