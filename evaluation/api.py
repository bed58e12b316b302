"""API: KPI snapshots (`/api/kpis/?period=P&org=CODE`) and evaluation campaigns with their results.
Scope and permissions are those of the pages; bad input answers 400 with field errors."""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from members.models import OrgUnit
from portal.api import ScopedMixin, ScopedReadOnlyViewSet
from portal.scope import visible

from . import selectors
from .models import Campaign, KpiDefinition, KpiSnapshot
from .periods import LOCAL_TZ, Period


class SnapshotPagination(PageNumberPagination):
    """Snapshots of one period: at most units × KPIs rows, paged by number."""

    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 2000


class KpiSnapshotSerializer(serializers.ModelSerializer):
    org_code = serializers.CharField(source="org_unit.code", read_only=True)
    org_name = serializers.CharField(source="org_unit.name", read_only=True)
    kpi = serializers.CharField(source="kpi_id", read_only=True)
    value = serializers.SerializerMethodField()
    as_of = serializers.SerializerMethodField()

    class Meta:
        model = KpiSnapshot
        fields = ["org_code", "org_name", "period", "kpi", "value", "numerator", "denominator", "as_of", "computed_at"]

    def get_value(self, obj) -> float | None:
        formats = self.context.get("formats", {})
        value = selectors.rounded(obj.value, formats.get(obj.kpi_id, ""))
        return None if value is None else float(value) if not isinstance(value, int) else value

    def get_as_of(self, obj) -> str:
        return obj.as_of.astimezone(LOCAL_TZ).isoformat()


class KpiSnapshotViewSet(ScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stored KPI figures of a period for the org units in scope, or for one unit (`org`).
    Values of rates are fractions rounded to 4 decimals; empty when the denominator is 0."""

    queryset = KpiSnapshot.objects.select_related("org_unit")
    serializer_class = KpiSnapshotSerializer
    pagination_class = SnapshotPagination
    filter_backends: list = []
    read_permission = "kpis.view"

    def get_queryset(self):
        params = self.request.query_params
        errors = {}
        period = None
        if not params.get("period"):
            errors["period"] = [_("A period is required (YYYY-MM, YYYY-Qn or YYYY).")]
        else:
            try:
                period = Period.parse(params["period"])
            except ValueError as error:
                errors["period"] = [str(error)]
        unit = None
        if params.get("org"):
            unit = visible(OrgUnit.objects.all(), self.request.user, self.read_permission).filter(
                code=params["org"]).first()
            if unit is None:
                errors["org"] = [_("No org unit has the code “%(code)s”.") % {"code": params["org"]}]
        if params.get("kpi") and not KpiDefinition.objects.filter(code=params["kpi"]).exists():
            errors["kpi"] = [_("No KPI has the code “%(code)s”.") % {"code": params["kpi"]}]
        if errors:
            raise ValidationError(errors)
        queryset = super().get_queryset().filter(period=period.key)
        if unit is not None:
            queryset = queryset.filter(org_unit=unit)
        if params.get("kpi"):
            queryset = queryset.filter(kpi_id=params["kpi"])
        return queryset.order_by("org_unit__path", "kpi_id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["formats"] = dict(KpiDefinition.objects.values_list("code", "value_format"))
        return context

    @extend_schema(parameters=[
        OpenApiParameter("period", OpenApiTypes.STR, required=True, description="YYYY-MM, YYYY-Qn or YYYY",
                         pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"),
        OpenApiParameter("org", OpenApiTypes.STR, description="org unit code"),
        OpenApiParameter("kpi", OpenApiTypes.STR, description="KPI code"),
    ])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class CampaignSerializer(serializers.ModelSerializer):
    org_code = serializers.CharField(source="org_unit.code", read_only=True)
    subjects = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    groups = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "year", "org_code", "status", "opens_on", "closes_on", "subjects", "groups"]

    def get_groups(self, obj) -> list[dict]:
        return [{"kind": g.kind, "weight": float(g.weight), "anonymous": g.anonymous} for g in obj.groups.all()]


class CampaignViewSet(ScopedReadOnlyViewSet):
    queryset = Campaign.objects.select_related("org_unit").prefetch_related("subjects", "groups")
    serializer_class = CampaignSerializer
    read_permission = "campaigns.manage"

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """Weighted results per unit: mean sheet total per rater group, weighted score, rank."""
        campaign = self.get_object()
        data = selectors.campaign_results(campaign)
        return Response({
            "campaign": campaign.pk,
            "groups": [{"id": g.pk, "kind": g.kind, "weight": float(g.weight)} for g in data["groups"]],
            "indicators": [{"id": i.pk, "name": i.name, "max_score": float(i.max_score)} for i in data["indicators"]],
            "results": [
                {"org_code": r["subject"].code, "org_name": r["subject"].name, "rank": r.get("rank"),
                 "weighted_score": r["total"], "complete": r["complete"], "sheets": r["sheets"],
                 "groups": dict(zip([g.kind for g in data["groups"]], r["groups"])),
                 "indicators": dict(zip([i.name for i in data["indicators"]], r["indicators"]))}
                for r in data["rows"]
            ],
        })


routes = [
    ("kpis", KpiSnapshotViewSet, "kpi"),
    ("campaigns", CampaignViewSet, "campaign"),
]
