"""Mediation, 三会一课 windows, education coverage, responsibility items and must-visit (五必访) on
the boundaries of kpis.md."""
from decimal import Decimal

import pytest

from evaluation.models import KpiSnapshot
from tests.factories import OrgUnitFactory
from tests.factories.evaluation import activity, attend, item, life_event, mediation, member, visit

pytestmark = pytest.mark.django_db


def test_mediation_success_rate(tree, compute, figure):
    unit = tree.branch_a
    mediation(unit, concluded_at="2026-03-01 00:00", outcome="success")
    mediation(unit, concluded_at="2026-03-31 23:59:59", outcome="failed")
    mediation(unit, concluded_at="2026-03-15 10:00", outcome="referred")
    mediation(unit)  # still open: no outcome
    mediation(unit, concluded_at="2026-04-01 00:00", outcome="success")  # April
    compute(["2026-03", "2026-04"], as_of="2026-05-01 00:00")
    assert figure("mediation_success_rate", "2026-03", unit) == (Decimal("0.333333"), 1, 3)
    assert figure("mediation_success_rate", "2026-04", unit) == (Decimal("1"), 1, 1)
    assert figure("mediation_success_rate", "2026-03", tree.root) == (Decimal("0.333333"), 1, 3)


# --- 三会一课 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("period, windows", [("2026-02", 2), ("2026-03", 4), ("2026-Q1", 8), ("2026", 32)])
def test_meeting_windows_per_branch(tree, compute, figure, period, windows):
    compute([period], as_of="2027-06-01 00:00")
    # The tree has two branches (A and B); the root counts both, a branch its own.
    assert figure("meeting_compliance_rate", period, tree.branch_a) == (Decimal("0"), 0, windows)
    assert figure("meeting_compliance_rate", period, tree.root) == (Decimal("0"), 0, 2 * windows)
    # No branch in scope: nothing is required.
    assert figure("meeting_compliance_rate", period, tree.department) == (None, 0, 0)
    assert figure("meeting_compliance_rate", period, tree.group_a) == (None, 0, 0)


def test_meeting_windows_met_by_held_meetings_at_the_branch_or_below(tree, compute, figure):
    a = tree.branch_a
    activity(a, "branch_committee", "2026-03-01 00:00")  # first instant of March
    activity(tree.group_a, "party_group", "2026-03-31 23:59:59")  # a party group of the branch holds it
    activity(a, "general_assembly", "2026-01-15 10:00")  # quarterly window Q1 (ends 1 April)
    activity(a, "party_lecture", "2026-04-01 00:00")  # Q2, not Q1
    activity(a, "party_lecture", "2026-02-10 10:00", status="planned")  # not held
    activity(a, "party_lecture", "2026-02-11 10:00", status="cancelled")
    activity(a, "study_session", "2026-02-12 10:00")  # not a 三会一课 type
    activity(tree.root, "party_lecture", "2026-02-12 10:00")  # above the branch: does not count for it
    compute(["2026-03", "2026-02", "2026-Q1"], as_of="2026-06-01 00:00")
    assert figure("meeting_compliance_rate", "2026-03", a) == (Decimal("0.75"), 3, 4)
    assert figure("meeting_compliance_rate", "2026-02", a) == (Decimal("0"), 0, 2)
    assert figure("meeting_compliance_rate", "2026-Q1", a) == (Decimal("0.375"), 3, 8)
    assert figure("meeting_compliance_rate", "2026-03", tree.root) == (Decimal("0.375"), 3, 8)
    assert figure("meeting_compliance_rate", "2026-03", tree.branch_b) == (Decimal("0"), 0, 4)


def test_meeting_windows_not_ended_by_as_of_do_not_count(tree, compute, figure):
    activity(tree.branch_a, "branch_committee", "2026-03-05 10:00")
    # As of 20 March: no March window has ended, February's have not ended inside March.
    compute(["2026-03", "2026-Q1"], as_of="2026-03-20 00:00")
    assert figure("meeting_compliance_rate", "2026-03", tree.branch_a) == (None, 0, 0)
    # Q1 as of 20 March: January's and February's monthly windows have ended (4 per branch).
    assert figure("meeting_compliance_rate", "2026-Q1", tree.branch_a) == (Decimal("0"), 0, 4)
    # Exactly at the end of March the March windows count.
    compute(["2026-03"], as_of="2026-04-01 00:00")
    assert figure("meeting_compliance_rate", "2026-03", tree.branch_a) == (Decimal("0.25"), 1, 4)


def test_branch_below_a_branch_counts_its_own_windows(tree, compute, figure):
    from members.importers import rebuild_org_paths

    inner = OrgUnitFactory(code="A-X", kind="branch", parent=tree.branch_a)
    rebuild_org_paths()
    inner.refresh_from_db()
    activity(inner, "branch_committee", "2026-02-10 10:00")
    compute(["2026-02"], as_of="2026-06-01 00:00")
    # The meeting below branch A meets the window of the inner branch and of branch A.
    assert figure("meeting_compliance_rate", "2026-02", inner) == (Decimal("0.5"), 1, 2)
    assert figure("meeting_compliance_rate", "2026-02", tree.branch_a) == (Decimal("0.5"), 2, 4)


# --- Education coverage --------------------------------------------------------------------------------
def test_education_coverage(tree, compute, figure):
    unit = tree.group_a
    full, probationary, attended_late, on_leave, other_type, last_year = (
        member(unit), member(unit, "probationary_member"), member(unit), member(unit), member(unit), member(unit))
    masses = member(unit, "masses")  # not a party member: not in the denominator
    lecture = activity(tree.branch_a, "party_lecture", "2026-01-01 00:00")
    attend(lecture, full)
    attend(activity(tree.root, "theme_party_day", "2026-03-31 23:59:59"), probationary)
    attend(activity(unit, "study_session", "2026-04-01 00:00"), attended_late)  # after March
    attend(lecture, on_leave, status="leave")
    attend(activity(unit, "volunteer_service", "2026-02-01 10:00"), other_type)
    attend(activity(unit, "party_lecture", "2025-12-31 23:59:59"), last_year)
    attend(activity(unit, "party_lecture", "2026-02-01 10:00", status="planned"), other_type)
    attend(lecture, masses)
    compute(["2026-03", "2026-Q1", "2026-04", "2026"], as_of="2026-12-01 00:00")
    assert figure("education_coverage_rate", "2026-03", unit) == (Decimal("0.333333"), 2, 6)
    assert figure("education_coverage_rate", "2026-Q1", unit) == (Decimal("0.333333"), 2, 6)
    # From 1 January to as_of: April includes the April study session.
    assert figure("education_coverage_rate", "2026-04", unit) == (Decimal("0.5"), 3, 6)
    assert figure("education_coverage_rate", "2026", unit) == (Decimal("0.5"), 3, 6)
    assert figure("education_coverage_rate", "2026", tree.root)[1:] == (3, 6)
    assert figure("education_coverage_rate", "2026", tree.branch_b) == (None, 0, 0)


def test_education_coverage_as_of_in_the_middle(tree, compute, figure):
    person = member(tree.group_a)
    attend(activity(tree.branch_a, "party_lecture", "2026-03-15 12:00"), person)
    compute(["2026-03"], as_of="2026-03-15 12:00")
    assert figure("education_coverage_rate", "2026-03", tree.group_a) == (Decimal("0"), 0, 1)
    compute(["2026-03"], as_of="2026-03-15 12:00:01")
    assert figure("education_coverage_rate", "2026-03", tree.group_a) == (Decimal("1"), 1, 1)


# --- Responsibility items -----------------------------------------------------------------------------
def test_task_on_time_date_deadline_due_the_day_after(tree, compute, figure):
    unit = tree.branch_a
    item(unit, "2026-03-31", "2026-03-31 23:59:59")  # on time
    item(unit, "2026-03-31", "2026-04-01 00:00")  # due at 00:00 on 1 April: late
    item(unit, "2026-03-01", None)  # never completed: late
    item(unit, "2026-02-28", "2026-02-01 10:00")  # February
    item(unit, None)  # no deadline: never due
    compute(["2026-03", "2026-Q1"], as_of="2026-04-01 00:00")
    assert figure("task_on_time_rate", "2026-03", unit) == (Decimal("0.333333"), 1, 3)
    assert figure("task_on_time_rate", "2026-Q1", unit) == (Decimal("0.5"), 2, 4)


def test_task_not_yet_due_at_as_of(tree, compute, figure):
    item(tree.branch_a, "2026-03-31", "2026-03-20 10:00")
    item(tree.branch_a, "2026-03-30", None)
    # 31 March 23:00: the item of 31 March is due at 00:00 on 1 April, not yet.
    compute(["2026-03"], as_of="2026-03-31 23:00")
    assert figure("task_on_time_rate", "2026-03", tree.branch_a) == (Decimal("0"), 0, 1)


# --- Must-visit (五必访) -----------------------------------------------------------------------------------
def test_must_visit_on_time(tree, compute, figure, person_a):
    on_time = life_event(person_a, "2026-03-20")  # deadline 27 March, due 28 March 00:00
    visit(person_a, "2026-03-27", life_event=on_time)
    late = life_event(person_a, "2026-03-20")
    visit(person_a, "2026-03-28", life_event=late)
    life_event(person_a, "2026-03-10")  # never visited
    unlinked = life_event(person_a, "2026-03-11")
    visit(person_a, "2026-03-12")  # a visit not linked to the event does not count
    assert unlinked
    spans_april = life_event(person_a, "2026-03-25")  # due 2 April: not in March nor Q1
    visit(person_a, "2026-03-26", life_event=spans_april)
    compute(["2026-03", "2026-Q1", "2026"], as_of="2026-12-01 00:00")
    assert figure("must_visit_on_time_rate", "2026-03", tree.group_a) == (Decimal("0.25"), 1, 4)
    assert figure("must_visit_on_time_rate", "2026-Q1", tree.group_a) == (Decimal("0.25"), 1, 4)
    assert figure("must_visit_on_time_rate", "2026", tree.group_a) == (Decimal("0.4"), 2, 5)
    # Scope: the person's unit and its ancestors.
    assert figure("must_visit_on_time_rate", "2026", tree.branch_a)[1:] == (2, 5)
    assert figure("must_visit_on_time_rate", "2026", tree.branch_b) == (None, 0, 0)


def test_must_visit_due_exactly_at_as_of(tree, compute, figure, person_a):
    life_event(person_a, "2026-03-20")  # due 28 March 00:00
    compute(["2026-03"], as_of="2026-03-27 23:59:59")
    assert figure("must_visit_on_time_rate", "2026-03", tree.group_a) == (None, 0, 0)
    compute(["2026-03"], as_of="2026-03-28 00:00")
    assert figure("must_visit_on_time_rate", "2026-03", tree.group_a) == (Decimal("0"), 0, 1)


def test_every_unit_gets_every_kpi(tree, compute):
    compute(["2026-03"], as_of="2026-04-01 00:00")
    from evaluation.kpis import all_kpis
    from members.models import OrgUnit

    assert KpiSnapshot.objects.filter(period="2026-03").count() == OrgUnit.objects.count() * len(all_kpis())
