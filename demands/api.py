"""REST endpoints: demands (with their events), mediation cases, visits and life events.
Scope is that of the pages (portal.api.ScopedMixin → portal.scope.visible); out-of-scope ids
answer 404; bad input answers 400 with field errors. Demands change only through the workflow
services, so the API creates demands but does not edit them."""
from __future__ import annotations

import functools

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from members.hardship.models import HardshipHousehold
from members.models import OrgUnit, Person
from portal.api import ScopedReadOnlyViewSet, ScopedViewSet, SlugScopedRelatedField
from portal.scope import visible

from . import services, text_services
from .choices import Channel, Urgency, VisitKind
from .models import Demand, DemandCategory, DemandEvent, LifeEvent, MediationCase, Visit


def _org_filter(path_lookup: str):
    def method(queryset, name, value):
        unit = OrgUnit.objects.filter(code=value).first()
        return queryset.filter(**{f"{path_lookup}__startswith": unit.path}) if unit else queryset.none()

    return method


@functools.cache
def _read_fields(serializer_class) -> tuple[str, ...]:
    """The model fields a serializer reads, the related records' through their sources
    (`category.code` → `category__code`): what `.only()` needs, derived so it cannot drift."""
    return tuple(field.source.replace(".", "__") for field in serializer_class().fields.values())


# --- Demands ---------------------------------------------------------------------------------------------
class DemandEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = DemandEvent
        fields = ["seq", "action", "from_status", "to_status", "actor", "at", "note", "data", "prev_hash", "hash"]

    def get_actor(self, obj) -> str:
        return obj.actor.username if obj.actor_id else obj.actor_label


class DemandSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    org_unit = serializers.CharField(source="org_unit.code", read_only=True)
    submitter = serializers.CharField(source="submitter.employee_no", read_only=True, default=None, allow_null=True)
    submitter_name = serializers.CharField(source="submitter.name", read_only=True, default=None, allow_null=True)
    lead_unit = serializers.CharField(source="lead_unit.code", read_only=True, default=None, allow_null=True)
    handler = serializers.CharField(source="handler.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Demand
        fields = [
            "id", "ref", "title", "content", "category", "category_name", "urgency", "channel", "service_group",
            "org_unit", "submitter", "submitter_name", "status", "received_at", "response_due_at", "first_response_at",
            "resolution_due_at", "resolved_at", "return_visit_at", "rating", "rating_comment", "resolution",
            "lead_unit", "handler", "escalated_at",
        ]
        read_only_fields = fields


class DemandDetailSerializer(DemandSerializer):
    events = DemandEventSerializer(many=True, read_only=True)
    cooperating_units = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta(DemandSerializer.Meta):
        fields = DemandSerializer.Meta.fields + ["cooperating_units", "events"]
        read_only_fields = fields


class DemandCreateSerializer(serializers.Serializer):
    """Intake through the API, with the rules of the intake page: on behalf of people in scope
    (staff, secretaries), otherwise one's own demand."""

    title = serializers.CharField(max_length=200)
    content = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    category = serializers.CharField(max_length=50, help_text="category code or name")
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    org_unit = serializers.CharField(max_length=50, required=False, help_text="org unit code (staff: default the submitter's unit)")
    submitter = serializers.CharField(max_length=30, required=False, allow_null=True, help_text="employee number; empty: anonymous (staff only)")

    def validate_category(self, value):
        category = DemandCategory.objects.filter(is_active=True).filter(code__iexact=value.strip()).first() or \
            DemandCategory.objects.filter(is_active=True, name=value.strip()).first()
        if category is None:
            raise serializers.ValidationError("没有这个类别。")
        return category

    def validate(self, attrs):
        user = self.context["request"].user
        on_behalf = services.may_submit_on_behalf(user)
        submitter = unit = None
        if on_behalf and attrs.get("submitter"):
            submitter = visible(Person.objects.filter(employee_no=attrs["submitter"]), user, "demands.submit").select_related("org_unit").first()
            if submitter is None:
                raise serializers.ValidationError({"submitter": "您的管辖范围内没有这个工号。"})
        if on_behalf and attrs.get("org_unit"):
            unit = visible(OrgUnit.objects.filter(code=attrs["org_unit"]), user, "orgunits.view").first()
            if unit is None:
                raise serializers.ValidationError({"org_unit": "您的管辖范围内没有这个组织。"})
        try:
            submitter, unit = services.intake_parties(by=user, submitter=submitter, org_unit=unit, channel=attrs.get("channel"))
        except DjangoValidationError as error:
            raise serializers.ValidationError(getattr(error, "message_dict", None) or {"submitter": error.messages}) from None
        attrs["submitter"], attrs["org_unit"] = submitter, unit
        default = (Channel.STAFF_ENTRY if submitter else Channel.ANONYMOUS) if on_behalf else Channel.SELF_SERVICE
        attrs.setdefault("channel", default)
        return attrs


class ClassifyRequestSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    org_unit = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="",
        help_text="code of the demand's unit (for the suggested lead unit); optional",
    )

    def validate_org_unit(self, value):
        if not value:
            return None
        unit = OrgUnit.objects.filter(code=value, is_active=True).first()
        if unit is None:
            raise serializers.ValidationError(_("No active org unit has this code."))
        return unit


class RankedCategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    probability = serializers.FloatField()


class ClassifyResponseSerializer(serializers.Serializer):
    categories = RankedCategorySerializer(many=True, help_text="best first")
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    urgency_cues = serializers.ListField(child=serializers.CharField())
    tone = serializers.ChoiceField(choices=["strong_negative", "negative", "neutral", "positive"])
    tone_words = serializers.ListField(child=serializers.CharField())
    lead_unit = serializers.CharField(allow_null=True, help_text="org unit code")
    lead_unit_name = serializers.CharField(allow_null=True)
    lead_unit_confidence = serializers.FloatField(allow_null=True)
    model_version = serializers.IntegerField()
    model_source = serializers.CharField(help_text="corpus (cold start) or history")


class DemandFilter(django_filters.FilterSet):
    ref = django_filters.CharFilter()
    status = django_filters.CharFilter()
    category = django_filters.CharFilter(field_name="category__code")
    urgency = django_filters.CharFilter()
    org = django_filters.CharFilter(method=_org_filter("org_unit__path"), label="org unit code (with sub-units)")
    handler = django_filters.CharFilter(field_name="handler__username")
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Demand
        fields = ["ref", "status", "category", "urgency", "org", "handler", "received_after", "received_before"]


class DemandViewSet(ScopedReadOnlyViewSet):
    """Demands in scope. GET /demands/{id}/ includes the events; /demands/{id}/events/ lists
    them alone. POST /demands/ receives a new demand (待受理)."""

    queryset = Demand.objects.select_related("category", "org_unit", "submitter", "lead_unit", "handler")
    serializer_class = DemandSerializer
    filterset_class = DemandFilter
    read_permission = "demands.view"
    write_permission = "demands.submit"
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return DemandDetailSerializer
        if self.action == "create":
            return DemandCreateSerializer
        return DemandSerializer

    def get_queryset(self):
        # What the serializers read of the related records, not their whole rows (the handler's
        # account, the submitter's person): a page of fifty demands loads 35 columns, not 100.
        queryset = super().get_queryset().only(*_read_fields(DemandSerializer))
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("cooperating_units", "events", "events__actor")
        return queryset

    @extend_schema(request=DemandCreateSerializer, responses={201: DemandDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = DemandCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        demand = services.demand_submit(
            title=data["title"], content=data.get("content", ""), category=data["category"], urgency=data["urgency"],
            channel=data["channel"], org_unit=data["org_unit"], submitter=data["submitter"], by=request.user,
        )
        demand = Demand.objects.select_related("category", "org_unit", "submitter").prefetch_related("events").get(pk=demand.pk)
        return Response(DemandDetailSerializer(demand, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ClassifyRequestSerializer, responses={
        200: ClassifyResponseSerializer,
        409: OpenApiResponse(OpenApiTypes.OBJECT, description="No text model yet: fewer than two active categories have examples."),
    })
    @action(detail=False, methods=["post"])
    def classify(self, request):
        """Suggested categories (ranked, with probabilities), urgency, tone and lead unit for a text.
        A suggestion only: nothing is stored."""
        serializer = ClassifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            suggestion = text_services.suggest(data["title"], data.get("content", ""), org_unit=data.get("org_unit"))
        except text_services.NoModel as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(ClassifyResponseSerializer({
            "categories": [{"code": c.code, "name": c.name, "probability": round(p, 4)} for c, p in suggestion.categories],
            "urgency": suggestion.urgency, "urgency_cues": suggestion.urgency_cues,
            "tone": suggestion.tone, "tone_words": suggestion.tone_words,
            "lead_unit": suggestion.lead_unit.code if suggestion.lead_unit else None,
            "lead_unit_name": suggestion.lead_unit.name if suggestion.lead_unit else None,
            "lead_unit_confidence": round(suggestion.lead_unit_confidence, 4) if suggestion.lead_unit_confidence is not None else None,
            "model_version": suggestion.model.version, "model_source": suggestion.model.source,
        }).data)

    @extend_schema(responses={200: DemandEventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        demand = self.get_object()
        events = demand.events.select_related("actor").order_by("seq")
        return Response(DemandEventSerializer(events, many=True).data)


# --- Mediation cases -----------------------------------------------------------------------------------------
class MediationSerializer(serializers.ModelSerializer):
    org_unit = SlugScopedRelatedField(permission="orgunits.view", slug_field="code", queryset=OrgUnit.objects.all())
    demand = SlugScopedRelatedField(permission="demands.view", slug_field="ref", queryset=Demand.objects.all(),
                                    allow_null=True, required=False)
    parties = SlugScopedRelatedField(permission="people.view", slug_field="employee_no", queryset=Person.objects.all(),
                                     many=True, required=False)
    mediators = SlugScopedRelatedField(permission="people.view", slug_field="employee_no", queryset=Person.objects.all(),
                                       many=True, required=False)

    class Meta:
        model = MediationCase
        fields = ["id", "ref", "title", "demand", "org_unit", "opened_at", "concluded_at", "outcome", "description",
                  "parties", "other_parties", "mediators", "agreement"]
        read_only_fields = ["ref"]

    def validate(self, attrs):
        for field in ("opened_at", "concluded_at"):
            if attrs.get(field):
                attrs[field] = attrs[field].replace(microsecond=0)  # exports write seconds
        instance = self.instance
        concluded = attrs.get("concluded_at", instance.concluded_at if instance else None)
        outcome = attrs.get("outcome", instance.outcome if instance else "")
        opened = attrs.get("opened_at", instance.opened_at if instance else None)
        if (concluded is None) != (not outcome):
            raise serializers.ValidationError({"outcome": "结果与结案时间须同时填写或同时为空。"})
        if concluded and opened and concluded < opened:
            raise serializers.ValidationError({"concluded_at": "结案时间不能早于受理时间。"})
        return attrs

    def create(self, validated_data):
        validated_data["ref"] = services.next_ref(MediationCase, validated_data.get("opened_at"))
        validated_data["created_by"] = self.context["request"].user
        return super().create(validated_data)


class MediationFilter(django_filters.FilterSet):
    org = django_filters.CharFilter(method=_org_filter("org_unit__path"))
    outcome = django_filters.CharFilter()
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")

    class Meta:
        model = MediationCase
        fields = ["org", "outcome", "opened_after"]


class MediationViewSet(ScopedViewSet):
    queryset = MediationCase.objects.select_related("org_unit", "demand").prefetch_related("parties", "mediators")
    serializer_class = MediationSerializer
    filterset_class = MediationFilter
    read_permission = "mediation.view"
    write_permission = "mediation.change"
    http_method_names = ["get", "post", "patch", "head", "options"]


# --- Visits and life events -------------------------------------------------------------------------------------
class VisitSerializer(serializers.ModelSerializer):
    person = SlugScopedRelatedField(permission="visits.change", slug_field="employee_no", queryset=Person.objects.all())
    visitor = SlugScopedRelatedField(permission="people.view", slug_field="employee_no", queryset=Person.objects.all())
    life_event = SlugScopedRelatedField(permission="lifeevents.view", slug_field="ref", queryset=LifeEvent.objects.all(),
                                        allow_null=True, required=False)
    hardship_household = SlugScopedRelatedField(permission="hardship.view", slug_field="ref",
                                                queryset=HardshipHousehold.objects.all(), allow_null=True, required=False)
    kind = serializers.ChoiceField(choices=VisitKind.choices, required=False,
                                   help_text="Empty: 五必访 with a life event, hardship with a household, else routine.")
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = ["id", "ref", "person", "visitor", "visited_on", "kind", "life_event", "hardship_household", "notes", "photos"]
        read_only_fields = ["ref"]

    def get_photos(self, obj) -> list[str]:
        from django.urls import reverse

        return [reverse("demands:visit_photo", args=[obj.pk, p.pk]) for p in obj.photos.all()]

    def validate(self, attrs):
        """The visit rules of services.visit_problems, on the record as it will be (a change names
        only some fields)."""
        def final(name):
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        person, event, household = final("person"), final("life_event"), final("hardship_household")
        problems = services.visit_problems(
            person_id=getattr(person, "pk", None), visited_on=final("visited_on"),
            life_event_person_id=getattr(event, "person_id", None), household_person_id=getattr(household, "person_id", None),
        )
        if problems:
            raise serializers.ValidationError(problems)
        if "kind" in attrs or self.instance is None:
            attrs["kind"] = services.visit_kind(attrs.get("kind"), life_event_id=getattr(event, "pk", None),
                                                household_id=getattr(household, "pk", None))
        return attrs

    def create(self, validated_data):
        try:
            return services.visit_log(by=self.context["request"].user, **validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None


class VisitFilter(django_filters.FilterSet):
    org = django_filters.CharFilter(method=_org_filter("person__org_unit__path"))
    person = django_filters.CharFilter(field_name="person__employee_no")
    kind = django_filters.CharFilter()
    visited_after = django_filters.DateFilter(field_name="visited_on", lookup_expr="gte")

    class Meta:
        model = Visit
        fields = ["org", "person", "kind", "visited_after"]


class VisitViewSet(ScopedViewSet):
    queryset = Visit.objects.select_related("person", "visitor", "life_event", "hardship_household").prefetch_related("photos")
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    read_permission = "visits.view"
    write_permission = "visits.change"
    http_method_names = ["get", "post", "patch", "head", "options"]


class LifeEventSerializer(serializers.ModelSerializer):
    person = SlugScopedRelatedField(permission="lifeevents.change", slug_field="employee_no", queryset=Person.objects.all())

    class Meta:
        model = LifeEvent
        fields = ["id", "ref", "person", "kind", "event_date", "visit_due_on", "visited_on", "note"]
        read_only_fields = ["ref", "visit_due_on", "visited_on"]

    def create(self, validated_data):
        try:
            return services.life_event_record(by=self.context["request"].user, **validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None


class LifeEventFilter(django_filters.FilterSet):
    org = django_filters.CharFilter(method=_org_filter("person__org_unit__path"))
    person = django_filters.CharFilter(field_name="person__employee_no")
    kind = django_filters.CharFilter()
    date_after = django_filters.DateFilter(field_name="event_date", lookup_expr="gte")
    # ?visited=false: the 五必访 still to do (the partial index of the events not visited).
    visited = django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method="filter_visited")

    class Meta:
        model = LifeEvent
        fields = ["org", "person", "kind", "date_after", "visited"]

    def filter_visited(self, queryset, name, value):
        return queryset.filter(visited_on__isnull=value == "false")


class LifeEventViewSet(ScopedViewSet):
    queryset = LifeEvent.objects.select_related("person")
    serializer_class = LifeEventSerializer
    filterset_class = LifeEventFilter
    read_permission = "lifeevents.view"
    write_permission = "lifeevents.change"
    http_method_names = ["get", "post", "patch", "head", "options"]


routes = [
    ("demands", DemandViewSet, "demand"),
    ("mediations", MediationViewSet, "mediation"),
    ("visits", VisitViewSet, "visit"),
    ("life-events", LifeEventViewSet, "life-event"),
]
