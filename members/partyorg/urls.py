from django.urls import path

from . import views

# Included in members/urls.py (namespace "members").
urlpatterns = [
    path("transfers/", views.TransferListView.as_view(), name="transfer_list"),
    path("transfers/pending/", views.PendingTransferListView.as_view(), name="transfer_pending"),
    path("transfers/new/", views.TransferCreateView.as_view(), name="transfer_create"),
    path("transfers/units/", views.PartyUnitAutocomplete.as_view(), name="party_unit_autocomplete"),
    path("transfers/<int:pk>/", views.TransferDetailView.as_view(), name="transfer_detail"),
    path("transfers/<int:pk>/edit/", views.TransferEditView.as_view(), name="transfer_edit"),
    path("transfers/<int:pk>/act/", views.TransferActView.as_view(), name="transfer_act"),
    path("transfers/letters/<int:pk>/", views.TransferLetterView.as_view(), name="transfer_letter"),
    path("mobile/", views.MobileMemberListView.as_view(), name="mobile_list"),
    path("mobile/new/", views.MobileMemberEditView.as_view(), name="mobile_create"),
    path("mobile/<int:pk>/", views.MobileMemberEditView.as_view(), name="mobile_edit"),
    path("mobile/<int:pk>/delete/", views.MobileMemberDeleteView.as_view(), name="mobile_delete"),
    path("terms/", views.BranchTermListView.as_view(), name="term_list"),
    path("terms/overdue/", views.OverdueTermListView.as_view(), name="term_overdue"),
    path("terms/new/", views.ElectionCreateView.as_view(), name="term_create"),
    path("terms/<int:pk>/", views.BranchTermDetailView.as_view(), name="term_detail"),
]
