"""The web import: upload a file → its batch page (checked in the background, progress shown) →
the uploader confirms → written in the background → the result. The jobs and their rules are in
portal/dataexchange/batches.py."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from . import dataexchange
from .dataexchange import batches
from .export import export_response
from .filtersets import ImportBatchFilterSet
from .forms_import import ImportUploadForm
from .generic import ObjectListView, PermissionRequiredMixin
from .models import ImportBatch
from .scope import get_visible_or_404
from .tables import ImportBatchTable


class ImportView(PermissionRequiredMixin, View):
    permission = "portal.imports"
    template_name = "portal/import.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ImportUploadForm(), "kinds": dataexchange.kinds()})

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "kinds": dataexchange.kinds()})
        batch = batches.batch_upload(kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], by=request.user)
        return redirect("portal:import_batch", pk=batch.pk)


class ImportBatchListView(ObjectListView):
    permission = "portal.import_batches"
    queryset = ImportBatch.objects.select_related("uploaded_by")
    filterset_class = ImportBatchFilterSet
    table_class = ImportBatchTable
    title = gettext_lazy("Imports")
    create_url_name = "portal:import"
    create_permission = "portal.imports"
    export_basename = "imports"


class ImportBatchView(PermissionRequiredMixin, View):
    permission = "portal.import_batches"
    template_name = "portal/import_batch.html"

    def get(self, request, pk):
        queryset = ImportBatch.objects.select_related("uploaded_by")
        batch = get_visible_or_404(queryset, request.user, self.permission, pk=pk)
        try:
            kind = dataexchange.get_kind(batch.kind)
        except KeyError:
            kind = None
        return render(request, self.template_name, {
            "batch": batch, "kind": kind, "may_apply": batches.may_apply(batch, request.user),
        })

    def post(self, request, pk):
        batch = get_visible_or_404(ImportBatch.objects.all(), request.user, self.permission, pk=pk)
        if batches.batch_request_apply(batch=batch, by=request.user):
            messages.success(request, _("The import has started; this page shows when it is done."))
        elif batch.status == ImportBatch.Status.APPLIED or batch.apply_requested_at:
            messages.info(request, _("This file has already been imported."))
        elif batch.preview.get("error_count"):
            messages.error(request, _("Nothing was imported; the file has problems."))
        else:
            messages.info(request, _("The file is still being checked."))
        return redirect("portal:import_batch", pk=pk)


class ImportTemplateView(PermissionRequiredMixin, View):
    """The kind's header in Chinese and one example row, to fill in (re-imports as it is)."""

    permission = "portal.imports"

    def get(self, request, kind):
        try:
            spec = dataexchange.get_kind(kind)
        except KeyError:
            raise Http404 from None
        rows = [spec.example] if spec.example else []
        return export_response(request.GET.get("format", "xlsx"), f"{kind}-template", spec.template_header(), rows)
