import django_filters
from django.utils.translation import gettext_lazy as _

from portal.filters import SearchFilter, SubtreeFilter, YearFilter

from .choices import CampaignStatus, KpiKind, ReportStatus
from .models import AppraisalRound, Campaign, KpiDefinition, KpiTarget, ManualKpiValue, MonthlyReport


class KpiDefinitionFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=KpiKind.choices)

    class Meta:
        model = KpiDefinition
        fields = ["kind", "is_active"]


class KpiTargetFilterSet(django_filters.FilterSet):
    year = YearFilter(label=_("year"))
    kpi = django_filters.ModelChoiceFilter(label=_("KPI"), queryset=KpiDefinition.objects.all())
    org_unit = SubtreeFilter(queryset=KpiTarget._meta.get_field("org_unit").related_model.objects.all())

    class Meta:
        model = KpiTarget
        fields = ["year", "kpi", "org_unit"]


class ManualValueFilterSet(django_filters.FilterSet):
    period = django_filters.CharFilter(label=_("period"))
    kpi = django_filters.ModelChoiceFilter(label=_("KPI"), queryset=KpiDefinition.objects.filter(kind=KpiKind.MANUAL))
    org_unit = SubtreeFilter(queryset=ManualKpiValue._meta.get_field("org_unit").related_model.objects.all())

    class Meta:
        model = ManualKpiValue
        fields = ["period", "kpi", "org_unit"]


class CampaignFilterSet(django_filters.FilterSet):
    q = SearchFilter(field_name="name", lookup_expr="icontains")
    year = YearFilter(label=_("year"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=CampaignStatus.choices)

    class Meta:
        model = Campaign
        fields = ["q", "year", "status"]


class AppraisalFilterSet(django_filters.FilterSet):
    q = SearchFilter(field_name="name", lookup_expr="icontains")
    year = YearFilter(label=_("year"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=CampaignStatus.choices)

    class Meta:
        model = AppraisalRound
        fields = ["q", "year", "status"]


class ReportFilterSet(django_filters.FilterSet):
    period = django_filters.CharFilter(label=_("month"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=ReportStatus.choices)
    org_unit = SubtreeFilter(queryset=MonthlyReport._meta.get_field("org_unit").related_model.objects.all())

    class Meta:
        model = MonthlyReport
        fields = ["period", "status", "org_unit"]
