from django.urls import path

from portal.ratelimits import throttled

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.ActivityListView.as_view(), name="activity_list"),
    path("new/", views.ActivityEditView.as_view(), name="activity_create"),
    path("<int:pk>/", views.ActivityDetailView.as_view(), name="activity_detail"),
    path("<int:pk>/edit/", views.ActivityEditView.as_view(), name="activity_edit"),
    path("<int:pk>/invite/", views.ActivityInviteView.as_view(), name="activity_invite"),
    path("<int:pk>/attendance/", views.ActivityAttendanceView.as_view(), name="activity_attendance"),
    path("<int:pk>/notify/", views.ActivityNotifyView.as_view(), name="activity_notify"),
    path("<int:pk>/photos/", views.ActivityPhotoView.as_view(), name="activity_photo"),
    path("<int:pk>/qr/", views.ActivityQrView.as_view(), name="activity_qr"),
    path("<int:pk>/leave/", views.LeaveRequestView.as_view(), name="activity_leave"),
    path("photos/<int:pk>/", views.PhotoFileView.as_view(), name="photo_file"),
    path("checkin/<str:token>/", throttled("checkin", views.CheckInView.as_view()), name="checkin"),
    path("compliance/", views.ComplianceView.as_view(), name="compliance"),
    path("points/rules/", views.PointsRulesView.as_view(), name="points_rules"),
    path("points/", views.LedgerView.as_view(), name="ledger"),
    path("points/ranking/", views.RankingView.as_view(), name="ranking"),
    path("development/", views.DevelopmentBoardView.as_view(), name="development_board"),
    path("tasks/", views.ItemListView.as_view(), name="item_list"),
    path("tasks/review/", views.ReviewView.as_view(), name="review"),
    path("tasks/new/", views.ItemEditView.as_view(), name="item_create"),
    path("tasks/copy/", views.CopyYearView.as_view(), name="item_copy"),
    path("tasks/autocomplete/", views.ItemAutocomplete.as_view(), name="item_autocomplete"),
    path("tasks/supervisors/", views.SupervisorAutocomplete.as_view(), name="supervisor_autocomplete"),
    path("tasks/<int:pk>/", views.ItemDetailView.as_view(), name="item_detail"),
    path("tasks/<int:pk>/edit/", views.ItemEditView.as_view(), name="item_edit"),
    path("tasks/<int:pk>/delete/", views.ItemDeleteView.as_view(), name="item_delete"),
    path("tasks/<int:pk>/progress/", views.ItemProgressView.as_view(), name="item_progress"),
    path("tasks/<int:pk>/decide/", views.ItemDecideView.as_view(), name="item_decide"),
    path("tasks/evidence/<int:pk>/", views.EvidenceView.as_view(), name="item_evidence"),
    path("projects/", views.ProjectListView.as_view(), name="project_list"),
    path("projects/new/", views.ProjectEditView.as_view(), name="project_create"),
    path("projects/<int:pk>/", views.ProjectDetailView.as_view(), name="project_detail"),
    path("projects/<int:pk>/edit/", views.ProjectEditView.as_view(), name="project_edit"),
    path("projects/<int:pk>/<str:action>/", views.ProjectActionView.as_view(), name="project_action"),
    path("projects/<int:pk>/part/<str:part>/", views.ProjectPartView.as_view(), name="project_part"),
    path("milestones/<int:pk>/delete/", views.MilestoneDeleteView.as_view(), name="milestone_delete"),
]
