"""Services of the hardship register: registration, steps with separation of duties, reviews,
plan measures and assistance."""
import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from members.hardship import services
from members.hardship.models import HardshipHousehold
from tests.factories.demands import PNG_BYTES

TODAY = datetime.date(2026, 12, 6)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 12, 6, 10, 0), tick=False):
        yield


def register(by, person, liaison=None, **extra):
    data = dict(reason="illness", level="severe", registered_on=datetime.date(2026, 3, 1), family_size=4,
                family_situation="配偶长期患病")
    data.update(extra)
    return services.household_register(by=by, person=person, liaison=liaison or by, **data)


def errors(excinfo) -> dict:
    return excinfo.value.message_dict if hasattr(excinfo.value, "error_dict") else {"": excinfo.value.messages}


def test_register_sets_the_reference_the_first_review_and_a_step(owner, person_a):
    household = register(owner, person_a)
    assert household.ref == f"KN2026-{household.pk:06d}"
    assert household.status == "registered" and household.registered_by == owner
    assert household.next_review_on == datetime.date(2026, 6, 1)
    assert [s.action for s in household.steps.all()] == ["register"]


def test_one_household_on_the_register_per_person(owner, person_a):
    first = register(owner, person_a)
    with pytest.raises(ValidationError) as excinfo:
        register(owner, person_a)
    assert "person" in errors(excinfo)
    # Also when the two registrations race: the database constraint holds.
    with pytest.raises(IntegrityError), transaction.atomic():
        HardshipHousehold.objects.create(ref="X", person=person_a, reason="other", level="ordinary",
                                         registered_on=TODAY, liaison=owner)
    # Once out of hardship, the same record is re-registered, not a second one made.
    services.household_step(household=first, action="relieve", by=_second(owner), on=TODAY, reason="再就业")
    with pytest.raises(ValidationError, match=first.ref):
        register(owner, person_a)


def _second(owner):
    from tests.conftest import make_user

    return make_user("staff", owner.scope_org, person_unit=owner.scope_org)


def test_outside_the_scope_nobody_registers_and_the_liaison_must_reach_the_person(owner, outsider, person_a, person_b, member):
    with pytest.raises(ValidationError):
        register(owner, person_b)
    with pytest.raises(ValidationError):
        register(member, person_a, liaison=owner)
    with pytest.raises(ValidationError) as excinfo:
        register(owner, person_a, liaison=outsider)
    assert "liaison" in errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        register(owner, person_a, registered_on=TODAY + datetime.timedelta(days=1))
    assert "registered_on" in errors(excinfo)


def test_whoever_registered_cannot_confirm_out_of_hardship(owner, staff, person_a):
    household = register(owner, person_a)
    with pytest.raises(ValidationError, match="不能同时确认其脱困"):
        services.household_step(household=household, action="relieve", by=owner, on=TODAY, reason="收入稳定")
    with pytest.raises(ValidationError):
        services.household_step(household=household, action="relieve", by=staff, on=TODAY, reason="")
    household = services.household_step(household=household, action="relieve", by=staff, on=TODAY, reason="收入稳定")
    assert (household.status, household.left_on, household.status_reason) == ("relieved", TODAY, "收入稳定")
    assert household.next_review_on is None
    assert [s.action for s in household.steps.all()] == ["register", "relieve"]


def test_back_into_hardship_re_registers_the_same_household(owner, staff, person_a):
    household = register(owner, person_a)
    services.household_step(household=household, action="relieve", by=staff, on=datetime.date(2026, 9, 1), reason="再就业")
    household = services.household_step(household=household, action="reregister", by=staff, on=TODAY, reason="再次失业")
    assert household.status == "registered" and household.left_on is None
    assert household.registered_on == TODAY and household.registered_by == staff
    assert household.next_review_on == datetime.date(2027, 3, 6)
    # Now the re-registrar is the one who may not confirm; the first registrar may.
    with pytest.raises(ValidationError):
        services.household_step(household=household, action="relieve", by=staff, on=TODAY, reason="x")
    services.household_step(household=household, action="relieve", by=owner, on=TODAY, reason="家庭收入恢复")


def test_removal_and_steps_not_in_the_table(owner, staff, person_a):
    household = register(owner, person_a)
    with pytest.raises(ValidationError, match="状态时不能"):
        services.household_step(household=household, action="reregister", by=owner, on=TODAY, reason="x")
    household = services.household_step(household=household, action="cancel", by=owner, on=TODAY, reason="调离本单位")
    assert household.status == "cancelled"
    with pytest.raises(ValidationError):
        services.household_review(household=household, by=owner, reviewed_on=TODAY, outcome="continue", level="ordinary")


def test_a_review_moves_the_next_due_date_and_the_liaison_may_record_it(owner, staff, person_a):
    household = register(staff, person_a, liaison=owner)
    services.household_review(household=household, by=owner, reviewed_on=datetime.date(2026, 6, 3),
                              outcome="level_changed", level="ordinary", note="病情稳定")
    household.refresh_from_db()
    assert (household.last_review_on, household.next_review_on, household.level) == (
        datetime.date(2026, 6, 3), datetime.date(2026, 9, 3), "ordinary")
    # An earlier review entered late does not move the due date back.
    services.household_review(household=household, by=owner, reviewed_on=datetime.date(2026, 5, 1),
                              outcome="continue", level="ordinary")
    household.refresh_from_db()
    assert household.next_review_on == datetime.date(2026, 9, 3)


def test_plan_measures_belong_to_their_pack_and_have_an_owner_who_sees_the_household(owner, outsider, person_a):
    household = register(owner, person_a)
    with pytest.raises(ValidationError) as excinfo:
        services.measure_add(household=household, by=owner, pack="service", kind="subsidy", description="补助",
                             owner=owner, due_on=TODAY)
    assert "kind" in errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.measure_add(household=household, by=owner, pack="policy", kind="subsidy", description="补助",
                             owner=outsider, due_on=TODAY)
    assert "owner" in errors(excinfo)
    measure = services.measure_add(household=household, by=owner, pack="policy", kind="subsidy",
                                   description="申请年度困难补助", owner=owner, due_on=TODAY)
    services.measure_set_done(measure=measure, by=owner, done=True, on=datetime.date(2026, 12, 1))
    services.measure_set_done(measure=measure, by=owner, done=True, on=TODAY)  # a second click keeps the first date
    assert measure.done_on == datetime.date(2026, 12, 1)
    services.measure_set_done(measure=measure, by=owner, done=False)
    assert measure.done_on is None
    with pytest.raises(ValidationError):
        services.measure_set_done(measure=measure, by=outsider, done=True)


def test_assistance_is_money_or_a_service_with_evidence(owner, person_a):
    household = register(owner, person_a)
    with pytest.raises(ValidationError) as excinfo:
        services.assistance_record(household=household, by=owner, given_on=TODAY, kind="subsidy")
    assert "amount" in errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.assistance_record(household=household, by=owner, given_on=datetime.date(2026, 2, 1), kind="subsidy",
                                   amount=Decimal("100"))
    assert "given_on" in errors(excinfo)
    record = services.assistance_record(
        household=household, by=owner, given_on=TODAY, kind="subsidy", amount=Decimal("2000.50"),
        evidence=SimpleUploadedFile("发放签收单.png", PNG_BYTES, content_type="image/png"),
    )
    assert record.ref == f"BF2026-{record.pk:06d}" and record.evidence_name == "发放签收单.png"
    assert record.evidence.read() == PNG_BYTES
    service = services.assistance_record(household=household, by=owner, given_on=TODAY, kind="counselling",
                                         service="心理咨询两次")
    assert service.amount is None


def test_only_a_household_on_the_register_gets_assistance(owner, staff, person_a):
    household = register(owner, person_a)
    services.household_step(household=household, action="relieve", by=staff, on=TODAY, reason="脱困")
    with pytest.raises(ValidationError):
        services.assistance_record(household=household, by=owner, given_on=TODAY, kind="subsidy", amount=Decimal("1"))
