import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import OrgUnit
from portal.filters import SearchFilter, SubtreeFilter, YearFilter
from portal.scope import visible

from .choices import Level, MeasureKind, Reason, Status
from .models import AssistanceRecord, HardshipHousehold
from .selectors import on_register_in_year_q


def _scoped_units(request):
    if request is None:
        return OrgUnit.objects.none()
    return visible(OrgUnit.objects.all(), request.user, "orgunits.view")


class HouseholdFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("name, employee number or reference"))
    org_unit = SubtreeFilter(queryset=_scoped_units, path_lookup="person__org_unit__path")
    status = django_filters.ChoiceFilter(label=_("status"), choices=Status.choices)
    level = django_filters.ChoiceFilter(label=_("hardship level"), choices=Level.choices)
    reason = django_filters.ChoiceFilter(label=_("cause of hardship"), choices=Reason.choices)
    year = YearFilter(label=_("on the register in year"), method="filter_year")

    class Meta:
        model = HardshipHousehold
        fields = ["q", "org_unit", "status", "level", "reason", "year"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(ref__iexact=value) | Q(person__employee_no__istartswith=value)
                               | Q(person__name__istartswith=value))

    def filter_year(self, queryset, name, value):
        return queryset.filter(on_register_in_year_q(int(value))) if value else queryset


class AssistanceFilterSet(django_filters.FilterSet):
    org_unit = SubtreeFilter(queryset=_scoped_units, path_lookup="household__person__org_unit__path")
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=MeasureKind.choices)
    year = YearFilter(label=_("year"), field_name="given_on", lookup_expr="year")

    class Meta:
        model = AssistanceRecord
        fields = ["org_unit", "kind", "year"]
