"""REST endpoints for transfers, mobile members and terms (listed in members/api.py `routes`).
Scope as on the pages; writes through the same services."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from portal.api import ScopedMixin, ScopedRelatedField, ScopedViewSet

from ..models import OrgUnit, Person
from . import services, workflow
from .models import BranchTerm, MobileMember, Transfer


def _drf_error(error: DjangoValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


class TransferSerializer(serializers.ModelSerializer):
    person = ScopedRelatedField(permission="people.view", queryset=Person.objects.all())
    from_unit = ScopedRelatedField(permission="transfers.change", queryset=OrgUnit.objects.all(), allow_null=True, required=False)
    to_unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.filter(kind__in=services.PARTY_UNIT_KINDS), allow_null=True, required=False)
    letter_numbers = serializers.SerializerMethodField()

    class Meta:
        model = Transfer
        fields = ["id", "person", "kind", "from_unit", "to_unit", "external_org", "reason", "requested_on", "report_by",
                  "status", "completed_on", "letter_numbers", "created_at"]
        read_only_fields = ["status", "completed_on", "created_at"]
        validators = []  # one open transfer per person: services.transfer_problems says so by name

    def get_letter_numbers(self, obj) -> list[str]:
        return [letter.number for letter in obj.letters.all()]


class TransferActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=workflow.Action.choices)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TransferViewSet(ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Membership transfers. Create drafts a request; POST …/act/ takes a step of the workflow."""

    queryset = Transfer.objects.select_related("person", "from_unit", "to_unit").prefetch_related("letters").order_by("-id")
    serializer_class = TransferSerializer
    read_permission = "transfers.view"
    write_permission = "transfers.change"

    def permission_for(self, request):
        if getattr(self, "action", None) == "act":
            return "transfers.view"  # who may take which step is the workflow table's (services)
        return super().permission_for(request)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.transfer_create(
                by=self.request.user, person=data["person"], kind=data["kind"], from_unit=data.get("from_unit"),
                to_unit=data.get("to_unit"), external_org=data.get("external_org", ""), reason=data["reason"],
                requested_on=data["requested_on"], report_by=data.get("report_by"))
        except DjangoValidationError as error:
            raise _drf_error(error) from None

    @extend_schema(request=TransferActionSerializer, responses={200: TransferSerializer})
    @action(detail=True, methods=["post"])
    def act(self, request, pk=None):
        transfer = self.get_object()
        step = TransferActionSerializer(data=request.data)
        step.is_valid(raise_exception=True)
        try:
            transfer = services.transfer_act(transfer=transfer, by=request.user, action=step.validated_data["action"],
                                             comment=step.validated_data["comment"])
        except DjangoValidationError as error:
            raise _drf_error(error) from None
        return Response(TransferSerializer(transfer, context=self.get_serializer_context()).data)


class MobileMemberSerializer(serializers.ModelSerializer):
    person = ScopedRelatedField(permission="mobile.change", queryset=Person.objects.all())

    class Meta:
        model = MobileMember
        fields = ["id", "person", "work_unit", "place", "contact", "started_on", "ended_on", "note"]

    def validate(self, attrs):
        instance = self.instance
        person = attrs.get("person", getattr(instance, "person", None))
        started = attrs.get("started_on", getattr(instance, "started_on", None))
        ended = attrs["ended_on"] if "ended_on" in attrs else getattr(instance, "ended_on", None)
        problems = services.mobile_period_problems(person=person, started_on=started, ended_on=ended,
                                                   exclude_pk=getattr(instance, "pk", None))
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class MobileMemberViewSet(ScopedViewSet):
    queryset = MobileMember.objects.select_related("person").order_by("-started_on", "-id")
    serializer_class = MobileMemberSerializer
    read_permission = "mobile.view"
    write_permission = "mobile.change"


class BranchTermSerializer(serializers.ModelSerializer):
    unit = ScopedRelatedField(permission="terms.change", queryset=OrgUnit.objects.all())
    term_years = serializers.IntegerField(min_value=1, max_value=10, required=False, allow_null=True)

    class Meta:
        model = BranchTerm
        fields = ["id", "unit", "elected_on", "term_years", "ends_on", "members", "closed_on"]
        read_only_fields = ["ends_on", "closed_on"]


class BranchTermViewSet(ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Branch committee terms. Create records an election (the unit's open term closes)."""

    queryset = BranchTerm.objects.select_related("unit").order_by("ends_on", "id")
    serializer_class = BranchTermSerializer
    read_permission = "terms.view"
    write_permission = "terms.change"

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.term_record_election(
                unit=data["unit"], elected_on=data["elected_on"], term_years=data.get("term_years"),
                members=data.get("members", ""), by=self.request.user)
        except DjangoValidationError as error:
            raise _drf_error(error) from None


routes = [
    ("transfers", TransferViewSet, "transfer"),
    ("mobile-members", MobileMemberViewSet, "mobile-member"),
    ("branch-terms", BranchTermViewSet, "branch-term"),
]
