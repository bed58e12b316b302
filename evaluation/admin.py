from django.contrib import admin

from .models import (
    AppraisalRound, Campaign, ImprovementAction, KpiDefinition, KpiRun, KpiTarget, ManualKpiValue, MonthlyReport,
)


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "value_format", "direction", "weight", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    list_display = ("kpi", "org_unit", "year", "target", "green_from", "amber_from", "weight")
    list_filter = ("year", "kpi")
    raw_id_fields = ("org_unit",)


@admin.register(ManualKpiValue)
class ManualKpiValueAdmin(admin.ModelAdmin):
    list_display = ("kpi", "org_unit", "period", "value", "entered_by", "entered_at")
    list_filter = ("kpi",)
    raw_id_fields = ("org_unit",)


@admin.register(KpiRun)
class KpiRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "finished_at", "trigger", "as_of", "rows_written", "seconds", "error")
    list_filter = ("trigger",)
    readonly_fields = [f.name for f in KpiRun._meta.fields]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "year", "org_unit", "status")
    raw_id_fields = ("org_unit", "subjects")


@admin.register(AppraisalRound)
class AppraisalRoundAdmin(admin.ModelAdmin):
    list_display = ("name", "year", "org_unit", "status")
    raw_id_fields = ("org_unit",)


@admin.register(ImprovementAction)
class ImprovementActionAdmin(admin.ModelAdmin):
    list_display = ("title", "org_unit", "status", "deadline", "owner")
    list_filter = ("status",)
    raw_id_fields = ("org_unit", "owner")


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    list_display = ("period", "org_unit", "status", "generated_at")
    raw_id_fields = ("org_unit",)
