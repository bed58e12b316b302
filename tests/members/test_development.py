"""Party member development: the pure rules (members/workflow.py), the service that records a stage,
and the due conversions (转正) reminders."""
import datetime

import pytest
from django.core.exceptions import ValidationError

from members import services, workflow
from members.choices import DevelopmentStage as S
from members.models import DevelopmentRecord
from members.selectors import due_conversions
from tests.conftest import make_user
from portal.roles import Role
from tests.factories import PersonFactory

D = datetime.date
TODAY = D(2026, 6, 15)


def check(stage, on, recorded=None, birth=None, today=TODAY):
    return workflow.check_stage(stage, on, recorded or {}, today=today, birth_date=birth)


# --- Rules -------------------------------------------------------------------------------------
def test_a_person_without_history_may_start_at_any_stage():
    for stage in (S.APPLICANT, S.ACTIVIST, S.PROBATIONARY):
        assert check(stage, D(2020, 1, 1)).ok


def test_stages_follow_in_order_and_cannot_be_skipped():
    recorded = {S.APPLICANT: D(2020, 1, 1)}
    assert check(S.ACTIVIST, D(2020, 3, 1), recorded).ok
    result = check(S.CANDIDATE, D(2022, 3, 1), recorded)
    assert not result.ok
    assert str(S.ACTIVIST.label) in result.message
    result = check(S.FULL, D(2023, 3, 1), recorded)
    assert not result.ok


def test_a_stage_cannot_be_recorded_twice():
    result = check(S.APPLICANT, D(2020, 2, 1), {S.APPLICANT: D(2020, 1, 1)})
    assert not result.ok


def test_not_earlier_than_the_previous_stage():
    result = check(S.ACTIVIST, D(2019, 12, 31), {S.APPLICANT: D(2020, 1, 1)})
    assert not result.ok
    assert check(S.ACTIVIST, D(2020, 1, 1), {S.APPLICANT: D(2020, 1, 1)}).ok


def test_one_year_as_activist_before_candidate_with_the_exact_earliest_date():
    recorded = {S.APPLICANT: D(2019, 5, 1), S.ACTIVIST: D(2020, 3, 1)}
    result = check(S.CANDIDATE, D(2021, 2, 28), recorded)
    assert not result.ok
    assert "2021-03-01" in result.message
    assert check(S.CANDIDATE, D(2021, 3, 1), recorded).ok
    assert workflow.earliest_date(S.CANDIDATE, recorded) == D(2021, 3, 1)


def test_one_year_of_probation_before_conversion():
    recorded = {S.ACTIVIST: D(2019, 1, 1), S.CANDIDATE: D(2020, 1, 10), S.PROBATIONARY: D(2024, 2, 29)}
    result = check(S.FULL, D(2025, 2, 27), recorded)
    assert not result.ok
    assert "2025-02-28" in result.message
    assert check(S.FULL, D(2025, 2, 28), recorded).ok
    assert workflow.conversion_due_on(D(2024, 2, 29)) == D(2025, 2, 28)


def test_applicant_must_be_18():
    birth = D(2002, 6, 16)
    assert not check(S.APPLICANT, D(2020, 6, 15), birth=birth).ok
    assert check(S.APPLICANT, D(2020, 6, 16), birth=birth).ok
    # Without a known birth date the rule cannot apply.
    assert check(S.APPLICANT, D(2020, 6, 15)).ok


def test_no_future_dates():
    assert not check(S.APPLICANT, TODAY + datetime.timedelta(days=1)).ok
    assert check(S.APPLICANT, TODAY).ok


def test_full_member_stops():
    recorded = {S.PROBATIONARY: D(2020, 1, 1), S.FULL: D(2021, 1, 1)}
    assert workflow.next_stage(recorded) == ""
    result = check(S.APPLICANT, D(2022, 1, 1), recorded)
    assert not result.ok
    assert not check(S.FULL, D(2022, 1, 1), recorded).ok


def test_next_stage():
    assert workflow.next_stage({}) is None
    assert workflow.next_stage({S.APPLICANT: D(2020, 1, 1)}) == S.ACTIVIST
    assert workflow.next_stage({S.ACTIVIST: D(2020, 1, 1)}) == S.CANDIDATE


# --- Service -----------------------------------------------------------------------------------
def test_service_records_and_political_status_follows(person_a, owner):
    person_a.birth_date = D(1990, 1, 1)
    person_a.save()
    steps = [
        (S.APPLICANT, D(2020, 1, 1), "applicant"),
        (S.ACTIVIST, D(2020, 4, 1), "activist"),
        (S.CANDIDATE, D(2021, 4, 1), "activist"),
        (S.PROBATIONARY, D(2021, 7, 1), "probationary_member"),
        (S.FULL, D(2022, 7, 1), "full_member"),
    ]
    for stage, on, status in steps:
        record = services.development_record_stage(person=person_a, stage=stage, reached_on=on, by=owner)
        assert record.recorded_by == owner
        person_a.refresh_from_db()
        assert person_a.political_status == status
    # The date of joining the party is the start of probation.
    assert person_a.joined_party_on == D(2021, 7, 1)
    assert person_a.development.count() == 5


def test_service_refuses_early_stage_with_message_and_saves_nothing(person_a, owner):
    services.development_record_stage(person=person_a, stage=S.ACTIVIST, reached_on=D(2024, 3, 1), by=owner)
    with pytest.raises(ValidationError) as error:
        services.development_record_stage(person=person_a, stage=S.CANDIDATE, reached_on=D(2024, 9, 1), by=owner)
    assert "2025-03-01" in error.value.message_dict["reached_on"][0]
    assert person_a.development.count() == 1
    person_a.refresh_from_db()
    assert person_a.political_status == "activist"


def test_service_refuses_under_18(tree, owner):
    person = PersonFactory(org_unit=tree.group_a, birth_date=D(2015, 1, 1))
    with pytest.raises(ValidationError):
        services.development_record_stage(person=person, stage=S.APPLICANT, reached_on=D(2024, 1, 1), by=owner)
    assert not DevelopmentRecord.objects.exists()


# --- Due conversions ---------------------------------------------------------------------------
def probationary(person, on):
    DevelopmentRecord.objects.create(person=person, stage=S.PROBATIONARY, reached_on=on)


def test_due_conversions(tree, owner):
    today = D(2026, 6, 15)
    soon = PersonFactory(org_unit=tree.group_a, name="将到期")
    overdue = PersonFactory(org_unit=tree.branch_a, name="已逾期")
    later = PersonFactory(org_unit=tree.branch_a, name="还早")
    edge = PersonFactory(org_unit=tree.branch_a, name="正好30天")
    converted = PersonFactory(org_unit=tree.branch_a, name="已转正")
    probationary(soon, D(2025, 7, 1))  # due 2026-07-01, in 16 days
    probationary(overdue, D(2025, 5, 1))  # due 2026-05-01, overdue
    probationary(later, D(2025, 8, 1))  # due 2026-08-01, in 47 days
    probationary(edge, D(2025, 7, 15))  # due 2026-07-15, exactly 30 days
    probationary(converted, D(2025, 1, 1))
    DevelopmentRecord.objects.create(person=converted, stage=S.FULL, reached_on=D(2026, 1, 2))

    records = due_conversions(owner, today=today)
    names = [r.person.name for r in records]
    assert names == ["已逾期", "将到期", "正好30天"]  # soonest first
    by_name = {r.person.name: r for r in records}
    assert by_name["已逾期"].overdue and by_name["已逾期"].due_on == D(2026, 5, 1)
    assert not by_name["将到期"].overdue and by_name["将到期"].due_on == D(2026, 7, 1)


def test_due_conversions_respect_scope(tree, owner, outsider, member, admin_user):
    today = D(2026, 6, 15)
    in_a = PersonFactory(org_unit=tree.group_a, name="甲")
    in_b = PersonFactory(org_unit=tree.branch_b, name="乙")
    probationary(in_a, D(2025, 6, 1))
    probationary(in_b, D(2025, 6, 1))
    assert [r.person.name for r in due_conversions(owner, today=today)] == ["甲"]
    assert [r.person.name for r in due_conversions(outsider, today=today)] == ["乙"]
    assert due_conversions(member, today=today) == []
    assert {r.person.name for r in due_conversions(admin_user, today=today)} == {"甲", "乙"}
    manager_b = make_user(Role.MANAGER, tree.branch_b, username="manager_b")
    assert [r.person.name for r in due_conversions(manager_b, today=today)] == ["乙"]


def test_due_conversions_is_one_query(tree, owner, count_queries):
    for i in range(5):
        probationary(PersonFactory(org_unit=tree.branch_a), D(2025, 6, 1))
    with count_queries() as ctx:
        records = due_conversions(owner, today=D(2026, 6, 15))
        [r.person.org_unit.name for r in records]
    assert len(records) == 5
    assert len(ctx.captured_queries) == 1


def test_due_conversions_on_a_leap_day(tree, owner):
    leap = PersonFactory(org_unit=tree.branch_a, name="闰日")
    probationary(leap, D(2024, 2, 29))  # due 2025-02-28
    assert [r.person.name for r in due_conversions(owner, today=D(2025, 1, 29))] == ["闰日"]
    assert due_conversions(owner, today=D(2025, 1, 28)) == []


# --- Points ledger -------------------------------------------------------------------------------
def test_points_ledger_and_idempotent_award(person_a, manager):
    from members.models import PointsEntry
    from members.selectors import person_points_total

    services.points_award(person=person_a, points=5, reason="参加主题党日", by=manager, on=D(2026, 1, 5))
    first = services.points_award(person=person_a, points=2, reason="出勤", source="attendance", source_key="attendance:1")
    again = services.points_award(person=person_a, points=2, reason="出勤", source="attendance", source_key="attendance:1")
    services.points_award(person=person_a, points=-3, reason="缺席", by=manager)
    assert first is not None and again is None
    assert PointsEntry.objects.filter(person=person_a).count() == 3
    assert person_points_total(person_a) == 4
