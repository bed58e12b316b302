"""三会一课 windows and the compliance matrix, on the boundaries of kpis.md."""
import datetime

import pytest

from activities import compliance
from activities.choices import CellState
from activities.meeting_summary import held_months
from activities.selectors import compliance_matrix
from tests.factories.activities import ActivityFactory, local


def test_a_month_closing_a_quarter_counts_four_windows_other_months_two():
    march = compliance.windows_ending_in(local(2026, 3, 1), local(2026, 4, 1))
    february = compliance.windows_ending_in(local(2026, 2, 1), local(2026, 3, 1))
    assert sorted(w.type for w in march) == ["branch_committee", "general_assembly", "party_group", "party_lecture"]
    assert sorted(w.type for w in february) == ["branch_committee", "party_group"]
    quarterly = [w for w in march if w.type == "party_lecture"][0]
    assert (quarterly.start, quarterly.end) == (local(2026, 1, 1), local(2026, 4, 1))


def test_a_quarter_has_eight_windows_and_a_year_thirty_two():
    assert len(compliance.windows_ending_in(local(2026, 4, 1), local(2026, 7, 1))) == 8
    assert len(compliance.windows_ending_in(local(2026, 1, 1), local(2027, 1, 1))) == 32


def test_only_windows_ended_by_as_of_count():
    windows = compliance.counting_windows(local(2026, 1, 1), local(2027, 1, 1), as_of=local(2026, 5, 15))
    # January–April: 4 × 2 monthly + Q1's 2 quarterly.
    assert len(windows) == 10


def test_window_state_held_missing_due():
    window = compliance.Window("party_lecture", local(2026, 1, 1), local(2026, 4, 1))
    held = {("party_lecture", 2026, 2): 1}
    assert compliance.window_state(window, held, local(2026, 2, 10)) == CellState.HELD
    assert compliance.window_state(window, {}, local(2026, 3, 31, 23, 59, 59)) == CellState.DUE
    assert compliance.window_state(window, {}, local(2026, 4, 1)) == CellState.MISSING
    assert compliance.cell_state([CellState.HELD, CellState.DUE]) == CellState.DUE
    assert compliance.cell_state([CellState.DUE, CellState.MISSING]) == CellState.MISSING


def _cell(rows, branch, label):
    row = next(r for r in rows if r.branch == branch)
    return {w.type: state for w, state in next(c for c in row.cells if c.label == label).windows}


@pytest.mark.django_db
def test_meeting_at_the_last_second_of_a_quarter_counts_for_that_quarter(tree, manager):
    ActivityFactory(org_unit=tree.branch_a, type="party_lecture", held_at=local(2026, 3, 31, 23, 59, 59))
    ActivityFactory(org_unit=tree.branch_b, type="party_lecture", held_at=local(2026, 4, 1, 0, 0, 0))
    rows = compliance_matrix(manager, year=2026, as_of=local(2026, 7, 1))
    assert _cell(rows, tree.branch_a, "3")["party_lecture"] == CellState.HELD
    assert _cell(rows, tree.branch_a, "6")["party_lecture"] == CellState.MISSING
    # 00:00 on 1 April belongs to the second quarter.
    assert _cell(rows, tree.branch_b, "3")["party_lecture"] == CellState.MISSING
    assert _cell(rows, tree.branch_b, "6")["party_lecture"] == CellState.HELD


@pytest.mark.django_db
def test_party_group_meeting_counts_for_its_branch_and_cancelled_does_not(tree, manager):
    ActivityFactory(org_unit=tree.group_a, type="party_group", held_at=local(2026, 2, 10, 9))
    ActivityFactory(org_unit=tree.branch_b, type="party_group", held_at=local(2026, 2, 10, 9), status="cancelled")
    ActivityFactory(org_unit=tree.branch_b, type="branch_committee", held_at=local(2026, 2, 11, 9), status="planned")
    rows = compliance_matrix(manager, year=2026, as_of=local(2026, 3, 5))
    assert _cell(rows, tree.branch_a, "2")["party_group"] == CellState.HELD
    assert _cell(rows, tree.branch_b, "2") == {"branch_committee": CellState.MISSING, "party_group": CellState.MISSING}
    # March has not ended: its windows are still due.
    assert set(_cell(rows, tree.branch_b, "3").values()) == {CellState.DUE}


@pytest.mark.django_db
def test_matrix_quarter_view_and_rate(tree, manager):
    for month in (1, 2, 3):
        ActivityFactory(org_unit=tree.branch_a, type="branch_committee", held_at=local(2026, month, 5, 9))
        ActivityFactory(org_unit=tree.group_a, type="party_group", held_at=local(2026, month, 6, 9))
    ActivityFactory(org_unit=tree.branch_a, type="general_assembly", held_at=local(2026, 1, 20, 9))
    rows = compliance_matrix(manager, year=2026, by="quarter", as_of=local(2026, 4, 1))
    row = next(r for r in rows if r.branch == tree.branch_a)
    assert [c.label for c in row.cells] == ["Q1", "Q2", "Q3", "Q4"]
    assert len(row.cells[0].windows) == 8
    assert row.cells[0].state == CellState.MISSING  # the party lecture is missing
    assert (row.met, row.required) == (7, 8)


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", ["owner", "manager"])
def test_matrix_page_constant_queries_within_budget(client, request, tree, fixture):
    """The 三会一课 matrix page: as many queries with 3 as with 30 branches (each with meetings held),
    within the page budget."""
    from django.urls import reverse

    from members.importers import rebuild_org_paths
    from tests.conftest import PAGE_QUERY_BUDGET, page_queries
    from tests.factories import OrgUnitFactory

    def grow(n):
        for _ in range(n):
            unit = OrgUnitFactory(kind="branch", parent=tree.branch_a)
            for type_ in ("party_group", "branch_committee"):
                ActivityFactory(org_unit=unit, type=type_, held_at=local(2026, 2, 3))
        rebuild_org_paths()

    client.force_login(request.getfixturevalue(fixture))
    url = reverse("activities:compliance")
    grow(3)
    few = page_queries(client, url, {"year": 2026})
    grow(27)
    many = page_queries(client, url, {"year": 2026})
    response = client.get(url, {"year": 2026})
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)
    assert len(response.context["rows"]) == (31 if fixture == "owner" else 32)


@pytest.mark.django_db
def test_matrix_is_scoped_and_uses_constant_queries(tree, owner, count_queries):
    from tests.factories import OrgUnitFactory

    rows = compliance_matrix(owner, year=2026, as_of=local(2026, 5, 1))
    assert [r.branch for r in rows] == [tree.branch_a]
    with count_queries() as few:
        compliance_matrix(owner, year=2026, as_of=local(2026, 5, 1))
    for n in range(10):
        unit = OrgUnitFactory(code=f"AX{n}", kind="branch", parent=tree.branch_a)
        ActivityFactory(org_unit=unit, type="party_group", held_at=local(2026, 2, 3))
    with count_queries() as many:
        rows = compliance_matrix(owner, year=2026, as_of=local(2026, 5, 1))
    assert len(rows) == 11
    assert len(many.captured_queries) == len(few.captured_queries) == 2  # the branches, then their held meetings


@pytest.mark.django_db
def test_held_months_groups_by_local_month(tree):
    ActivityFactory(org_unit=tree.group_a, type="party_group", held_at=local(2026, 1, 31, 23, 30))
    held = held_months([tree.branch_a.pk, tree.branch_b.pk], local(2026, 1, 1), local(2027, 1, 1))
    assert held[tree.branch_a.pk] == {("party_group", 2026, 1): 1}
    assert tree.branch_b.pk not in held
    assert datetime.date(2026, 1, 31)  # (kept explicit: 23:30 UTC+8 is still January)


@pytest.mark.django_db
def test_meetings_due_this_month_lists_open_windows_in_path_order_up_to_the_limit(tree, manager):
    from activities.selectors import meetings_due_this_month

    # 10 March: branch A held its branch committee; nothing else of March's windows is met.
    ActivityFactory(org_unit=tree.branch_a, type="branch_committee", held_at=local(2026, 3, 5, 9))
    now = local(2026, 3, 10, 12)
    due = meetings_due_this_month(manager, now=now)
    assert [(branch, type_) for branch, type_, _end in due] == [
        (tree.branch_a, "party_group"), (tree.branch_a, "general_assembly"), (tree.branch_a, "party_lecture"),
        (tree.branch_b, "branch_committee"), (tree.branch_b, "party_group"),
        (tree.branch_b, "general_assembly"), (tree.branch_b, "party_lecture"),
    ]
    assert all(end == local(2026, 4, 1) for _b, _t, end in due)
    assert meetings_due_this_month(manager, now=now, limit=4) == due[:4]


@pytest.mark.django_db
def test_matrix_page_links_each_window_to_its_own_days_and_shows_the_rate(client, tree, manager):
    """A window's link lists its meetings from its first to its last day (the list's "to" is
    inclusive: February ends on the 28th, not on 1 March); the rate is in whole per cent."""
    import time_machine
    from django.urls import reverse

    for month in (1, 2, 3):
        ActivityFactory(org_unit=tree.branch_a, type="branch_committee", held_at=local(2026, month, 5, 9))
        ActivityFactory(org_unit=tree.group_a, type="party_group", held_at=local(2026, month, 6, 9))
    ActivityFactory(org_unit=tree.branch_a, type="general_assembly", held_at=local(2026, 1, 20, 9))
    client.force_login(manager)
    with time_machine.travel(local(2026, 4, 1, 10), tick=False):
        html = client.get(reverse("activities:compliance"), {"year": 2026, "by": "quarter"}).content.decode()
        monthly = client.get(reverse("activities:compliance"), {"year": 2026}).content.decode()
    row = html[html.index(f'data-branch="{tree.branch_a.code}"'):]
    row = row[:row.index("</tr>")]
    assert "88%" in row and "7/8" in row  # 7 of 8 windows, as {% widthratio %} rounds
    assert "held_from=2026-01-01&amp;held_to=2026-03-31" in row
    assert "held_from=2026-02-01&amp;held_to=2026-02-28" in monthly


@pytest.mark.django_db
def test_matrix_links_of_each_branch_lead_to_that_branch_with_its_own_state(client, tree, manager):
    """The rows share each window's link but for the branch: every branch's links carry its own id
    and the state of its own window (branch A held February's group meeting, branch B did not)."""
    import re

    import time_machine
    from django.urls import reverse

    ActivityFactory(org_unit=tree.group_a, type="party_group", held_at=local(2026, 2, 6, 9))
    client.force_login(manager)
    with time_machine.travel(local(2026, 4, 1, 10), tick=False):
        html = client.get(reverse("activities:compliance"), {"year": 2026}).content.decode()
    february = {}
    for branch in (tree.branch_a, tree.branch_b):
        row = html[html.index(f'data-branch="{branch.code}"'):]
        row = row[:row.index("</tr>")]
        links = re.findall(r'<a class="cm-w[^>]*>', row)
        assert len(links) == 32  # C and G each month, A and L each quarter
        assert all(f"org_unit={branch.pk}\"" in link for link in links)
        february[branch.code] = [link for link in links if 'data-type="party_group"' in link and "held_from=2026-02-01" in link]
    assert len(february[tree.branch_a.code]) == len(february[tree.branch_b.code]) == 1
    assert 'data-state="held"' in february[tree.branch_a.code][0]
    assert 'data-state="missing"' in february[tree.branch_b.code][0]


@pytest.mark.django_db
def test_matrix_page_shows_every_branch_a_page_at_a_time(client, tree, manager, monkeypatch):
    """A committee's branches beyond one page are on the next pages, none left out; a hostile year
    shows the current one."""
    from django.urls import reverse

    from activities import selectors
    from members.importers import rebuild_org_paths
    from tests.factories import OrgUnitFactory

    monkeypatch.setattr(selectors, "MATRIX_PAGE_SIZE", 2)
    for _ in range(3):
        OrgUnitFactory(kind="branch", parent=tree.branch_a)
    rebuild_org_paths()
    everyone = list(selectors.matrix_branches(manager))
    assert len(everyone) == 5
    client.force_login(manager)
    url = reverse("activities:compliance")
    seen = []
    for number in (1, 2, 3):
        response = client.get(url, {"year": 2026, "page": number})
        seen += [row.branch for row in response.context["rows"]]
    assert seen == everyone
    assert 'data-testid="matrix-pages"' in response.content.decode()
    for hostile in ("-1", "²", "99999", "2026-13", "%00"):
        response = client.get(url, {"year": hostile, "page": hostile})
        assert response.status_code == 200 and response.context["year"] == timezone_year()


def timezone_year():
    from django.utils import timezone

    return timezone.localdate().year
