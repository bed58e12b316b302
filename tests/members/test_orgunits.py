"""The org tree: materialised path kept on create and move, rebuild, one-query subtrees, and the
form's cycle and one-root rules."""
import pytest
from django.db import connection

from members.forms import OrgUnitForm
from members.importers import rebuild_org_paths
from members.models import OrgUnit
from members.selectors import orgunit_subtree, people_in_subtree
from tests.factories import OrgUnitFactory, PersonFactory


def seg(unit):
    return f"{unit.pk:07d}/"


def fresh(unit):
    unit.refresh_from_db()
    return unit


def test_path_and_depth_on_create(tree):
    assert tree.root.path == seg(tree.root) and tree.root.depth == 0
    assert tree.branch_a.path == seg(tree.root) + seg(tree.branch_a) and tree.branch_a.depth == 1
    assert tree.group_a.path == tree.branch_a.path + seg(tree.group_a) and tree.group_a.depth == 2
    unit = OrgUnit.objects.create(code="A11", name="新小组", kind="group", parent=tree.group_a)
    assert unit.path == tree.group_a.path + seg(unit)
    assert fresh(unit).path == unit.path and unit.depth == 3


def test_moving_a_unit_moves_its_subtree(tree):
    deep = OrgUnitFactory(code="A1X", kind="group", parent=tree.group_a)
    branch_a = fresh(tree.branch_a)
    branch_a.parent = tree.branch_b
    branch_a.save()
    branch_b = fresh(tree.branch_b)
    assert fresh(tree.branch_a).path == branch_b.path + seg(branch_a)
    assert fresh(tree.branch_a).depth == 2
    group_a = fresh(tree.group_a)
    assert group_a.path == branch_b.path + seg(branch_a) + seg(group_a) and group_a.depth == 3
    deep = fresh(deep)
    assert deep.path == group_a.path + seg(deep) and deep.depth == 4
    # Siblings are untouched.
    assert fresh(tree.department).path == tree.root.path + seg(tree.department)


def test_moving_up_shortens_paths(tree):
    group_a = fresh(tree.group_a)
    group_a.parent = tree.root
    group_a.save()
    assert fresh(tree.group_a).path == tree.root.path + seg(tree.group_a)
    assert fresh(tree.group_a).depth == 1


def test_saving_without_a_move_keeps_paths(tree):
    before = dict(OrgUnit.objects.values_list("code", "path"))
    unit = fresh(tree.branch_a)
    unit.name = "改名支部"
    unit.save()
    assert dict(OrgUnit.objects.values_list("code", "path")) == before


def test_rebuild_org_paths_repairs_everything(tree):
    expected = dict(OrgUnit.objects.values_list("code", "path"))
    expected_depth = dict(OrgUnit.objects.values_list("code", "depth"))
    OrgUnit.objects.update(path="", depth=0)
    rebuild_org_paths()
    assert dict(OrgUnit.objects.values_list("code", "path")) == expected
    assert dict(OrgUnit.objects.values_list("code", "depth")) == expected_depth


def test_rebuild_after_bulk_parent_change(tree):
    OrgUnit.objects.filter(pk=tree.group_a.pk).update(parent=tree.branch_b)
    rebuild_org_paths()
    assert fresh(tree.group_a).path == tree.branch_b.path + seg(tree.group_a)


def test_subtree_is_one_indexed_query(tree, count_queries):
    PersonFactory(org_unit=tree.group_a)
    PersonFactory(org_unit=tree.branch_b)
    with count_queries() as ctx:
        codes = set(orgunit_subtree(tree.branch_a).values_list("code", flat=True))
        people = list(people_in_subtree(tree.branch_a))
    assert codes == {"A", "A1"}
    assert len(people) == 1
    assert len(ctx.captured_queries) == 2
    assert "LIKE" in ctx.captured_queries[0]["sql"]
    assert "RECURSIVE" not in ctx.captured_queries[0]["sql"].upper()


@pytest.mark.django_db
def test_subtree_at_5000_units_uses_the_path_index():
    root = OrgUnit.objects.create(code="R", name="党委", kind="committee")
    units = [OrgUnit(code=f"B{i}", name=f"支部{i}", kind="branch", parent=root) for i in range(50)]
    OrgUnit.objects.bulk_create(units)
    groups = [OrgUnit(code=f"G{i}-{j}", name="小组", kind="group", parent=units[i]) for i in range(50) for j in range(99)]
    OrgUnit.objects.bulk_create(groups, batch_size=2000)
    rebuild_org_paths()
    assert OrgUnit.objects.count() == 5001
    branch = OrgUnit.objects.get(code="B7")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_orgunit")
        cursor.execute("SET enable_seqscan = off")
        sql, params = orgunit_subtree(branch).values("id").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "orgunit_path_prefix" in plan
    assert orgunit_subtree(branch).count() == 100


# --- The form ----------------------------------------------------------------------------------
def form(admin_user, data, instance=None):
    return OrgUnitForm(data=data, instance=instance, user=admin_user)


def test_form_refuses_a_cycle(tree, admin_user):
    branch_a = fresh(tree.branch_a)
    f = form(admin_user, {"code": "A", "name": branch_a.name, "kind": "branch", "parent": tree.group_a.pk, "sort_order": 0},
             instance=branch_a)
    assert not f.is_valid()
    assert "parent" in f.errors
    f = form(admin_user, {"code": "A", "name": branch_a.name, "kind": "branch", "parent": branch_a.pk, "sort_order": 0},
             instance=branch_a)
    assert not f.is_valid() and "parent" in f.errors
    # Only the cycle message is shown, not also the one-root message.
    assert len(f.errors["parent"]) == 1


def test_form_allows_a_move_elsewhere(tree, admin_user):
    f = form(admin_user, {"code": "A1", "name": "第一党小组", "kind": "group", "parent": tree.branch_b.pk, "sort_order": 0},
             instance=fresh(tree.group_a))
    assert f.is_valid(), f.errors


def test_only_one_root(tree, admin_user):
    f = form(admin_user, {"code": "ROOT2", "name": "另一个党委", "kind": "committee", "parent": "", "sort_order": 0})
    assert not f.is_valid()
    assert "parent" in f.errors
    # The existing root may be saved without a parent.
    f = form(admin_user, {"code": "ROOT", "name": "测试党委", "kind": "committee", "parent": "", "sort_order": 0},
             instance=fresh(tree.root))
    assert f.is_valid(), f.errors


@pytest.mark.django_db
def test_first_unit_may_be_the_root(admin_user=None):
    from portal.roles import Role
    from tests.factories import UserFactory

    admin = UserFactory(role=Role.ADMIN)
    f = OrgUnitForm(data={"code": "R", "name": "党委", "kind": "committee", "parent": "", "sort_order": 0}, user=admin)
    assert f.is_valid(), f.errors


def test_duplicate_code_and_bad_kind(tree, admin_user):
    f = form(admin_user, {"code": "A", "name": "x", "kind": "nonsense", "parent": tree.root.pk, "sort_order": 0})
    assert not f.is_valid()
    assert {"code", "kind"} <= set(f.errors)


# --- The tree page ------------------------------------------------------------------------------------
def test_org_tree_page_nests_units_with_counts(client, tree, staff):
    from members.selectors import org_tree
    from tests.conftest import client_for

    PersonFactory(org_unit=tree.group_a, political_status="full_member")
    PersonFactory(org_unit=tree.group_a, political_status="probationary_member")
    PersonFactory(org_unit=tree.branch_a, political_status="masses")
    PersonFactory(org_unit=tree.branch_b, political_status="full_member")
    PersonFactory(org_unit=tree.branch_b, political_status="full_member", is_active=False)  # left: not counted
    client_for(client, staff)
    roots = org_tree(staff)
    assert [n["unit"].code for n in roots] == ["ROOT"]
    root = roots[0]
    assert (root["people"], root["members"], root["branches"]) == (5, 3, 2)  # + the staff account's person
    branch_a = next(n for n in root["children"] if n["unit"].code == "A")
    assert (branch_a["people"], branch_a["members"], branch_a["branches"]) == (3, 2, 1)
    assert [n["unit"].code for n in branch_a["children"]] == ["A1"]
    page = client.get("/members/units/tree/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # Nested lists with <details> to expand and collapse; the menu leads here.
    assert page.count("<details") == 2 and 'data-testid="counts-A1"' in page
    assert page.index(tree.branch_a.name) < page.index(tree.group_a.name)
    assert 'href="/members/units/tree/"' in client.get("/").content.decode()


def test_org_tree_shows_only_the_scope(client, tree, owner):
    from members.selectors import org_tree

    assert [n["unit"].code for n in org_tree(owner)] == ["A"]
