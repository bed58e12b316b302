"""Demo hardship households for `seed_demo` (after the accounts and the demands' visits exist)."""
from __future__ import annotations

import datetime
from decimal import Decimal

from portal.models import User
from portal.scope import visible

from . import workflow
from .models import AssistanceMeasure, AssistanceRecord, HardshipHousehold, HardshipReview, HouseholdEvent

# employee number, ref, reason, level, family size, registered on, situation
HOUSEHOLDS = [
    ("E10061", "KN2026-000001", "illness", "severe", 4, datetime.date(2026, 3, 2), "配偶长期患病住院，两个孩子在读，家庭收入主要靠本人工资。"),
    ("E10003", "KN2026-000002", "low_income", "ordinary", 3, datetime.date(2026, 8, 15), "单职工家庭，母亲年迈需照顾。"),
    ("E10020", "KN2026-000003", "accident", "ordinary", 2, datetime.date(2026, 5, 10), "本人交通事故受伤，康复期收入下降。"),
]


def _liaison(person):
    for username in ("staff", "secretary", "admin"):
        user = User.objects.filter(username=username).select_related("scope_org").first()
        if user and (user.role == "admin" or visible(type(person).objects.filter(pk=person.pk), user, "hardship.change").exists()):
            return user
    return None


def seed(seeded: dict) -> None:
    from demands.models import Visit

    people = seeded["people"]
    for number, ref, reason, level, size, registered_on, situation in HOUSEHOLDS:
        person = people.get(number)
        if person is None or HardshipHousehold.objects.filter(ref=ref).exists():
            continue
        liaison = _liaison(person)
        if liaison is None:
            continue
        household = HardshipHousehold.objects.create(
            ref=ref, person=person, reason=reason, level=level, family_size=size, registered_on=registered_on,
            family_situation=situation, liaison=liaison, registered_by=liaison,
            next_review_on=workflow.next_review_on(registered_on),
        )
        HouseholdEvent.objects.create(household=household, action=workflow.Action.REGISTER, on=registered_on, by=liaison)
        AssistanceMeasure.objects.create(household=household, pack="policy", kind="subsidy", description="申请年度困难职工补助",
                                         owner=liaison, due_on=registered_on + datetime.timedelta(days=30),
                                         done_on=registered_on + datetime.timedelta(days=20), created_by=liaison)
        AssistanceMeasure.objects.create(household=household, pack="service", kind="visit", description="每季度走访慰问",
                                         owner=liaison, due_on=registered_on + datetime.timedelta(days=90), created_by=liaison)
        AssistanceRecord.objects.create(ref=ref.replace("KN", "BF"), household=household, given_on=registered_on + datetime.timedelta(days=20),
                                        kind="subsidy", amount=Decimal("3000.00"), recorded_by=liaison)
        if registered_on < datetime.date(2026, 6, 1):
            reviewed_on = workflow.next_review_on(registered_on)
            HardshipReview.objects.create(household=household, reviewed_on=reviewed_on, outcome="continue", level=level,
                                          note="家庭情况无明显变化，继续帮扶。", reviewed_by=liaison)
            household.last_review_on, household.next_review_on = reviewed_on, workflow.next_review_on(reviewed_on)
            household.save(update_fields=["last_review_on", "next_review_on"])
            HouseholdEvent.objects.create(household=household, action=workflow.Action.REVIEW, on=reviewed_on, by=liaison)
    first = HardshipHousehold.objects.filter(ref="KN2026-000001").first()
    if first is not None:
        Visit.objects.filter(ref="ZF2026-000004", person=first.person, hardship_household=None).update(hardship_household=first)
