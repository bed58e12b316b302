"""Reads of the hardship register: due reviews, a person's household, yearly totals per unit."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from portal.scope import subtree_q, visible

from .choices import Status
from .models import AssistanceRecord, HardshipHousehold

VIEW = "hardship.view"
MANAGING_ROLES = ("staff", "branch_secretary", "admin")


def households(user):
    return visible(HardshipHousehold.objects.select_related("person", "person__org_unit", "liaison", "liaison__person"), user, VIEW)


def due_reviews_q(today: datetime.date) -> Q:
    """The one definition of a review that is due: a household on the register whose quarterly
    review date has come."""
    return Q(status=Status.REGISTERED, next_review_on__lte=today)


def due_reviews(user, today: datetime.date):
    return households(user).filter(due_reviews_q(today)).order_by("next_review_on", "id")


def liaison_accounts(user):
    """Accounts that may be chosen as liaison or measure owner by `user`: those who manage hardship
    assistance inside the user's scope (the service checks the chosen one reaches the person)."""
    from portal.models import User

    accounts = User.objects.filter(is_active=True, role__in=MANAGING_ROLES).select_related("scope_org", "person")
    if user.role == "admin":
        return accounts.order_by("username")
    return accounts.filter(subtree_q(user.scope_org_path, "scope_org") | Q(pk=user.pk)).order_by("username")


@dataclass
class Totals:
    households: int = 0  # on the register at some time in the year
    households_helped: int = 0  # got assistance in the year
    people_helped: int = 0  # members of the households helped
    money: Decimal = Decimal("0.00")
    services: int = 0  # assistance records of a service (no money)


def _year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def on_register_in_year_q(year: int, prefix: str = "") -> Q:
    start, end = _year_bounds(year)
    return Q(**{f"{prefix}registered_on__lte": end}) & (
        Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gte": start})
    )


def totals_by_unit(user, year: int, units, until: datetime.date | None = None) -> dict[int, Totals]:
    """{unit id: Totals} for each of `units` (each over its subtree), in three queries, for the year
    up to `until` (a monthly report counts its year to the end of its month). The units are the rows
    the page shows, e.g. the unit and the units below it."""
    start, end = _year_bounds(year)
    if until is not None:
        end = min(end, until)
    result = {unit.pk: Totals() for unit in units}
    if not units:
        return result
    household_counts = {}
    assistance = {}
    hh = visible(HardshipHousehold.objects.all(), user, VIEW).filter(on_register_in_year_q(year), registered_on__lte=end)
    rec = visible(AssistanceRecord.objects.all(), user, VIEW).filter(given_on__range=(start, end))
    household_counts = hh.aggregate(**{
        f"u{unit.pk}": Count("id", filter=subtree_q(unit, "person__org_unit")) for unit in units
    })
    money = DecimalField(max_digits=14, decimal_places=2)
    for unit in units:
        within = subtree_q(unit, "household__person__org_unit")
        assistance[f"m{unit.pk}"] = Coalesce(Sum("amount", filter=within), Value(Decimal("0")), output_field=money)
        assistance[f"s{unit.pk}"] = Count("id", filter=within & Q(amount__isnull=True))
        assistance[f"h{unit.pk}"] = Count("household", distinct=True, filter=within)
    sums = rec.aggregate(**assistance)
    people = _people_helped(rec, units)
    for unit in units:
        result[unit.pk] = Totals(
            households=household_counts[f"u{unit.pk}"], households_helped=sums[f"h{unit.pk}"],
            people_helped=people.get(unit.pk, 0), money=sums[f"m{unit.pk}"], services=sums[f"s{unit.pk}"],
        )
    return result


def _people_helped(records, units) -> dict[int, int]:
    """Household members of the households that got assistance, per unit (one query)."""
    helped = HardshipHousehold.objects.filter(pk__in=records.values("household")).order_by()
    sums = helped.aggregate(**{
        f"p{unit.pk}": Coalesce(Sum("family_size", filter=subtree_q(unit, "person__org_unit")), 0)
        for unit in units
    })
    return {unit.pk: sums[f"p{unit.pk}"] for unit in units}


def totals_rows(user, year: int, units, until: datetime.date | None = None) -> list[dict]:
    """The totals as rows for a page, the dashboard and the frozen monthly report: numbers and the
    money also as display text (half up, two decimals)."""
    from portal.numbers import fixed

    by_unit = totals_by_unit(user, year, units, until)
    return [{
        "unit": unit.name, "unit_code": unit.code, "unit_id": unit.pk, "households": t.households,
        "households_helped": t.households_helped, "people_helped": t.people_helped, "money": fixed(t.money, 2),
        "money_number": float(t.money), "services": t.services,
    } for unit in units for t in [by_unit[unit.pk]]]


def rows_with_figures(rows: list[dict]) -> tuple[list[dict], int]:
    """The first row (the unit's own total) and the sub-unit rows with any figure that is not zero,
    and how many all-zero rows were left out: most units have no hardship household, and a row for
    each made the dashboard's card thousands of pixels tall on a phone."""
    figures = ("households", "households_helped", "people_helped", "money_number", "services")
    kept = rows[:1] + [r for r in rows[1:] if any(r[f] for f in figures)]
    return kept, len(rows) - len(kept)


def totals(user, year: int, unit=None) -> Totals:
    """The totals of the user's scope (or of `unit`'s subtree) for a year."""
    unit = unit or user.scope_org
    if unit is None:
        return Totals()
    return totals_by_unit(user, year, [unit])[unit.pk]


def liaison_accounts_none():
    from portal.models import User

    return User.objects.none()
