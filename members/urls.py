from django.urls import include, path

from . import views
from .partyorg import urls as partyorg_urls

app_name = "members"

urlpatterns = [
    path("units/", views.OrgUnitListView.as_view(), name="orgunit_list"),
    path("units/tree/", views.OrgUnitTreeView.as_view(), name="orgunit_tree"),
    path("units/new/", views.OrgUnitEditView.as_view(), name="orgunit_create"),
    path("units/autocomplete/", views.OrgUnitAutocomplete.as_view(), name="orgunit_autocomplete"),
    path("units/<int:pk>/", views.OrgUnitDetailView.as_view(), name="orgunit_detail"),
    path("units/<int:pk>/edit/", views.OrgUnitEditView.as_view(), name="orgunit_edit"),
    path("units/<int:pk>/delete/", views.OrgUnitDeleteView.as_view(), name="orgunit_delete"),
    path("people/", views.PersonListView.as_view(), name="person_list"),
    path("people/export-unmasked/", views.PersonUnmaskedExportView.as_view(), name="person_export_unmasked"),
    path("people/new/", views.PersonEditView.as_view(), name="person_create"),
    path("people/autocomplete/", views.PersonAutocomplete.as_view(), name="person_autocomplete"),
    path("people/me/", views.MyRecordView.as_view(), name="my_record"),
    path("people/<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("people/<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("people/<int:pk>/delete/", views.PersonDeleteView.as_view(), name="person_delete"),
    path("people/<int:pk>/reveal/<str:field>/", views.PersonRevealView.as_view(), name="person_reveal"),
    path("people/<int:pk>/stage/", views.PersonStageView.as_view(), name="person_stage"),
    path("people/<int:pk>/points/", views.PersonPointsView.as_view(), name="person_points"),
    path("development/", views.DevelopmentView.as_view(), name="development"),
    path("reveals/", views.RevealLogView.as_view(), name="reveal_log"),
    path("hardship/", include("members.hardship.urls")),
]
urlpatterns += partyorg_urls.urlpatterns  # /members/transfers/, /members/mobile/, /members/terms/
