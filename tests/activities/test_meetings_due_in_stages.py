"""The home's "meetings still due this month" judges the first branches in path order first and the
others only when those do not fill the list: the same windows, in the same order, either way."""
import pytest

from activities import selectors
from tests.factories.activities import ActivityFactory, local

pytestmark = pytest.mark.django_db


def test_when_the_first_branches_have_met_everything_the_others_are_judged(tree, manager, monkeypatch):
    monkeypatch.setattr(selectors, "FIRST_BRANCHES_JUDGED", 1)
    # 10 March (a quarter's last month): branch A has met all four of March's windows.
    for type_ in ("branch_committee", "party_group", "general_assembly", "party_lecture"):
        ActivityFactory(org_unit=tree.branch_a, type=type_, held_at=local(2026, 3, 5, 9))
    now = local(2026, 3, 10, 12)
    everything = selectors.meetings_due_this_month(manager, now=now)
    assert [(branch, type_) for branch, type_, _end in everything] == [
        (tree.branch_b, "branch_committee"), (tree.branch_b, "party_group"),
        (tree.branch_b, "general_assembly"), (tree.branch_b, "party_lecture"),
    ]
    assert selectors.meetings_due_this_month(manager, now=now, limit=3) == everything[:3]
    assert selectors.meetings_due_this_month(manager, now=now, limit=8) == everything


def test_a_limit_filled_by_the_first_branches_gives_their_windows(tree, manager, monkeypatch):
    monkeypatch.setattr(selectors, "FIRST_BRANCHES_JUDGED", 1)
    now = local(2026, 3, 10, 12)
    everything = selectors.meetings_due_this_month(manager, now=now)
    assert [branch for branch, _type, _end in everything[:4]] == [tree.branch_a] * 4
    assert selectors.meetings_due_this_month(manager, now=now, limit=2) == everything[:2]
