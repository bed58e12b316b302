"""/members/hardship/… — included by members/urls.py, names in the members namespace."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.HouseholdListView.as_view(), name="hardship_list"),
    path("new/", views.HouseholdCreateView.as_view(), name="hardship_create"),
    path("reviews/due/", views.DueReviewListView.as_view(), name="hardship_due_reviews"),
    path("reviews/due/widget/", views.DueReviewsWidgetView.as_view(), name="hardship_due_widget"),
    path("totals/", views.TotalsFragmentView.as_view(), name="hardship_totals"),
    path("assistance/", views.AssistanceListView.as_view(), name="hardship_assistance"),
    path("autocomplete/", views.HouseholdAutocomplete.as_view(), name="hardship_autocomplete"),
    path("<int:pk>/", views.HouseholdDetailView.as_view(), name="hardship_detail"),
    path("<int:pk>/step/", views.HouseholdStepView.as_view(), name="hardship_step"),
    path("<int:pk>/review/", views.HouseholdReviewView.as_view(), name="hardship_review"),
    path("<int:pk>/measures/", views.MeasureAddView.as_view(), name="hardship_measure_add"),
    path("<int:pk>/measures/<int:measure_id>/done/", views.MeasureDoneView.as_view(), name="hardship_measure_done"),
    path("<int:pk>/assistance/", views.AssistanceAddView.as_view(), name="hardship_assistance_add"),
    path("<int:pk>/assistance/<int:record_id>/evidence/", views.AssistanceEvidenceView.as_view(),
         name="hardship_evidence"),
]
