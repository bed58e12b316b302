"""Filters of the shared kit's own lists."""
import django_filters
from django.utils.translation import gettext_lazy as _

from .models import ImportBatch


class ImportBatchFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=ImportBatch.Status.choices)

    class Meta:
        model = ImportBatch
        fields = ["status"]
