"""The one scope layer: each reach of roles.md applied in the query."""
import pytest

from members.models import OrgUnit, Person
from portal.roles import PERMISSIONS, Role, has_permission, reaches
from portal.scope import get_visible_or_404, scope_q, subtree_q, visible, visible_within
from tests.conftest import make_user


def visible_people(user):
    return set(visible(Person.objects.all(), user, "people.view").values_list("name", flat=True))


def test_secretary_sees_own_branch_and_its_groups_only(owner, person_a, person_b):
    names = visible_people(owner)
    assert person_a.name in names
    assert person_b.name not in names


def test_outsider_does_not_see_other_branch(outsider, person_a, person_b):
    names = visible_people(outsider)
    assert person_b.name in names
    assert person_a.name not in names


def test_employee_sees_only_own_record(member, person_a):
    assert visible_people(member) == {member.person.name}


def test_manager_reads_whole_scope(manager, person_a, person_b):
    assert {person_a.name, person_b.name} <= visible_people(manager)


def test_admin_sees_everything(admin_user, person_a, person_b):
    assert visible(Person.objects.all(), admin_user, "people.view").count() == Person.objects.count()


def test_handler_has_no_people_records(handler, person_a):
    assert not has_permission(handler, "people.view")
    assert visible(Person.objects.all(), handler, "people.view").count() == 0


def test_scope_is_applied_in_sql(owner):
    sql = str(visible(Person.objects.all(), owner, "people.view").query)
    assert "LIKE" in sql and owner.scope_org.path in sql


def test_get_visible_or_404_raises_for_out_of_scope(outsider, person_a):
    from django.http import Http404

    with pytest.raises(Http404):
        get_visible_or_404(Person.objects.all(), outsider, "people.view", pk=person_a.pk)


def test_anonymous_and_inactive_reach_nothing(owner, person_a):
    from django.contrib.auth.models import AnonymousUser

    assert reaches(AnonymousUser(), "people.view") == ()
    owner.is_active = False
    assert visible(Person.objects.all(), owner, "people.view").count() == 0


def test_unknown_permission_is_an_error(owner):
    with pytest.raises(KeyError):
        reaches(owner, "no.such.permission")


def test_every_permission_reaches_admin():
    for permission, table in PERMISSIONS.items():
        assert table[Role.ADMIN], permission


def test_orgunit_subtree_scope(tree, owner):
    codes = set(visible(OrgUnit.objects.all(), owner, "orgunits.view").values_list("code", flat=True))
    assert codes == {"A", "A1"}


def test_secretary_without_scope_unit_sees_nothing(tree, person_a):
    user = make_user(Role.BRANCH_SECRETARY, None, username="noscope")
    assert scope_q(Person, user, "people.view") is not None
    assert visible(Person.objects.all(), user, "people.view").count() == 0


def test_own_records_inside_the_subtree_leave_one_prefix_match(tree, owner, person_a, person_b):
    """A secretary whose own record is in the branch: the owner condition adds nothing, so the
    filter is the subtree's indexed prefix match alone. One whose record is elsewhere (a secretary
    kept on the department's roll) still sees it."""
    inside = visible(Person.objects.all(), owner, "people.view")
    assert f'"members_person"."id" = {owner.person_id}' not in str(inside.query)
    assert set(inside) == {owner.person, person_a}

    elsewhere = make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.department, username="elsewhere")
    assert set(visible(Person.objects.all(), elsewhere, "people.view")) == {elsewhere.person, owner.person, person_a}


def test_visible_within_a_unit_is_the_scope_and_the_subtree(tree, owner, member, outsider, admin_user, person_a, person_b):
    """visible_within is visible() and subtree_q() together, written as one prefix match when the
    user's scope is only the subtree the unit lies in."""
    elsewhere = make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.department, username="elsewhere")
    people = Person.objects.all()
    for user in (owner, member, outsider, admin_user, elsewhere):
        for unit in (tree.root, tree.branch_a, tree.group_a, tree.branch_b, tree.department):
            expected = set(visible(people, user, "people.view").filter(subtree_q(unit, "org_unit")))
            assert set(visible_within(people, user, "people.view", unit, "org_unit")) == expected, (user, unit)
    one_match = visible_within(people, owner, "people.view", tree.group_a, "org_unit")
    assert str(one_match.query).count("LIKE") == 1
