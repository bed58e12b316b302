"""Factories and helpers for demands, visits, life events and mediation. Demands are made through
the services so that every one has its hash-chained timeline."""
from __future__ import annotations

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from demands import services
from demands.models import DemandCategory, LifeEvent, MediationCase, SlaPolicy, Visit
from tests.factories import PersonFactory

# Small PNG and JPEG files (valid signatures) for upload tests.
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def category(code: str = "other", name: str = "其他") -> DemandCategory:
    return DemandCategory.objects.get_or_create(code=code, defaults={"name": name})[0]


def policy(category_obj=None, urgency: str = "normal", hours: int = 8, days: int = 10) -> SlaPolicy:
    return SlaPolicy.objects.update_or_create(
        category=category_obj, urgency=urgency, defaults={"response_hours": hours, "resolution_days": days}
    )[0]


def make_demand(org_unit, *, submitter=None, by=None, title="食堂午餐菜品单一", content="希望增加花样", urgency="normal",
                channel="staff_entry", category_obj=None, received_at=None, visit=None):
    return services.demand_submit(
        title=title, content=content, category=category_obj or category(), urgency=urgency, channel=channel,
        org_unit=org_unit, submitter=submitter, by=by, received_at=received_at, visit=visit,
    )


def accepted(demand, *, by, handler, **kwargs):
    return services.demand_accept(demand=demand, by=by, category=demand.category, urgency=demand.urgency,
                                  handler=handler, **kwargs)


def resolved(demand, *, by, handler):
    demand = accepted(demand, by=by, handler=handler)
    demand = services.demand_reply(demand=demand, by=handler, text="已联系食堂")
    return services.demand_resolve(demand=demand, by=handler, result="已增加菜品")


class LifeEventFactory(DjangoModelFactory):
    class Meta:
        model = LifeEvent

    ref = factory.Sequence(lambda n: f"SJT-{n:05d}")
    person = factory.SubFactory(PersonFactory)
    kind = "hospitalization"
    event_date = factory.LazyFunction(timezone.localdate)


class VisitFactory(DjangoModelFactory):
    class Meta:
        model = Visit

    ref = factory.Sequence(lambda n: f"ZFT-{n:05d}")
    person = factory.SubFactory(PersonFactory)
    visitor = factory.SubFactory(PersonFactory)
    visited_on = factory.LazyFunction(timezone.localdate)
    kind = "routine"
    notes = "家中一切正常"


class MediationFactory(DjangoModelFactory):
    class Meta:
        model = MediationCase

    ref = factory.Sequence(lambda n: f"TJT-{n:05d}")
    title = "班组工时分配纠纷"
    opened_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=3))
