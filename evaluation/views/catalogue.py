"""KPI catalogue, targets per unit and year, manual KPI values."""
from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from portal.generic import ObjectDeleteView, ObjectEditView, ObjectListView

from .. import services
from ..engine import ensure_catalogue
from ..filtersets import KpiDefinitionFilterSet, KpiTargetFilterSet, ManualValueFilterSet
from ..forms import KpiDefinitionForm, KpiTargetForm, ManualValueForm
from ..models import KpiDefinition, KpiTarget, ManualKpiValue
from ..tables import KpiDefinitionTable, KpiTargetTable, ManualValueTable


class KpiListView(ObjectListView):
    permission = "kpis.catalogue_view"
    queryset = KpiDefinition.objects.all()
    filterset_class = KpiDefinitionFilterSet
    table_class = KpiDefinitionTable
    create_url_name = "evaluation:kpi_create"
    create_permission = "kpis.catalogue"
    export_basename = "kpi-catalogue"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        ensure_catalogue()
        return super().get(request, *args, **kwargs)


class KpiEditView(ObjectEditView):
    permission = "kpis.catalogue"
    queryset = KpiDefinition.objects.all()
    form_class = KpiDefinitionForm
    success_url = reverse_lazy("evaluation:kpi_list")

    def form_valid(self, form):
        if self.object is None:
            # The primary key is the code the user typed: the generic view would look for (and
            # lock) a row that does not exist yet. The catalogue is not scoped, so just create it.
            with transaction.atomic():
                self.object = form.save()
            messages.success(self.request, _("Saved."))
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class TargetListView(ObjectListView):
    permission = "kpis.targets"
    queryset = KpiTarget.objects.select_related("kpi", "org_unit")
    filterset_class = KpiTargetFilterSet
    table_class = KpiTargetTable
    create_url_name = "evaluation:target_create"
    export_basename = "kpi-targets"


class TargetEditView(ObjectEditView):
    permission = "kpis.targets"
    queryset = KpiTarget.objects.select_related("kpi", "org_unit")
    form_class = KpiTargetForm
    success_url = reverse_lazy("evaluation:target_list")

    def save_form(self, form):
        form.instance.updated_by = self.request.user
        return form.save()


class TargetDeleteView(ObjectDeleteView):
    permission = "kpis.targets"
    queryset = KpiTarget.objects.all()
    success_url = reverse_lazy("evaluation:target_list")


class ManualValueListView(ObjectListView):
    permission = "kpis.manual"
    queryset = ManualKpiValue.objects.select_related("kpi", "org_unit", "entered_by")
    filterset_class = ManualValueFilterSet
    table_class = ManualValueTable
    create_url_name = "evaluation:manual_create"
    export_basename = "manual-kpi-values"


class ManualValueEditView(ObjectEditView):
    permission = "kpis.manual"
    queryset = ManualKpiValue.objects.select_related("kpi", "org_unit")
    form_class = ManualValueForm
    success_url = reverse_lazy("evaluation:manual_list")

    def save_form(self, form):
        form.instance.entered_by = self.request.user
        value = form.save()
        services.manual_value_saved(value)
        return value


class ManualValueDeleteView(ObjectDeleteView):
    permission = "kpis.manual"
    queryset = ManualKpiValue.objects.all()
    success_url = reverse_lazy("evaluation:manual_list")

    def form_valid(self, form):
        with transaction.atomic():
            services.manual_value_deleted(self.object)
            self.object.delete()
        messages.success(self.request, _("Deleted."))
        return HttpResponseRedirect(self.get_success_url())
