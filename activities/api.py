"""REST resources: activities with their attendance, responsibility items, activity projects.
Scoped exactly like the pages (portal.api)."""
import django_filters
from django.db.models import Prefetch
from rest_framework import serializers

from members.models import OrgUnit, Person
from portal.api import ScopedReadOnlyViewSet, ScopedRelatedField, ScopedViewSet
from portal.scope import subtree_q

from .choices import ActivityStatus
from .models import Activity, Attendance, Milestone, Project, ResponsibilityItem
from .services import item_deadline_problem


class AttendanceSerializer(serializers.ModelSerializer):
    employee_no = serializers.CharField(source="person.employee_no", read_only=True)
    name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Attendance
        fields = ["person", "employee_no", "name", "status", "checked_in_at", "source", "leave_reason"]


class ActivitySerializer(serializers.ModelSerializer):
    org_unit = ScopedRelatedField(permission="activities.change", queryset=OrgUnit.objects.all())
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True)
    attendance = AttendanceSerializer(source="attendances", many=True, read_only=True)

    class Meta:
        model = Activity
        fields = ["id", "ref", "type", "title", "org_unit", "org_unit_code", "held_at", "location", "agenda",
                  "status", "minutes", "attendance"]
        read_only_fields = ["ref"]

    def validate(self, attrs):
        from django.utils import timezone

        status = attrs.get("status", getattr(self.instance, "status", None))
        held_at = attrs.get("held_at", getattr(self.instance, "held_at", None))
        if status == ActivityStatus.HELD and held_at and held_at > timezone.now():
            raise serializers.ValidationError({"status": "未来的活动不能标记为已召开。"})
        return attrs


class ActivityFilter(django_filters.FilterSet):
    type = django_filters.CharFilter()
    status = django_filters.CharFilter()
    org = django_filters.CharFilter(method="filter_org", label="org unit code (with sub-units)")
    held_from = django_filters.IsoDateTimeFilter(field_name="held_at", lookup_expr="gte")
    held_to = django_filters.IsoDateTimeFilter(field_name="held_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ["type", "status", "org", "held_from", "held_to"]

    def filter_org(self, queryset, name, value):
        unit = OrgUnit.objects.filter(code=value).first()
        return queryset.filter(subtree_q(unit, "org_unit")) if unit else queryset.none()


class ActivityViewSet(ScopedViewSet):
    queryset = Activity.objects.select_related("org_unit").prefetch_related(
        Prefetch("attendances", queryset=Attendance.objects.select_related("person").order_by("person__employee_no"))
    ).order_by("-held_at", "-id")
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    read_permission = "activities.view"
    write_permission = "activities.change"

    def perform_create(self, serializer):
        from . import services

        super().perform_create(serializer)
        services.activity_saved(serializer.instance)

    def perform_update(self, serializer):
        from . import services

        super().perform_update(serializer)
        services.activity_saved(serializer.instance)

    def perform_destroy(self, instance):
        from . import services

        super().perform_destroy(instance)
        services.activity_deleted(instance)


class ResponsibilityItemSerializer(serializers.ModelSerializer):
    lead_org_unit = ScopedRelatedField(permission="tasks.change", queryset=OrgUnit.objects.all())
    lead_org_unit_code = serializers.CharField(source="lead_org_unit.code", read_only=True)
    cooperating_units = serializers.PrimaryKeyRelatedField(many=True, queryset=OrgUnit.objects.all(), required=False)
    responsible = ScopedRelatedField(permission="people.view", queryset=Person.objects.all(), allow_null=True, required=False)
    parent = ScopedRelatedField(permission="tasks.change", queryset=ResponsibilityItem.objects.all(), allow_null=True, required=False)
    colour = serializers.CharField(read_only=True)

    class Meta:
        model = ResponsibilityItem
        fields = ["id", "ref", "title", "requirement", "parent", "lead_org_unit", "lead_org_unit_code", "cooperating_units",
                  "responsible", "supervising_unit", "deadline", "completed_at", "status", "progress", "colour"]
        read_only_fields = ["ref", "completed_at", "status", "progress"]

    def validate(self, attrs):
        instance = self.instance
        deadline = attrs["deadline"] if "deadline" in attrs else getattr(instance, "deadline", None)
        parent = attrs["parent"] if "parent" in attrs else getattr(instance, "parent", None)
        problem = item_deadline_problem(deadline, parent)
        if problem:
            raise serializers.ValidationError({"deadline": [problem]})
        return attrs


class ResponsibilityItemFilter(django_filters.FilterSet):
    status = django_filters.CharFilter()
    org = django_filters.CharFilter(method="filter_org", label="lead unit code (with sub-units)")
    deadline_from = django_filters.DateFilter(field_name="deadline", lookup_expr="gte")
    deadline_to = django_filters.DateFilter(field_name="deadline", lookup_expr="lte")

    class Meta:
        model = ResponsibilityItem
        fields = ["status", "org", "deadline_from", "deadline_to"]

    def filter_org(self, queryset, name, value):
        unit = OrgUnit.objects.filter(code=value).first()
        return queryset.filter(subtree_q(unit, "lead_org_unit")) if unit else queryset.none()


class ResponsibilityItemViewSet(ScopedViewSet):
    queryset = ResponsibilityItem.objects.select_related("lead_org_unit").prefetch_related("cooperating_units").order_by("deadline", "id")
    serializer_class = ResponsibilityItemSerializer
    filterset_class = ResponsibilityItemFilter
    read_permission = "tasks.view"
    write_permission = "tasks.change"


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_on", "weight", "progress", "done_on"]


class ProjectSerializer(serializers.ModelSerializer):
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()
    spent = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "ref", "name", "kind", "org_unit", "org_unit_code", "objective", "leader", "team", "budget",
                  "spent", "starts_on", "ends_on", "stage", "approval", "progress", "milestones", "evaluation_score", "lessons"]

    def get_progress(self, obj) -> int:
        from .workflow import rollup_progress

        return rollup_progress((m.progress, m.weight) for m in obj.milestones.all()) or 0

    def get_spent(self, obj) -> str:
        return str(sum((e.amount for e in obj.expenses.all()), start=0))


class ProjectViewSet(ScopedReadOnlyViewSet):
    queryset = Project.objects.select_related("org_unit").prefetch_related("milestones", "expenses", "team").order_by("-id")
    serializer_class = ProjectSerializer
    filterset_fields = ["kind", "stage", "approval"]
    read_permission = "projects.view"


routes = [
    ("activities", ActivityViewSet, "activity"),
    ("responsibility-items", ResponsibilityItemViewSet, "responsibility-item"),
    ("projects", ProjectViewSet, "project"),
]
