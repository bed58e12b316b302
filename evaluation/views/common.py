"""Helpers shared by the evaluation pages: the period and unit pickers."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import OrgUnit
from members.selectors import unit_path
from portal.scope import get_visible_or_404, visible

from ..periods import Period


def period_from(request, param: str = "period", default: Period | None = None) -> Period:
    """The period asked for in the query string; a bad value shows a message and the default."""
    text = request.GET.get(param, "").strip()
    fallback = default or Period.containing(timezone.now(), "month")
    if not text:
        return fallback
    try:
        return Period.parse(text)
    except ValueError as error:
        messages.error(request, str(error))
        return fallback


def home_unit(user, permission: str) -> OrgUnit:
    """The account's scope unit, or for an account without one (administrators) the first root."""
    if user.scope_org_id:
        return user.scope_org
    unit = visible(OrgUnit.objects.filter(parent__isnull=True), user, permission).order_by("sort_order", "path").first()
    if unit is None:
        raise Http404(_("There is no org unit yet."))
    return unit


def unit_from(request, permission: str, param: str = "unit") -> OrgUnit:
    """The unit asked for (must be in the user's scope: otherwise 404), or the account's own."""
    value = request.GET.get(param, "").strip()
    if value:
        if not value.isdigit():
            raise Http404
        return get_visible_or_404(OrgUnit.objects.select_related("parent"), request.user, permission, pk=int(value))
    return home_unit(request.user, permission)


def unit_and_ancestors(request, permission: str, param: str = "unit") -> tuple[OrgUnit, list[OrgUnit]]:
    """`unit_from` and the unit's `ancestors` (breadcrumbs), in one query: the units in the user's
    scope on the path from the root to the unit asked for."""
    value = request.GET.get(param, "").strip()
    user = request.user
    if not value:
        unit = home_unit(user, permission)
        return unit, ancestors(unit, user, permission)
    if not value.isdigit():
        raise Http404
    chain = unit_path(int(value), user, permission)
    if not chain or chain[-1].pk != int(value):
        raise Http404
    return chain[-1], chain[:-1]


def period_choices(now=None, months: int = 24, quarters: int = 8, years: int = 4) -> list[tuple[str, list]]:
    """Options of the period picker: recent months, quarters and years (newest first)."""
    now = now or timezone.now()
    month = Period.containing(now, "month")
    quarter = Period.containing(now, "quarter")
    year = Period.containing(now, "year")
    return [
        (_("Months"), [(p.key, p.label) for p in (month.shifted(-i) for i in range(months))]),
        (_("Quarters"), [(p.key, p.label) for p in (quarter.shifted(-i) for i in range(quarters))]),
        (_("Years"), [(p.key, p.label) for p in (year.shifted(-i) for i in range(years))]),
    ]


def ancestors(unit: OrgUnit, user, permission: str) -> list[OrgUnit]:
    """The unit's ancestors the user may see (breadcrumbs), root first."""
    ids = [int(seg) for seg in unit.path.strip("/").split("/")[:-1] if seg]
    return list(visible(OrgUnit.objects.filter(pk__in=ids), user, permission).order_by("depth"))
