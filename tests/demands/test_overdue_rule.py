"""Overdue (已超期) is defined once (demands.selectors.overdue_q, its Python form sla.is_overdue) and
every consumer agrees on the boundaries: due exactly now is not overdue, one minute past is; an
answered demand's response deadline no longer counts; a finished demand is never overdue."""
import datetime

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone

from demands import sla
from demands.choices import OPEN_STATUSES, Status
from demands.home import demand_counts
from demands.models import Demand
from demands.selectors import queue
from demands.services import sla_sweep
from evaluation import selectors as dashboard
from tests.factories.demands import make_demand

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 10, 0))
MINUTE = datetime.timedelta(minutes=1)
LATER = NOW + datetime.timedelta(days=5)
CLOSED = [s for s in Status.values if s not in OPEN_STATUSES]


@pytest.fixture
def cases(tree, owner):
    """title → (demand, overdue?)."""
    spec = {
        # (response due, first response, resolution due, status): overdue?
        "due exactly now": ((NOW - MINUTE, NOW - 2 * MINUTE, NOW, Status.IN_PROGRESS), False),
        "resolution a minute past": ((NOW - MINUTE, NOW - 2 * MINUTE, NOW - MINUTE, Status.IN_PROGRESS), True),
        "response a minute past": ((NOW - MINUTE, None, LATER, Status.PENDING), True),
        "response due exactly now": ((NOW, None, LATER, Status.PENDING), False),
        "answered after its response deadline": ((NOW - MINUTE, NOW, LATER, Status.ACCEPTED), False),
        **{f"finished ({status})": ((NOW - MINUTE, None, NOW - MINUTE, status), False) for status in CLOSED},
    }
    result = {}
    with time_machine.travel(NOW - datetime.timedelta(days=20), tick=False):
        for title, ((response_due, answered, resolution_due, status), overdue) in spec.items():
            demand = make_demand(tree.group_a, by=owner, title=title)
            Demand.objects.filter(pk=demand.pk).update(response_due_at=response_due, first_response_at=answered,
                                                       resolution_due_at=resolution_due, status=status)
            result[title] = overdue
    return result


def _expected(cases):
    return {title for title, overdue in cases.items() if overdue}


def test_the_queue_and_the_home_tile(cases, owner):
    limits = sla.current_thresholds(NOW)
    assert {d.title for d in queue("overdue", owner, limits=limits)} == _expected(cases)
    request = RequestFactory().get("/")
    request.user = owner
    with time_machine.travel(NOW, tick=False):
        assert demand_counts(request)["overdue"] == (len(_expected(cases)), False)


def test_the_list_colour(cases):
    limits = sla.current_thresholds(NOW)
    red = {d.title for d in Demand.objects.all() if sla.colour(d, limits) == "red"}
    assert red == {d.title for d in Demand.objects.all() if sla.is_overdue(d, NOW)} == _expected(cases)


def test_the_dashboard_and_report_lists(cases, owner, tree):
    lists = {lst.key: lst for lst in dashboard.overdue(tree.root, owner, now=NOW, limit=50)}
    assert {d.title for d, _due in lists["demands"].rows} == _expected(cases)
    assert all(due < NOW for _d, due in lists["demands"].rows)


def test_the_sla_sweep_flags_and_escalates(cases):
    sla_sweep(NOW)
    flagged = set(Demand.objects.filter(response_flag="overdue").values_list("title", flat=True)) | set(
        Demand.objects.filter(resolution_flag="overdue").values_list("title", flat=True))
    assert flagged == _expected(cases)
    assert set(Demand.objects.filter(escalated_at__isnull=False).values_list("title", flat=True)) == _expected(cases)
