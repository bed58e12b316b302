"""The demand KPIs of kpis.md on every boundary: local midnight, UTC offsets, exactly at the
deadline, withdrawn and rejected demands, zero denominators, as-of inside a period, quarter and
year windows, descendants."""
from decimal import Decimal

import pytest

from tests.factories.evaluation import demand

pytestmark = pytest.mark.django_db

END_OF_MARCH = "2026-04-01 00:00"


def test_intake_counts_by_local_midnight_and_utc_offsets(tree, compute, figure):
    unit = tree.group_a
    demand(unit, received_at="2026-03-01 00:00:00")  # first instant of March (local)
    demand(unit, received_at="2026-02-28 23:59:59")  # February
    demand(unit, received_at="2026-03-31 23:59:59.999999")  # last instant of March
    demand(unit, received_at="2026-04-01 00:00:00")  # April
    demand(unit, received_at="2026-02-28 16:00:00+00:00")  # = 1 March 00:00 in Shanghai
    demand(unit, received_at="2026-03-31 16:00:00+00:00")  # = 1 April 00:00 in Shanghai
    demand(unit, received_at="2026-03-31 15:59:59+00:00")  # = 31 March 23:59:59 in Shanghai
    compute(["2026-02", "2026-03", "2026-04", "2026-Q1"], as_of="2026-05-01 00:00")
    assert figure("demand_intake", "2026-03", unit) == (Decimal(4), 4, None)
    assert figure("demand_intake", "2026-02", unit)[1] == 1
    assert figure("demand_intake", "2026-04", unit)[1] == 2
    assert figure("demand_intake", "2026-Q1", unit)[1] == 5


def test_intake_counts_withdrawn_and_rejected_and_zero_is_zero(tree, compute, figure):
    demand(tree.group_a, status="withdrawn")
    demand(tree.group_a, status="rejected")
    demand(tree.group_a, status="pending")
    compute(["2026-03"], as_of=END_OF_MARCH)
    assert figure("demand_intake", "2026-03", tree.group_a) == (Decimal(3), 3, None)
    # A count with no records is 0, not empty.
    assert figure("demand_intake", "2026-03", tree.branch_b) == (Decimal(0), 0, None)


def test_intake_scope_is_the_unit_and_its_descendants(tree, compute, figure):
    demand(tree.group_a)
    demand(tree.branch_a)
    demand(tree.branch_b)
    compute(["2026-03"], as_of=END_OF_MARCH)
    assert figure("demand_intake", "2026-03", tree.group_a)[1] == 1
    assert figure("demand_intake", "2026-03", tree.branch_a)[1] == 2
    assert figure("demand_intake", "2026-03", tree.branch_b)[1] == 1
    assert figure("demand_intake", "2026-03", tree.root)[1] == 3
    assert figure("demand_intake", "2026-03", tree.department)[1] == 0


def test_intake_as_of_inside_the_period(tree, compute, figure):
    demand(tree.group_a, received_at="2026-03-15 11:59:59")
    demand(tree.group_a, received_at="2026-03-15 12:00:00")  # stamped exactly at as_of: not yet
    result = compute(["2026-03", "2026-Q1", "2026"], as_of="2026-03-15 12:00")
    assert figure("demand_intake", "2026-03", tree.group_a)[1] == 1
    assert figure("demand_intake", "2026-Q1", tree.group_a)[1] == 1
    assert figure("demand_intake", "2026", tree.group_a)[1] == 1
    from evaluation.models import KpiSnapshot

    snap = KpiSnapshot.objects.get(kpi_id="demand_intake", period="2026-03", org_unit=tree.group_a)
    assert snap.as_of.isoformat() == "2026-03-15T04:00:00+00:00"
    assert result.run.periods == ["2026-03", "2026-Q1", "2026"]


def test_response_on_time_exactly_at_the_deadline(tree, compute, figure):
    unit = tree.group_a
    demand(unit, response_due_at="2026-03-10 12:00", first_response_at="2026-03-10 12:00")  # on time
    demand(unit, response_due_at="2026-03-10 12:00", first_response_at="2026-03-10 12:00:01")  # late
    demand(unit, response_due_at="2026-03-10 12:00", first_response_at=None)  # never answered: late
    demand(unit, response_due_at="2026-03-10 12:00", first_response_at="2026-03-09 08:00", status="withdrawn")
    demand(unit, response_due_at="2026-03-10 12:00", first_response_at="2026-03-09 08:00", status="rejected")
    demand(unit, response_due_at="2026-04-01 00:00", first_response_at="2026-03-30 08:00")  # due in April
    compute(["2026-03"], as_of=END_OF_MARCH)
    assert figure("response_on_time_rate", "2026-03", unit) == (Decimal("0.333333"), 1, 3)


def test_response_answered_after_as_of_is_late(tree, compute, figure):
    unit = tree.group_a
    # Due before as_of, answered after the deadline and after as_of.
    demand(unit, response_due_at="2026-03-10 12:00", first_response_at="2026-03-20 09:00")
    demand(unit, response_due_at="2026-03-10 12:00", first_response_at="2026-03-10 11:00")
    # Due after as_of: not in the denominator yet.
    demand(unit, response_due_at="2026-03-16 12:00", first_response_at="2026-03-12 09:00")
    compute(["2026-03"], as_of="2026-03-15 00:00")
    assert figure("response_on_time_rate", "2026-03", unit) == (Decimal("0.5"), 1, 2)


def test_resolution_on_time(tree, compute, figure):
    unit = tree.branch_a
    demand(unit, resolution_due_at="2026-03-31 23:59:59", resolved_at="2026-03-31 23:59:59")  # on time
    demand(unit, resolution_due_at="2026-03-20 00:00", resolved_at="2026-03-20 00:00:01")  # late
    demand(unit, resolution_due_at="2026-03-20 00:00", resolved_at=None)  # never: late
    demand(unit, resolution_due_at="2026-03-20 00:00", resolved_at="2026-03-01 00:00", status="withdrawn")
    demand(unit, resolution_due_at="2026-02-28 23:59:59", resolved_at="2026-02-20 00:00")  # February
    compute(["2026-03", "2026-02", "2026-Q1"], as_of=END_OF_MARCH)
    assert figure("resolution_on_time_rate", "2026-03", unit) == (Decimal("0.333333"), 1, 3)
    assert figure("resolution_on_time_rate", "2026-02", unit) == (Decimal("1"), 1, 1)
    assert figure("resolution_on_time_rate", "2026-Q1", unit) == (Decimal("0.5"), 2, 4)


def test_zero_denominator_is_null_never_zero_or_one(tree, compute, figure):
    compute(["2026-03"], as_of=END_OF_MARCH)
    for code in ("response_on_time_rate", "resolution_on_time_rate", "satisfaction_rate", "satisfaction_mean",
                 "return_visit_rate", "mediation_success_rate", "task_on_time_rate", "must_visit_on_time_rate",
                 "education_coverage_rate"):
        assert figure(code, "2026-03", tree.group_a) == (None, 0, 0), code


def test_satisfaction_rate_and_mean(tree, compute, figure):
    unit = tree.group_a
    demand(unit, return_visit_at="2026-03-05 10:00", rating=5)
    demand(unit, return_visit_at="2026-03-05 10:00", rating=4)
    demand(unit, return_visit_at="2026-03-05 10:00", rating=3)
    demand(unit, return_visit_at="2026-03-05 10:00", rating=1)
    demand(unit, return_visit_at="2026-03-05 10:00", rating=None)  # not rated: not counted
    demand(unit, return_visit_at="2026-03-05 10:00", rating=5, status="rejected")  # only in intake
    demand(unit, return_visit_at="2026-04-01 00:00", rating=5)  # April
    compute(["2026-03"], as_of=END_OF_MARCH)
    assert figure("satisfaction_rate", "2026-03", unit) == (Decimal("0.5"), 2, 4)
    assert figure("satisfaction_mean", "2026-03", unit) == (Decimal("3.25"), 13, 4)


def test_return_visit_rate_counts_visits_before_as_of_only(tree, compute, figure):
    unit = tree.group_a
    demand(unit, resolved_at="2026-03-30 10:00", return_visit_at="2026-03-31 10:00")
    demand(unit, resolved_at="2026-03-30 10:00", return_visit_at="2026-04-02 10:00")  # visited after March
    demand(unit, resolved_at="2026-03-30 10:00", return_visit_at=None)
    demand(unit, resolved_at="2026-03-30 10:00", return_visit_at="2026-03-31 10:00", status="withdrawn")
    compute(["2026-03", "2026-Q1", "2026"], as_of="2026-06-01 00:00")
    assert figure("return_visit_rate", "2026-03", unit) == (Decimal("0.333333"), 1, 3)
    assert figure("return_visit_rate", "2026-Q1", unit) == (Decimal("0.333333"), 1, 3)
    # The year's as_of is 1 June: the April visit has happened by then.
    assert figure("return_visit_rate", "2026", unit) == (Decimal("0.666667"), 2, 3)


def test_quarter_and_year_windows(tree, compute, figure):
    unit = tree.group_a
    for received in ("2026-01-01 00:00", "2026-03-31 23:59", "2026-04-01 00:00", "2026-12-31 23:59:59",
                     "2027-01-01 00:00", "2025-12-31 23:59:59"):
        demand(unit, received_at=received)
    compute(["2026-Q1", "2026-Q2", "2026-Q4", "2026"], as_of="2027-02-01 00:00")
    assert figure("demand_intake", "2026-Q1", unit)[1] == 2
    assert figure("demand_intake", "2026-Q2", unit)[1] == 1
    assert figure("demand_intake", "2026-Q4", unit)[1] == 1
    assert figure("demand_intake", "2026", unit)[1] == 4


def test_future_period_is_empty(tree, compute, figure):
    demand(tree.group_a, received_at="2026-03-10 10:00")
    compute(["2026-04"], as_of="2026-03-20 00:00")
    assert figure("demand_intake", "2026-04", tree.group_a)[1] == 0
    assert figure("response_on_time_rate", "2026-04", tree.group_a) == (None, 0, 0)
