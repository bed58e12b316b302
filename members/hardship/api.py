"""REST endpoints of the hardship register (listed in members/api.py `routes`). Writes go through
services.py, so the API keeps the same rules as the pages."""
from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from members.models import Person
from portal.api import ScopedRelatedField, ScopedViewSet, SlugScopedRelatedField
from portal.models import User

from . import services, workflow
from .choices import Level, ReviewOutcome
from .models import AssistanceMeasure, AssistanceRecord, HardshipHousehold


def _drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(error.message_dict)
    return serializers.ValidationError({"non_field_errors": error.messages})


def _org_filter(path: str):
    def filter_org(queryset, name, value):
        from members.models import OrgUnit

        unit = OrgUnit.objects.filter(code=value).first()
        return queryset.filter(**{f"{path}__startswith": unit.path}) if unit else queryset.none()

    return filter_org


class MeasureSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AssistanceMeasure
        fields = ["id", "pack", "kind", "description", "owner", "due_on", "done_on"]


class HouseholdSerializer(serializers.ModelSerializer):
    person = SlugScopedRelatedField(permission="hardship.change", slug_field="employee_no", queryset=Person.objects.all())
    liaison = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True))
    measures = MeasureSerializer(many=True, read_only=True)

    class Meta:
        model = HardshipHousehold
        fields = [
            "id", "ref", "person", "reason", "level", "family_size", "family_situation", "registered_on", "status",
            "left_on", "status_reason", "liaison", "last_review_on", "next_review_on", "measures",
        ]
        read_only_fields = ["ref", "status", "left_on", "status_reason", "last_review_on", "next_review_on"]
        validators = []  # one household on the register per person: the service says so beside the field

    def create(self, validated_data):
        try:
            return services.household_register(by=self.context["request"].user, **validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from None


class StepSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a, workflow.Action(a).label) for a in workflow.STATUS_ACTIONS])
    on = serializers.DateField()
    reason = serializers.CharField(max_length=500)


class ReviewSerializer(serializers.Serializer):
    reviewed_on = serializers.DateField()
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)
    level = serializers.ChoiceField(choices=Level.choices)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class HouseholdFilter(django_filters.FilterSet):
    org = django_filters.CharFilter(method=_org_filter("person__org_unit__path"), label="code of an org unit")
    person = django_filters.CharFilter(field_name="person__employee_no")
    status = django_filters.CharFilter()
    level = django_filters.CharFilter()
    review_due_by = django_filters.DateFilter(field_name="next_review_on", lookup_expr="lte")

    class Meta:
        model = HardshipHousehold
        fields = ["org", "person", "status", "level", "review_due_by"]


class HouseholdViewSet(ScopedViewSet):
    queryset = HardshipHousehold.objects.select_related("person", "liaison").prefetch_related("measures__owner")
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilter
    read_permission = "hardship.view"
    write_permission = "hardship.change"
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=StepSerializer, responses=HouseholdSerializer)
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        """Confirm out of hardship (relieve), remove (cancel) or re-register (返贫): a date and a reason."""
        household = self.get_object()
        data = StepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            household = services.household_step(household=household, by=request.user, **data.validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from None
        return Response(HouseholdSerializer(household, context=self.get_serializer_context()).data)

    @extend_schema(request=ReviewSerializer, responses=HouseholdSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        household = self.get_object()
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.household_review(household=household, by=request.user, **data.validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from None
        household.refresh_from_db()
        return Response(HouseholdSerializer(household, context=self.get_serializer_context()).data)


class AssistanceSerializer(serializers.ModelSerializer):
    household = SlugScopedRelatedField(permission="hardship.change", slug_field="ref",
                                       queryset=HardshipHousehold.objects.all())
    measure = ScopedRelatedField(permission="hardship.change", queryset=AssistanceMeasure.objects.all(),
                                 required=False, allow_null=True)
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = AssistanceRecord
        fields = ["id", "ref", "household", "measure", "given_on", "kind", "amount", "service", "evidence"]
        read_only_fields = ["ref"]

    def get_evidence(self, obj) -> str | None:
        from django.urls import reverse

        return reverse("members:hardship_evidence", args=[obj.household_id, obj.pk]) if obj.evidence else None

    def create(self, validated_data):
        try:
            return services.assistance_record(by=self.context["request"].user, **validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from None


class AssistanceFilter(django_filters.FilterSet):
    org = django_filters.CharFilter(method=_org_filter("household__person__org_unit__path"), label="code of an org unit")
    household = django_filters.CharFilter(field_name="household__ref")
    kind = django_filters.CharFilter()
    given_after = django_filters.DateFilter(field_name="given_on", lookup_expr="gte")

    class Meta:
        model = AssistanceRecord
        fields = ["org", "household", "kind", "given_after"]


class AssistanceViewSet(ScopedViewSet):
    queryset = AssistanceRecord.objects.select_related("household")
    serializer_class = AssistanceSerializer
    filterset_class = AssistanceFilter
    read_permission = "hardship.view"
    write_permission = "hardship.change"
    http_method_names = ["get", "post", "head", "options"]


routes = [
    ("hardship-households", HouseholdViewSet, "hardship-household"),
    ("hardship-assistance", AssistanceViewSet, "hardship-assistance"),
]
