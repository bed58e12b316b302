"""Helpers for the evaluation tests: records with exact timestamps (created directly, not through
the other apps' services, so every boundary of kpis.md can be placed precisely), and campaigns."""
from __future__ import annotations

import datetime
import itertools
from zoneinfo import ZoneInfo

from django.apps import apps

from tests.factories import PersonFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(text: str) -> datetime.datetime:
    """'2026-03-31 23:59:59' local time, or with an explicit offset ('…+00:00')."""
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def _category():
    DemandCategory = apps.get_model("demands", "DemandCategory")
    return DemandCategory.objects.get_or_create(code="other", defaults={"name": "其他"})[0]


def demand(unit, *, received_at="2026-03-10 10:00", status="accepted", category=None, **stamps):
    """A demand of `unit`; other timestamps given as local strings (or None)."""
    Demand = apps.get_model("demands", "Demand")
    values = {k: (at(v) if isinstance(v, str) else v) for k, v in stamps.items() if k != "rating"}
    return Demand.objects.create(
        ref=f"EVT-{next(_numbers):06d}", title="测试诉求", category=category or _category(), org_unit=unit,
        status=status, received_at=at(received_at) if isinstance(received_at, str) else received_at,
        rating=stamps.get("rating"), **values,
    )


def mediation(unit, *, opened_at="2026-03-01 09:00", concluded_at=None, outcome=""):
    MediationCase = apps.get_model("demands", "MediationCase")
    return MediationCase.objects.create(
        ref=f"EVM-{next(_numbers):06d}", title="纠纷", org_unit=unit, opened_at=at(opened_at),
        concluded_at=at(concluded_at) if concluded_at else None, outcome=outcome,
    )


def life_event(person, event_date: str, kind="hospitalization"):
    LifeEvent = apps.get_model("demands", "LifeEvent")
    return LifeEvent.objects.create(ref=f"EVL-{next(_numbers):06d}", person=person, kind=kind,
                                    event_date=day(event_date))


def visit(person, visited_on: str, life_event=None, visitor=None):
    Visit = apps.get_model("demands", "Visit")
    return Visit.objects.create(
        ref=f"EVV-{next(_numbers):06d}", person=person, visitor=visitor or PersonFactory(org_unit=person.org_unit),
        visited_on=day(visited_on), kind="must_visit" if life_event else "routine", life_event=life_event,
    )


def activity(unit, type_: str, held_at: str, status="held"):
    from activities import meeting_summary

    Activity = apps.get_model("activities", "Activity")
    created = Activity.objects.create(ref=f"EVA-{next(_numbers):06d}", type=type_, title=type_, org_unit=unit,
                                      held_at=at(held_at), status=status)
    meeting_summary.activity_changed(created)  # as the services do when a meeting is recorded
    return created


def attend(activity_obj, person, status="present"):
    Attendance = apps.get_model("activities", "Attendance")
    return Attendance.objects.create(activity=activity_obj, person=person, status=status)


def item(unit, deadline: str | None, completed_at: str | None = None):
    ResponsibilityItem = apps.get_model("activities", "ResponsibilityItem")
    return ResponsibilityItem.objects.create(
        ref=f"EVI-{next(_numbers):06d}", title="责任事项", lead_org_unit=unit,
        deadline=day(deadline) if deadline else None, completed_at=at(completed_at) if completed_at else None,
    )


def member(unit, status="full_member"):
    return PersonFactory(org_unit=unit, political_status=status)
