"""Tables of the shared kit's own pages."""
import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from . import dataexchange
from .models import ImportBatch


class ImportBatchTable(tables.Table):
    uploaded_at = tables.DateTimeColumn(format="Y-m-d H:i", linkify=("portal:import_batch", {"pk": tables.A("pk")}))
    kind = tables.Column(verbose_name=_("kind"))
    rows = tables.Column(verbose_name=_("rows"), accessor="preview__rows", default="—", orderable=False)

    class Meta:
        model = ImportBatch
        fields = ["uploaded_at", "kind", "original_name", "uploaded_by", "status", "rows"]
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_status(self, record):
        return record.status_label

    def render_kind(self, value):
        try:
            return dataexchange.get_kind(value).label
        except KeyError:
            return value
