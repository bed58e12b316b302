"""The maintained people counts (members.UnitPeopleCount, kept by triggers on members_person) equal a
live count after every kind of write: create, update, bulk update, move of a person and of a unit,
delete, a status change through the development service, and the people import (COPY)."""
import datetime

from django.db import connection
from django.db.models import Count

from members.choices import PARTY_MEMBER_STATUSES
from members.importers import rebuild_org_paths
from members.models import Person, UnitPeopleCount
from members.selectors import scope_people_counts
from members.services import development_record_stage
from portal.dataexchange import run_import
from portal.roles import Role
from tests.conftest import make_user
from tests.factories import PersonFactory


def live_counts() -> dict[tuple[int, str], int]:
    rows = Person.objects.filter(is_active=True).values("org_unit_id", "political_status").annotate(n=Count("pk"))
    return {(r["org_unit_id"], r["political_status"]): r["n"] for r in rows}


def kept_counts() -> dict[tuple[int, str], int]:
    return {(r.org_unit_id, r.political_status): r.n for r in UnitPeopleCount.objects.exclude(n=0)}


def live_scope_counts(user) -> dict[str, int]:
    people = Person.objects.filter(is_active=True, org_unit__path__startswith=user.scope_org.path)
    return {"total": people.count(), "members": people.filter(political_status__in=PARTY_MEMBER_STATUSES).count()}


def assert_matches(*users):
    assert kept_counts() == live_counts()
    for user in users:
        user.scope_org.refresh_from_db()
        assert scope_people_counts(user) == live_scope_counts(user)


def test_counts_follow_every_write(tree, admin_user):
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a)
    people = [PersonFactory(org_unit=tree.group_a, political_status="full_member") for _ in range(3)]
    PersonFactory(org_unit=tree.branch_b, political_status="masses")
    PersonFactory(org_unit=tree.branch_b, is_active=False)
    assert_matches(secretary)
    assert scope_people_counts(secretary) == {"total": 3, "members": 3}

    people[0].political_status = "masses"
    people[0].save()
    assert_matches(secretary)

    people[1].org_unit = tree.branch_b  # a person moves out of the secretary's scope
    people[1].save()
    assert_matches(secretary)
    assert scope_people_counts(secretary) == {"total": 2, "members": 1}

    Person.objects.filter(org_unit=tree.branch_b).update(is_active=False)
    Person.objects.filter(pk=people[2].pk).update(org_unit=tree.department)
    assert_matches(secretary)

    people[0].delete()
    assert_matches(secretary)
    assert scope_people_counts(secretary) == {"total": 0, "members": 0}


def test_a_moved_unit_brings_its_people_into_the_new_scope(tree):
    secretary = make_user(Role.BRANCH_SECRETARY, tree.branch_a)
    PersonFactory(org_unit=tree.branch_b, political_status="probationary_member")
    assert scope_people_counts(secretary) == {"total": 0, "members": 0}
    tree.branch_b.parent = tree.branch_a
    tree.branch_b.save()
    rebuild_org_paths()
    assert_matches(secretary)
    assert scope_people_counts(secretary) == {"total": 1, "members": 1}


def test_status_change_through_the_development_service(tree, staff):
    person = PersonFactory(org_unit=tree.group_a, political_status="masses", birth_date=datetime.date(1990, 1, 1))
    development_record_stage(person=person, stage="applicant", reached_on=datetime.date(2026, 1, 5), by=staff)
    assert_matches(staff)


def test_the_import_keeps_the_counts(tree):
    manager = make_user(Role.MANAGER, tree.root)
    existing = PersonFactory(org_unit=tree.branch_b, employee_no="E0001", political_status="masses")
    data = (
        "工号,姓名,所属组织,政治面貌\n"
        "E0001,张三,A,党员\n"  # an update: moves to branch A and becomes a party member
        "E0002,李四,A1,预备党员\n"
        "E0003,王五,B,群众\n"
    ).encode()
    result = run_import("people", data, "people.csv")
    assert not result.errors, result.errors
    existing.refresh_from_db()
    assert existing.org_unit_id == tree.branch_a.pk
    assert_matches(manager)
    assert scope_people_counts(manager) == {"total": 3, "members": 2}


def test_truncate_empties_the_counts(tree):
    PersonFactory(org_unit=tree.branch_a)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred key checks of the rows just made
        cursor.execute("TRUNCATE members_person CASCADE")
    assert kept_counts() == {} == live_counts()
