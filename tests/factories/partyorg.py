import datetime

import factory
from factory.django import DjangoModelFactory

from members.partyorg.models import BranchTerm, MobileMember

from . import PersonFactory


class MobileMemberFactory(DjangoModelFactory):
    class Meta:
        model = MobileMember

    person = factory.SubFactory(PersonFactory, political_status="full_member")
    work_unit = "某项目部"
    place = "新疆哈密"
    contact = "13800000000"
    started_on = datetime.date(2026, 3, 1)


class BranchTermFactory(DjangoModelFactory):
    class Meta:
        model = BranchTerm

    elected_on = datetime.date(2024, 6, 28)
    term_years = 3
    ends_on = factory.LazyAttribute(lambda o: o.elected_on.replace(year=o.elected_on.year + o.term_years))
