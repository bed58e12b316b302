"""factory_boy factories shared by all tests. Apps add their own modules here (demands.py, …)."""
import datetime

import factory
from factory.django import DjangoModelFactory

from members.models import OrgUnit, Person
from members.validators import id_number_check_digit
from portal.models import User
from portal.roles import Role

TEST_PASSWORD = "Test@pass-2026"


def valid_id_number(n: int, birth: datetime.date = datetime.date(1990, 1, 1)) -> str:
    first17 = f"110101{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_number_check_digit(first17)


class OrgUnitFactory(DjangoModelFactory):
    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = "branch"
    parent = None


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    employee_no = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(lambda n: f"测试人员{n}")
    gender = "M"
    birth_date = datetime.date(1990, 1, 1)
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    id_number = factory.Sequence(lambda n: valid_id_number(n))
    org_unit = factory.SubFactory(OrgUnitFactory)
    political_status = "masses"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.EMPLOYEE
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()
