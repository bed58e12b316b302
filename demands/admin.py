"""Reference data the administrator edits in the Django admin: categories, SLA policies and
work calendar overrides. Demands themselves change only through the workflow services."""
from django.contrib import admin

from .models import DemandCategory, SlaPolicy, WorkCalendarDay


@admin.register(DemandCategory)
class DemandCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["code", "name"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["category", "urgency", "response_hours", "resolution_days"]
    list_filter = ["urgency", "category"]


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
