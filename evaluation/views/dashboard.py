"""The manager dashboard (reads snapshots only) and the drill-down lists behind every figure."""
from __future__ import annotations

import django_filters
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from members.models import OrgUnit
from portal.generic import ObjectListView, PermissionRequiredMixin

from .. import drilldown, selectors
from .. import kpis as registry
from ..choices import RunTrigger
from ..dashboard import dashboard_page, dashboard_url, drilldown_page
from ..kpis import COUNT, MEAN, EducationKpi, MeetingKpi
from ..tables import MeetingTable, drill_table_for
from .common import ancestors, period_choices, period_from, unit_and_ancestors, unit_from

PERMISSION = "kpis.view"


class DashboardView(PermissionRequiredMixin, TemplateView):
    permission = PERMISSION
    read_replica = True  # the figures come from the replica when there is one (portal/dbrouting.py)
    template_name = "evaluation/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        period = period_from(request, default=selectors.default_period())
        unit, breadcrumbs = unit_and_ancestors(request, PERMISSION)
        context.update(
            dashboard_page(request.user, unit, period, trend=request.GET.get("trend"), rank=request.GET.get("rank")),
            title=_("KPI dashboard"), period_choices=period_choices(), breadcrumbs=breadcrumbs,
        )
        return context


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
        return drill_table_for(self.kpi)

    def get_table_kwargs(self):
        if isinstance(self.kpi, MeetingKpi):
            windows, met = drilldown.meeting_windows(self.figure, self.request.user)
            return {"windows": windows, "met": met}
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        figure, whole = self.figure, self.category is None and not self.own_only
        context.update(
            **drilldown_page(self.request.user, self.kpi, figure, self.part, whole=whole),
            title=f"{self.kpi.name} · {figure.unit.name} · {figure.period.label}",
            breadcrumbs=ancestors(figure.unit, self.request.user, PERMISSION),
            category=self.category,
        )
        return context
