from django.urls import path

from .views import campaigns, catalogue, dashboard, pdca, reports

app_name = "evaluation"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("recompute/", dashboard.RecomputeView.as_view(), name="recompute"),
    path("drill/<str:code>/", dashboard.DrillDownView.as_view(), name="drill"),
    # Catalogue, targets, manual values
    path("kpis/", catalogue.KpiListView.as_view(), name="kpi_list"),
    path("kpis/new/", catalogue.KpiEditView.as_view(), name="kpi_create"),
    path("kpis/<str:pk>/edit/", catalogue.KpiEditView.as_view(), name="kpi_edit"),
    path("targets/", catalogue.TargetListView.as_view(), name="target_list"),
    path("targets/new/", catalogue.TargetEditView.as_view(), name="target_create"),
    path("targets/<int:pk>/edit/", catalogue.TargetEditView.as_view(), name="target_edit"),
    path("targets/<int:pk>/delete/", catalogue.TargetDeleteView.as_view(), name="target_delete"),
    path("manual/", catalogue.ManualValueListView.as_view(), name="manual_list"),
    path("manual/new/", catalogue.ManualValueEditView.as_view(), name="manual_create"),
    path("manual/<int:pk>/edit/", catalogue.ManualValueEditView.as_view(), name="manual_edit"),
    path("manual/<int:pk>/delete/", catalogue.ManualValueDeleteView.as_view(), name="manual_delete"),
    # Campaigns and democratic appraisal
    path("accounts/autocomplete/", campaigns.AccountAutocomplete.as_view(), name="account_autocomplete"),
    path("campaigns/", campaigns.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", campaigns.CampaignEditView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaigns.CampaignEditView.as_view(), name="campaign_edit"),
    path("campaigns/<int:pk>/results.xlsx", campaigns.CampaignExportView.as_view(), name="campaign_export"),
    path("campaigns/<int:pk>/<str:part>/", campaigns.CampaignPartView.as_view(), name="campaign_part"),
    path("rate/", campaigns.RateListView.as_view(), name="rate_list"),
    path("rate/<int:pk>/<int:subject>/", campaigns.RateView.as_view(), name="rate"),
    path("appraisals/", campaigns.AppraisalListView.as_view(), name="appraisal_list"),
    path("appraisals/new/", campaigns.AppraisalEditView.as_view(), name="appraisal_create"),
    path("appraisals/<int:pk>/", campaigns.AppraisalDetailView.as_view(), name="appraisal_detail"),
    path("appraisals/<int:pk>/edit/", campaigns.AppraisalEditView.as_view(), name="appraisal_edit"),
    path("appraisals/<int:pk>/results.xlsx", campaigns.AppraisalExportView.as_view(), name="appraisal_export"),
    path("appraisals/<int:pk>/<str:part>/", campaigns.AppraisalPartView.as_view(), name="appraisal_part"),
    path("vote/<int:pk>/", campaigns.BallotView.as_view(), name="ballot"),
    # PDCA
    path("actions/", pdca.ActionBoardView.as_view(), name="action_board"),
    path("actions/new/", pdca.ActionEditView.as_view(), name="action_create"),
    path("actions/<int:pk>/", pdca.ActionDetailView.as_view(), name="action_detail"),
    path("actions/<int:pk>/edit/", pdca.ActionEditView.as_view(), name="action_edit"),
    path("actions/<int:pk>/step/", pdca.ActionStepView.as_view(), name="action_step"),
    path("actions/<int:pk>/progress/", pdca.ActionProgressView.as_view(), name="action_progress"),
    # Monthly diagnostic reports
    path("reports/", reports.ReportListView.as_view(), name="report_list"),
    path("reports/request/", reports.ReportRequestView.as_view(), name="report_request"),
    path("reports/<int:pk>/", reports.ReportPrintView.as_view(), name="report_print"),
    path("reports/<int:pk>/download/", reports.ReportDownloadView.as_view(), name="report_download"),
]
