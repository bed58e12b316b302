import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api import ScopedRelatedField, ScopedViewSet
from portal.scope import in_subtree, subtree_q

from .choices import PARTY_MEMBER_STATUSES
from .masking import mask_id_number, mask_phone, may_reveal
from .models import OrgUnit, Person, RevealLog
from .validators import normalize_id_number, normalize_phone


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = ScopedRelatedField(permission="orgunits.view", queryset=OrgUnit.objects.all(), allow_null=True, required=False)
    parent_code = serializers.CharField(source="parent.code", read_only=True, default=None, allow_null=True)

    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "kind", "parent", "parent_code", "depth", "sort_order", "is_active"]
        read_only_fields = ["depth"]

    def validate(self, attrs):
        # The same tree rules as the page's form: no cycles, one root.
        instance = self.instance
        parent = attrs.get("parent", instance.parent if instance else None)
        if parent and instance and in_subtree(parent, instance):
            raise serializers.ValidationError({"parent": [_("A unit cannot be placed under itself or one of its descendants.")]})
        if parent is None and OrgUnit.objects.exclude(pk=getattr(instance, "pk", None)).filter(parent=None).exists():
            raise serializers.ValidationError({"parent": [_("There is already a root unit; choose a parent unit.")]})
        return attrs


class OrgUnitFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()
    kind = django_filters.CharFilter()
    within = django_filters.CharFilter(method="filter_within", label="code of an ancestor unit")

    class Meta:
        model = OrgUnit
        fields = ["code", "kind", "within"]

    def filter_within(self, queryset, name, value):
        unit = OrgUnit.objects.filter(code=value).first()
        return queryset.filter(subtree_q(unit)) if unit else queryset.none()


class OrgUnitViewSet(ScopedViewSet):
    queryset = OrgUnit.objects.select_related("parent")
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilter
    read_permission = "orgunits.view"
    write_permission = "orgunits.change"


class PersonSerializer(serializers.ModelSerializer):
    """Phone and ID number are always masked here; POST …/reveal/ shows them and is logged."""

    org_unit = ScopedRelatedField(permission="orgunits.view", queryset=OrgUnit.objects.all())
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True)

    class Meta:
        model = Person
        fields = [
            "id", "employee_no", "name", "gender", "birth_date", "phone", "id_number", "org_unit", "org_unit_code",
            "political_status", "joined_party_on", "tags", "dual_cultivation", "position", "is_active",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["phone"] = mask_phone(instance.phone)
        data["id_number"] = mask_id_number(instance.id_number)
        return data

    def validate_phone(self, value):
        return normalize_phone(value)

    def validate_id_number(self, value):
        value = normalize_id_number(value)
        if value and Person.objects.exclude(pk=getattr(self.instance, "pk", None)).filter(id_number=value).exists():
            raise serializers.ValidationError(_("Another person already has this ID number."))
        return value

    def validate(self, attrs):
        # The same rule as the page's form.
        status = attrs.get("political_status", getattr(self.instance, "political_status", None))
        joined = attrs.get("joined_party_on", getattr(self.instance, "joined_party_on", None))
        if joined and status not in PARTY_MEMBER_STATUSES:
            raise serializers.ValidationError({"joined_party_on": [_("Only party members have a date of joining the party.")]})
        return attrs


class PersonFilter(django_filters.FilterSet):
    employee_no = django_filters.CharFilter()
    political_status = django_filters.CharFilter()
    org = django_filters.CharFilter(method="filter_org", label="org unit code (with sub-units)")
    tag = django_filters.CharFilter(method="filter_tag")

    class Meta:
        model = Person
        fields = ["employee_no", "political_status", "org", "tag"]

    def filter_org(self, queryset, name, value):
        unit = OrgUnit.objects.filter(code=value).first()
        return queryset.filter(subtree_q(unit, "org_unit")) if unit else queryset.none()

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value])


class PersonViewSet(ScopedViewSet):
    queryset = Person.objects.select_related("org_unit")
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    read_permission = "people.view"
    write_permission = "people.change"
    delete_permission = "people.delete"  # as on the pages: administrators only

    @extend_schema(request=None, responses={200: {"type": "object"}})
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """Unmasked phone and ID number; logged with who and when."""
        person = self.get_object()  # scoped by people.view (permission_for); 404 outside or for a bad id
        if not may_reveal(request.user, person):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("您没有查看敏感信息的权限。")
        RevealLog.objects.create(user=request.user, person=person, field=RevealLog.Field.API,
                                 ip_address=request.META.get("REMOTE_ADDR"))
        return Response({"phone": person.phone, "id_number": person.id_number})

    def permission_for(self, request):
        if getattr(self, "action", None) == "reveal":
            return "people.view"
        return super().permission_for(request)


routes = [
    ("orgunits", OrgUnitViewSet, "orgunit"),
    ("people", PersonViewSet, "person"),
]

from .hardship.api import routes as hardship_routes  # noqa: E402

routes += hardship_routes

from .partyorg.api import routes as partyorg_routes  # noqa: E402

routes += partyorg_routes
