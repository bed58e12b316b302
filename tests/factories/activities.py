"""Factories of the activities app."""
import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from activities.models import Activity, Attendance, Milestone, Project, ResponsibilityItem
from tests.factories import OrgUnitFactory, PersonFactory


def local(year, month, day, hour=0, minute=0, second=0):
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute, second))


class ActivityFactory(DjangoModelFactory):
    class Meta:
        model = Activity
        skip_postgeneration_save = True

    ref = factory.Sequence(lambda n: f"HD-T{n:05d}")
    type = "branch_committee"
    title = factory.Sequence(lambda n: f"支部委员会 {n}")
    org_unit = factory.SubFactory(OrgUnitFactory)
    held_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    status = "held"

    @factory.post_generation
    def summary(obj, create, extracted, **kwargs):
        """As recording a meeting through the services does: the 三会一课 summary follows."""
        if create:
            from activities import meeting_summary

            meeting_summary.activity_changed(obj)


class AttendanceFactory(DjangoModelFactory):
    class Meta:
        model = Attendance

    activity = factory.SubFactory(ActivityFactory)
    person = factory.SubFactory(PersonFactory)
    status = "present"


class ItemFactory(DjangoModelFactory):
    class Meta:
        model = ResponsibilityItem

    ref = factory.Sequence(lambda n: f"ZR-T{n:05d}")
    title = factory.Sequence(lambda n: f"责任事项 {n}")
    lead_org_unit = factory.SubFactory(OrgUnitFactory)
    deadline = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"党建项目 {n}")
    kind = "party_brand"
    org_unit = factory.SubFactory(OrgUnitFactory)
    objective = "目标"
    budget = 10000


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"里程碑 {n}")
