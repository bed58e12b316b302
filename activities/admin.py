from django.contrib import admin

from .models import Activity, PointsRule, Project, ResponsibilityItem


@admin.register(PointsRule)
class PointsRuleAdmin(admin.ModelAdmin):
    list_display = ["type", "points", "is_active"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["ref", "type", "title", "org_unit", "held_at", "status"]
    list_filter = ["type", "status"]
    search_fields = ["ref", "title"]
    raw_id_fields = ["org_unit", "created_by"]


@admin.register(ResponsibilityItem)
class ResponsibilityItemAdmin(admin.ModelAdmin):
    list_display = ["ref", "title", "lead_org_unit", "deadline", "status", "progress"]
    search_fields = ["ref", "title"]
    raw_id_fields = ["parent", "lead_org_unit", "responsible", "supervising_unit"]
    filter_horizontal = []


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["ref", "name", "kind", "org_unit", "stage", "approval"]
    raw_id_fields = ["org_unit", "leader"]
