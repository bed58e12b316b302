"""What the manager dashboard shows (it reads snapshots only): the cards with the links to the
records behind them, the data of the trend, ranking, heat map and funnel charts, the 三会一课
matrix; and the URLs of the dashboard and of the drill-down behind every figure."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote_plus, urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from portal.cached_urls import cached_reverse
from portal.roles import has_permission

from . import drilldown, selectors
from .choices import Light, ValueFormat
from .kpis import COUNT, MEAN

if TYPE_CHECKING:
    from members.models import OrgUnit


# What a query string carries as it is (urlencode leaves these alone): period keys, parts, ids.
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _query(params: dict) -> str:
    """urlencode() for a few ints and short strings, a tenth of its cost (the dashboard makes ~600)."""
    return "&".join(f"{name}={_plain_or_quoted(value)}" for name, value in params.items())


def _plain_or_quoted(value) -> str:
    text = str(value)
    return text if type(value) is int or _PLAIN.issuperset(text) else quote_plus(text)


def drill_url(code: str, unit: OrgUnit, period, part: str = drilldown.DENOMINATOR, **extra) -> str:
    return drill_link(code)(unit, period, part, **extra)


def drill_link(code: str):
    """drill_url of one KPI as a function of the unit, period and part, its path reversed once:
    for the matrix's and the heat map's hundreds of links."""
    base = f"{cached_reverse('evaluation:drill', code)}?"

    def url(unit: OrgUnit, period, part: str = drilldown.DENOMINATOR, **extra) -> str:
        return base + _query({"period": period.key, "unit": unit.pk, "part": part, **extra})

    return url


def dashboard_url(unit: OrgUnit, period, **extra) -> str:
    return f"{reverse('evaluation:dashboard')}?{urlencode({'period': period.key, 'unit': unit.pk, **extra})}"


# The ranking's rows on the page (its chart shows the first fifteen).
RANKING_SHOWN = 20


def dashboard_page(user, unit, period, *, trend: str | None = None, rank: str | None = None) -> dict:
    """What the dashboard shows of `unit` in `period` (the trend and ranking of the KPIs asked for,
    or the default ones), the page's frame aside: title, breadcrumbs, period choices."""
    kpis = selectors.catalogue()
    by_code = {k.code: k for k in kpis}
    trend_code = trend if trend in by_code else "satisfaction_rate"
    rank_code = rank if rank in by_code else "meeting_compliance_rate"
    trend_kpi, rank_kpi = by_code.get(trend_code), by_code.get(rank_code)
    # The unit's snapshots and the page's targets in two queries; the parts below pick theirs.
    matrix_branches = selectors.matrix_branches(unit, user)
    snapshots = selectors.dashboard_snapshots(
        unit, period, list(by_code), length=12,
        matrix_branches=matrix_branches, matrix_months=selectors.matrix_months(period),
    )
    targets = selectors.dashboard_targets(unit, period.year, rank_code if rank_kpi else None)
    cards = selectors.cards(unit, period, kpis, snapshots=snapshots, targets=targets)
    lines = selectors.trend(unit, period, [k.code for k in kpis], length=6, snapshots=snapshots)
    _link_cards(cards, lines, unit, period)

    trend_data = selectors.trend(unit, period, [trend_code], length=12, snapshots=snapshots) if trend_kpi else None
    target_card = next((c for c in cards if c.kpi.code == trend_code), None)
    ranking = selectors.ranking(unit, period, rank_kpi, user, limit=RANKING_SHOWN, targets=targets) if rank_kpi else []
    for row in ranking:
        row["url"] = drill_url(rank_code, row["unit"], period) if rank_kpi.spec else ""
    sub_units = selectors.sub_units(unit, user)
    heat = selectors.heat_map(unit, period, user, children=sub_units)
    return dict(
        period=period, unit=unit, kpis=kpis, cards=cards,
        current_month=selectors.current_month(), last_complete_month=selectors.default_period(),
        children=sub_units[:60],
        trend_code=trend_code, rank_code=rank_code, rank_kpi=rank_kpi, ranking=ranking,
        heat=heat, matrix=matrix(unit, period, user, branches=matrix_branches, snapshots=snapshots),
        overdue=selectors.overdue(unit, user), chart_data=_chart_data(
            unit, period, cards, trend_code=trend_code, trend_kpi=trend_kpi, trend_data=trend_data, target_card=target_card,
            rank_code=rank_code, rank_kpi=rank_kpi, ranking=ranking, heat=heat),
        last_run=(runs := selectors.last_runs(period))[0],
        failed_run=runs[1],
        can_compute=has_permission(user, "kpis.compute"),
        can_report=has_permission(user, "reports.view"),
        can_act=has_permission(user, "pdca.manage"),
        action_url=reverse("evaluation:action_create"), texts=dashboard_texts(),
        matrix_drill=drill_url("meeting_compliance_rate", unit, period),
        # Hardship totals are loaded after the page (members/hardship/views.TotalsFragmentView): no query here.
        hardship={"unit": unit.pk, "until": period.last_day} if has_permission(user, "hardship.view") else None,
    )


def dashboard_texts() -> dict:
    """The texts of the dashboard's Jinja parts (jinja2/evaluation/dashboard_*.jinja), in the
    request's language."""
    return {
        "lights": {Light.GREEN: _("on target"), Light.AMBER: _("near"), Light.RED: _("below")},
        "change": _("Change from the previous period"), "target": _("Target"), "no_target": _("No target"),
        "records": _("records"), "definition": _("Definition"), "raise_action": _("Raise an improvement action"),
        "all": _("All"), "nothing_overdue": _("Nothing overdue."),
    }


def drilldown_page(user, kpi, figure: drilldown.Figure, part: str, *, whole: bool) -> dict:
    """The head of the drill-down list behind a figure: the KPI, its value as the dashboard shows it,
    each part with its count and link; the size of the set when the list is `whole` (no category or
    own-unit filter)."""
    from .kpis import MeetingKpi

    kpi_def = next((k for k in selectors.catalogue(active_only=False) if k.code == kpi.code), None)
    counts = drilldown.counts(figure, user)
    return dict(
        kpi=kpi, kpi_def=kpi_def, figure=figure, snapshot=figure.snapshot, part=part,
        parts=[(key, label, count, drill_url(kpi.code, figure.unit, figure.period, key))
               for key, label, count in drilldown.parts_of(kpi, counts)],
        list_count=counts.get(part) if whole else None,
        display_value=selectors.display(figure.snapshot.value if figure.snapshot else None,
                                        kpi_def.value_format if kpi_def else ValueFormat.RATE),
        dashboard_link=dashboard_url(figure.unit, figure.period),
        is_meeting=isinstance(kpi, MeetingKpi),
        # The exact size of the set (the list itself pages without counting).
        **({"row_count": counts[part], "row_count_more": False} if whole and not isinstance(kpi, MeetingKpi) else {}),
    )


def _link_cards(cards, lines, unit, period) -> None:
    """Each card's sparkline and, for a KPI with records behind it, the links to them."""
    for card in cards:
        card.trend = selectors.sparkline(lines["series"].get(card.kpi.code, []))
        spec = card.kpi.spec
        card.drillable = spec is not None
        if spec is not None:
            card.value_url = drill_url(card.kpi.code, unit, period, drilldown.NUMERATOR
                                       if spec.measure not in (COUNT, MEAN) else drilldown.DENOMINATOR)
            card.numerator_url = drill_url(card.kpi.code, unit, period, drilldown.NUMERATOR)
            card.denominator_url = drill_url(card.kpi.code, unit, period, drilldown.DENOMINATOR)
            card.has_numerator = spec.has_numerator
            card.numerator_label = spec.numerator_label
            card.denominator_label = spec.denominator_label


def _chart_data(unit, period, cards, *, trend_code, trend_kpi, trend_data, target_card, rank_code, rank_kpi,
                ranking, heat) -> dict:
    """The data of the page's charts (trend, ranking, heat map, funnel), labels formatted and
    translated here."""
    card_by_code = {c.kpi.code: c for c in cards}
    intake_url = drill_link("demand_intake")

    def snap(code, attr):
        card = card_by_code.get(code)
        return getattr(card.snapshot, attr) if card and card.snapshot else 0

    funnel = [
        {"name": _("Received in the period"), "value": snap("demand_intake", "numerator"),
         "url": drill_url("demand_intake", unit, period)},
        {"name": _("Resolved in the period"), "value": snap("return_visit_rate", "denominator"),
         "url": drill_url("return_visit_rate", unit, period)},
        {"name": _("of which visited again"), "value": snap("return_visit_rate", "numerator"),
         "url": drill_url("return_visit_rate", unit, period, drilldown.NUMERATOR)},
        {"name": _("Rated in the period"), "value": snap("satisfaction_rate", "denominator"),
         "url": drill_url("satisfaction_rate", unit, period)},
        {"name": _("of which rated 4–5"), "value": snap("satisfaction_rate", "numerator"),
         "url": drill_url("satisfaction_rate", unit, period, drilldown.NUMERATOR)},
    ]
    return {
        "trend": {
            "name": str(trend_kpi.display_name) if trend_kpi else "",
            "percent": bool(trend_kpi and trend_kpi.value_format == ValueFormat.RATE),
            "periods": trend_data["periods"] if trend_data else [],
            "values": [float(v) if v is not None else None for v in trend_data["series"][trend_code]]
            if trend_data else [],
            # Labels are rounded on the server (half up, portal/numbers.py), never in JavaScript.
            "labels": [selectors.display(v, trend_kpi.value_format) for v in trend_data["series"][trend_code]]
            if trend_data else [],
            "targetText": selectors.display(target_card.target.target, trend_kpi.value_format)
            if target_card and target_card.target else "",
            "target": float(target_card.target.target) if target_card and target_card.target else None,
            "targetLabel": _("Target"),
            "urls": [drill_url(trend_code, unit, period.shifted(i - 11)) for i in range(12)]
            if trend_kpi and trend_kpi.spec else [],
        },
        "ranking": {
            "name": str(rank_kpi.display_name) if rank_kpi else "",
            "percent": bool(rank_kpi and rank_kpi.value_format == ValueFormat.RATE),
            "units": [row["unit"].name for row in ranking[:15]],
            "values": [float(row["snapshot"].value) if row["snapshot"].value is not None else None
                       for row in ranking[:15]],
            "labels": [selectors.display(row["snapshot"].value, rank_kpi.value_format) for row in ranking[:15]]
            if rank_kpi else [],
            "urls": [drill_url(rank_code, row["unit"], period) if rank_kpi.spec else dashboard_url(row["unit"], period)
                     for row in ranking[:15]] if rank_kpi else [],
        },
        "heat": {
            "units": [u.name + ("（" + _("own") + "）" if own else "") for u, own in heat["units"]],
            "categories": [c.name for c in heat["categories"]],
            "cells": [[j, i, n] for i, row in enumerate(heat["cells"]) for j, n in enumerate(row)],
            "urls": [[intake_url(u, period, category=c.pk) if not own else intake_url(u, period, category=c.pk, own=1)
                      for c in heat["categories"]] for u, own in heat["units"]],
        },
        "funnel": funnel,
    }


def matrix(unit, period, user, **read):
    matrix = selectors.meeting_matrix(unit, period, user, **read)
    url = drill_link(selectors.MATRIX_KPI)
    matrix["rows"] = [
        (branch, [(snap, url(branch, month))
                  for snap, month in zip(cells, matrix["months"])])
        for branch, cells in matrix["rows"]
    ]
    return matrix
