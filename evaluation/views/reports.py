"""Monthly diagnostic reports: list, request, printable page, download (scope-checked). The page and
the download show a report's frozen content (evaluation.reports.freeze)."""
from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.generic import ObjectListView, PermissionRequiredMixin
from portal.roles import has_permission
from portal.scope import get_visible_or_404
from portal.uploads import file_response

from .. import reports
from ..choices import ReportStatus
from ..filtersets import ReportFilterSet
from ..forms import ReportRequestForm
from ..models import MonthlyReport
from ..periods import Period
from ..tables import ReportTable
from .common import home_unit

VIEW = "reports.view"


class ReportListView(ObjectListView):
    permission = VIEW
    queryset = MonthlyReport.objects.select_related("org_unit", "requested_by", "requested_by__person")
    filterset_class = ReportFilterSet
    table_class = ReportTable
    template_name = "evaluation/report_list.html"
    export_basename = "monthly-reports"
    request_form = None  # a request that failed validation, shown again with its errors

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if self.request_form is not None:
            context["request_form"] = self.request_form
        elif has_permission(user, "reports.generate"):
            unit = home_unit(user, "reports.generate")
            from django.utils import timezone

            context["request_form"] = ReportRequestForm(
                user=user, initial={"period": Period.containing(timezone.now(), "month").previous().key,
                                    "org_unit": unit})
        context["title"] = _("Monthly diagnostic reports")
        return context


class ReportRequestView(PermissionRequiredMixin, View):
    permission = "reports.generate"

    def post(self, request):
        form = ReportRequestForm(request.POST, user=request.user)
        if not form.is_valid():
            # The list again with the request form open: each error beside its picker, the input kept.
            if not has_permission(request.user, VIEW):
                raise PermissionDenied
            view = ReportListView(request_form=form)
            view.setup(request)
            response = view.get(request)
            response.status_code = 400
            return response
        report = reports.request_report(period=Period.parse(form.cleaned_data["period"]),
                                        unit=form.cleaned_data["org_unit"], by=request.user)
        messages.success(request, _("The report of %(month)s for %(unit)s is being generated.")
                         % {"month": report.period, "unit": report.org_unit.name})
        return redirect("evaluation:report_list")


class ReportPrintView(PermissionRequiredMixin, TemplateView):
    """The printable page: the same content as the workbook, from the snapshots."""

    permission = VIEW
    template_name = "evaluation/report_print.html"
    read_replica = True  # portal/dbrouting.py

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = get_visible_or_404(MonthlyReport.objects.select_related("org_unit"), self.request.user, VIEW,
                                    pk=self.kwargs["pk"])
        content = report.content
        if content is None:  # not generated yet (or failed): nothing issued to show
            context.update(title=_("Monthly diagnostic report"), report=report, data=None, kpi_rows=[], change_rows=[],
                           weak_rows=[])
            return context
        # The stored content as issued: the same the workbook holds, whatever happened since.
        data = SimpleNamespace(
            unit=SimpleNamespace(**content["unit"]), period=SimpleNamespace(key=content["period"],
                                                                            label=content["period_label"]),
            as_of=datetime.datetime.fromisoformat(content["as_of"]) if content["as_of"] else None,
            generated_at=datetime.datetime.fromisoformat(content["generated_at"]),
            overdue=[SimpleNamespace(title=lst["title"], more=lst["more"],
                                     rows=[(row["text"], datetime.date.fromisoformat(row["due"])) for row in lst["rows"]])
                     for lst in content["overdue"]],
        )
        context.update(
            title=_("Monthly diagnostic report"), report=report, data=data,
            kpi_rows=content["kpis"], change_rows=content["changes"], weak_rows=content["weakest"],
            hot_topics=content.get("hot_topics", []),
            hardship=content.get("hardship"),
        )
        return context


class ReportDownloadView(PermissionRequiredMixin, View):
    permission = VIEW

    def get(self, request, pk):
        report = get_visible_or_404(MonthlyReport.objects.select_related("org_unit"), request.user, VIEW, pk=pk)
        if report.status != ReportStatus.DONE or not report.file:
            raise Http404
        return file_response(report.file, report.download_name, inline=False)
