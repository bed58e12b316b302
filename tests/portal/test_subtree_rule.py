""""Units under X" is written once, in portal/scope.py (subtree_q, in_subtree, subtree_sql): the
forms agree, and no other module of the project types a path prefix."""
import re
from pathlib import Path

import pytest
from django.db import connection

from members.models import OrgUnit, Person
from portal.scope import in_subtree, subtree_q, subtree_sql
from tests.factories import PersonFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "members", "demands", "activities", "evaluation")
# The benchmark and scale tooling and the text clustering compute over arrays, not the tree.
NOT_CHECKED = {"portal/scope.py"}
PATTERNS = (re.compile(r"path__startswith"), re.compile(r"(?<!request)\.path\.startswith\("), re.compile(r"\bLIKE\b[^\n]*path"))


def test_no_path_prefix_outside_the_scope_layer():
    found = []
    for app in APPS:
        for file in (ROOT / app).rglob("*.py"):
            relative = file.relative_to(ROOT).as_posix()
            if relative in NOT_CHECKED or "/migrations/" in relative or "/scale/" in relative:
                continue
            for number, line in enumerate(file.read_text().splitlines(), 1):
                if any(p.search(line) for p in PATTERNS):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []


@pytest.mark.django_db
def test_the_three_forms_agree(tree):
    PersonFactory(org_unit=tree.group_a)
    PersonFactory(org_unit=tree.branch_b)
    units = list(OrgUnit.objects.all())
    for outer in units:
        python = {u.pk for u in units if in_subtree(u, outer)}
        assert set(OrgUnit.objects.filter(subtree_q(outer)).values_list("pk", flat=True)) == python
        assert set(OrgUnit.objects.filter(subtree_q(outer.path)).values_list("pk", flat=True)) == python
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM members_orgunit u WHERE {subtree_sql('u.path', '%s')}", [outer.path])
            assert {row[0] for row in cursor.fetchall()} == python
        people = set(Person.objects.filter(subtree_q(outer, "org_unit")).values_list("org_unit_id", flat=True))
        assert people <= python
    assert in_subtree(tree.group_a, tree.branch_a) and not in_subtree(tree.branch_a, tree.group_a)
