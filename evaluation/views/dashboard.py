"""The manager dashboard (reads snapshots only) and the drill-down lists behind every figure."""
from __future__ import annotations

from urllib.parse import quote_plus, urlencode

import django_filters
import django_tables2 as tables
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from members.models import OrgUnit
from portal.cached_urls import cached_reverse
from portal.generic import ObjectListView, PermissionRequiredMixin
from portal.roles import has_permission

from .. import drilldown, selectors
from .. import kpis as registry
from ..choices import RunTrigger, ValueFormat
from ..kpis import COUNT, MEAN, EducationKpi, MeetingKpi, RecordKpi
from .common import ancestors, period_choices, period_from, unit_and_ancestors, unit_from

PERMISSION = "kpis.view"


def _query(params: dict) -> str:
    """urlencode() for a few ints and short strings, a quarter of its cost (the dashboard makes ~600)."""
    return "&".join(f"{name}={value}" if type(value) is int else f"{name}={quote_plus(str(value))}"
                    for name, value in params.items())


def drill_url(code: str, unit: OrgUnit, period, part: str = drilldown.DENOMINATOR, **extra) -> str:
    query = {"period": period.key, "unit": unit.pk, "part": part, **extra}
    return f"{cached_reverse('evaluation:drill', code)}?{_query(query)}"


def dashboard_url(unit: OrgUnit, period, **extra) -> str:
    return f"{reverse('evaluation:dashboard')}?{urlencode({'period': period.key, 'unit': unit.pk, **extra})}"


class DashboardView(PermissionRequiredMixin, TemplateView):
    permission = PERMISSION
    page_cache = True  # portal/pagecache.py
    read_replica = True  # the figures come from the replica when there is one (portal/dbrouting.py)
    template_name = "evaluation/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        period = period_from(request, default=selectors.default_period())
        unit, breadcrumbs = unit_and_ancestors(request, PERMISSION)
        kpis = selectors.catalogue()
        by_code = {k.code: k for k in kpis}
        trend_code = request.GET.get("trend") if request.GET.get("trend") in by_code else "satisfaction_rate"
        rank_code = request.GET.get("rank") if request.GET.get("rank") in by_code else "meeting_compliance_rate"
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

        trend_data = selectors.trend(unit, period, [trend_code], length=12, snapshots=snapshots) if trend_kpi else None
        target_card = next((c for c in cards if c.kpi.code == trend_code), None)
        ranking = selectors.ranking(unit, period, rank_kpi, user, targets=targets) if rank_kpi else []
        for row in ranking:
            row["url"] = drill_url(rank_code, row["unit"], period) if rank_kpi.spec else ""
        sub_units = selectors.sub_units(unit, user)
        if has_permission(user, "hardship.view"):
            # Loaded after the page (members/hardship/views.TotalsFragmentView): no query here.
            context["hardship"] = {"unit": unit.pk, "until": period.last_day}
        heat = selectors.heat_map(unit, period, user, children=sub_units)
        card_by_code = {c.kpi.code: c for c in cards}

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
        chart_data = {
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
                "urls": [[drill_url("demand_intake", u, period, category=c.pk) if not own
                          else drill_url("demand_intake", u, period, category=c.pk, own=1)
                          for c in heat["categories"]] for u, own in heat["units"]],
            },
            "funnel": funnel,
        }
        children = sub_units[:60]
        context.update(
            title=_("KPI dashboard"),
            period=period, unit=unit, kpis=kpis, cards=cards,
            current_month=selectors.current_month(), last_complete_month=selectors.default_period(),
            period_choices=period_choices(),
            breadcrumbs=breadcrumbs, children=children,
            trend_code=trend_code, rank_code=rank_code, rank_kpi=rank_kpi, ranking=ranking,
            heat=heat, matrix=self.matrix(unit, period, user, branches=matrix_branches, snapshots=snapshots),
            overdue=selectors.overdue(unit, user), chart_data=chart_data,
            last_run=(runs := selectors.last_runs(period))[0],
            failed_run=runs[1],
            can_compute=has_permission(user, "kpis.compute"),
            can_report=has_permission(user, "reports.view"),
            can_act=has_permission(user, "pdca.manage"),
            matrix_drill=drill_url("meeting_compliance_rate", unit, period),
        )
        return context


    @staticmethod
    def matrix(unit, period, user, **read):
        matrix = selectors.meeting_matrix(unit, period, user, **read)
        matrix["rows"] = [
            (branch, [(snap, drill_url("meeting_compliance_rate", branch, month))
                      for snap, month in zip(cells, matrix["months"])])
            for branch, cells in matrix["rows"]
        ]
        return matrix


class RecomputeView(PermissionRequiredMixin, View):
    """Ask for a recompute of one period now (the dashboard itself never recomputes)."""

    permission = "kpis.compute"

    def post(self, request):
        period = _period_from_post(request)
        unit = unit_from(request, PERMISSION)
        from ..tasks import compute_kpis

        keys = [p.key for p in period.containing_periods()]
        transaction.on_commit(lambda: compute_kpis.delay(keys, trigger=RunTrigger.MANUAL))
        messages.success(request, _("The figures of %(period)s are being recomputed; reload in a minute.")
                         % {"period": period.label})
        return HttpResponseRedirect(dashboard_url(unit, period))


def _period_from_post(request):
    from ..periods import Period

    try:
        return Period.parse(request.POST.get("period", ""))
    except ValueError:
        return Period.containing(timezone.now(), "month")


# --- Drill-down --------------------------------------------------------------------------------------------
def _column(name: str, model):
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = model._meta.get_field(name)
        verbose = field.verbose_name
    except FieldDoesNotExist:
        verbose = name
    if name in ("ref", "employee_no"):
        return tables.Column(verbose_name=verbose, linkify=lambda record: record.get_absolute_url())
    if name in ("title", "name"):
        return tables.Column(verbose_name=verbose, linkify=lambda record: record.get_absolute_url())
    if name.endswith("_at"):
        return tables.DateTimeColumn(verbose_name=verbose, format="Y-m-d H:i")
    if name in ("deadline", "event_date", "visit_due_on"):
        return tables.DateColumn(verbose_name=verbose, format="Y-m-d")
    return tables.Column(verbose_name=verbose)


def table_for(kpi):
    model = kpi.model_class
    attrs = {name: _column(name, model) for name in kpi.columns}
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": kpi.columns, "orderable": False,
                                      "attrs": {"class": "table table-sm table-hover align-middle"}})
    return type(f"{model.__name__}DrillTable", (tables.Table,), attrs)


class DrillFilterSet(django_filters.FilterSet):
    """The drill-down has no filters of its own: the KPI, period, unit and part define the set."""

    class Meta:
        fields: list = []


def _related(kpi) -> list[str]:
    model = kpi.model_class
    related = []
    for name in kpi.columns:
        field = model._meta.get_field(name)
        if field.is_relation and field.many_to_one:
            related.append(name)
    return related


class DrillDownView(ObjectListView):
    """The records behind a figure: ?period=P&unit=ID&part=numerator|denominator|rest."""

    permission = PERMISSION
    template_name = "evaluation/drilldown.html"
    paginate_by = 25
    read_replica = True  # portal/dbrouting.py
    export_basename = "kpi-records"

    def dispatch(self, request, *args, **kwargs):
        code = kwargs["code"]
        if code not in registry.REGISTRY:
            raise Http404
        self.kpi = registry.get(code)
        return super().dispatch(request, *args, **kwargs)

    def setup_figure(self):
        if getattr(self, "figure", None) is None:
            self.period = period_from(self.request)
            self.unit = unit_from(self.request, PERMISSION)
            self.figure = drilldown.Figure.load(self.kpi.code, self.unit, self.period)
            part = self.request.GET.get("part", drilldown.DENOMINATOR)
            self.part = part if part in drilldown.PARTS else drilldown.DENOMINATOR
            if getattr(self.kpi, "measure", None) in (COUNT, MEAN):
                self.part = drilldown.DENOMINATOR  # a count or a mean lists one set of records
            category = self.request.GET.get("category", "")
            self.category = int(category) if category.isdigit() else None
            self.own_only = self.request.GET.get("own") == "1"
        return self.figure

    def get_queryset(self):
        self.setup_figure()
        if isinstance(self.kpi, MeetingKpi):
            return drilldown.branches(self.figure, self.request.user).order_by("path")
        queryset = drilldown.record_queryset(self.figure, self.part, self.request.user, category=self.category)
        if self.own_only:
            queryset = queryset.filter(**{self.kpi.org: self.unit})
        related = _related(self.kpi)
        return queryset.select_related(*related).order_by(*self.ordering())

    def ordering(self):
        kpi = self.kpi
        if isinstance(kpi, EducationKpi):
            return ["employee_no"]
        window = getattr(kpi, "window", None)
        return [window.field, "pk"] if window else ["pk"]

    def get_filterset_class(self):
        return type("Filter", (DrillFilterSet,), {"Meta": type("Meta", (), {"model": self.get_queryset_model(),
                                                                            "fields": []})})

    def get_queryset_model(self):
        return OrgUnit if isinstance(self.kpi, MeetingKpi) else self.kpi.model_class

    def get_table_class(self):
        if isinstance(self.kpi, MeetingKpi):
            return MeetingTable
        return table_for(self.kpi)

    def get_table_kwargs(self):
        if isinstance(self.kpi, MeetingKpi):
            windows, met = drilldown.meeting_windows(self.figure, self.request.user)
            return {"windows": windows, "met": met}
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        figure = self.figure
        kpi_def = next((k for k in selectors.catalogue(active_only=False) if k.code == self.kpi.code), None)
        counts = drilldown.counts(figure, self.request.user)
        if isinstance(self.kpi, RecordKpi) and self.kpi.measure == COUNT:
            parts = [(drilldown.DENOMINATOR, _("Records"), counts[drilldown.DENOMINATOR])]
        elif isinstance(self.kpi, RecordKpi) and self.kpi.measure == MEAN:
            parts = [(drilldown.DENOMINATOR, self.kpi.denominator_label, counts[drilldown.DENOMINATOR])]
        else:
            parts = [
                (drilldown.DENOMINATOR, self.kpi.denominator_label, counts[drilldown.DENOMINATOR]),
                (drilldown.NUMERATOR, self.kpi.numerator_label, counts[drilldown.NUMERATOR]),
                (drilldown.REST, _("the others"), counts[drilldown.REST]),
            ]
        snapshot = figure.snapshot
        context.update(
            title=f"{self.kpi.name} · {figure.unit.name} · {figure.period.label}",
            kpi=self.kpi, kpi_def=kpi_def, figure=figure, snapshot=snapshot, part=self.part,
            parts=[(key, label, count, drill_url(self.kpi.code, figure.unit, figure.period, key))
                   for key, label, count in parts],
            list_count=counts.get(self.part) if self.category is None and not self.own_only else None,
            display_value=selectors.display(snapshot.value if snapshot else None,
                                            kpi_def.value_format if kpi_def else ValueFormat.RATE),
            dashboard_link=dashboard_url(figure.unit, figure.period),
            breadcrumbs=ancestors(figure.unit, self.request.user, PERMISSION),
            category=self.category,
            is_meeting=isinstance(self.kpi, MeetingKpi),
        )
        if self.category is None and not self.own_only and not isinstance(self.kpi, MeetingKpi):
            # The exact size of the set (the list itself pages without counting).
            context.update(row_count=counts[self.part], row_count_more=False)
        return context


class MeetingTable(tables.Table):
    """Branches with their 三会一课 windows of the period: required, met and the ones missing."""

    name = tables.Column(verbose_name=gettext_lazy("branch"), linkify=lambda record: record.get_absolute_url(),
                         orderable=False)
    required = tables.Column(verbose_name=gettext_lazy("required windows"), empty_values=(), orderable=False)
    met_count = tables.Column(verbose_name=gettext_lazy("windows met"), empty_values=(), orderable=False)
    missing = tables.Column(verbose_name=gettext_lazy("missing"), empty_values=(), orderable=False)

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle"}

    def __init__(self, *args, windows=(), met=None, **kwargs):
        self.windows, self.met = list(windows), met or {}
        super().__init__(*args, **kwargs)

    def render_required(self, record):
        return len(self.windows)

    def render_met_count(self, record):
        return len(self.met.get(record.pk, ()))

    def render_missing(self, record):
        from activities.choices import ActivityType

        labels = dict(ActivityType.choices)
        done = self.met.get(record.pk, set())
        missing = [w for i, w in enumerate(self.windows) if i not in done]
        if not missing:
            return "—"
        return format_html(
            "{}", "；".join(
                f"{labels.get(w.type, w.type)} {timezone.localtime(w.start):%Y-%m}" for w in missing
            )
        )

    def value_required(self, record):
        return self.render_required(record)

    def value_met_count(self, record):
        return self.render_met_count(record)

    def value_missing(self, record):
        return self.render_missing(record)
