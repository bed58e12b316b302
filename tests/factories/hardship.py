import datetime

import factory
from factory.django import DjangoModelFactory

from members.hardship.models import AssistanceMeasure, AssistanceRecord, HardshipHousehold

from . import PersonFactory, UserFactory


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = HardshipHousehold

    ref = factory.Sequence(lambda n: f"KN2026-{n:06d}")
    person = factory.SubFactory(PersonFactory)
    reason = "illness"
    level = "ordinary"
    family_size = 3
    registered_on = datetime.date(2026, 3, 1)
    next_review_on = datetime.date(2026, 6, 1)
    liaison = factory.SubFactory(UserFactory, role="staff")
    registered_by = factory.SelfAttribute("liaison")


class MeasureFactory(DjangoModelFactory):
    class Meta:
        model = AssistanceMeasure

    household = factory.SubFactory(HouseholdFactory)
    pack = "policy"
    kind = "subsidy"
    description = "困难补助"
    owner = factory.SelfAttribute("household.liaison")
    due_on = datetime.date(2026, 7, 1)


class AssistanceFactory(DjangoModelFactory):
    class Meta:
        model = AssistanceRecord

    ref = factory.Sequence(lambda n: f"BF2026-{n:06d}")
    household = factory.SubFactory(HouseholdFactory)
    given_on = datetime.date(2026, 6, 10)
    kind = "subsidy"
    amount = None
    service = ""
