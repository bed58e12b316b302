from django.urls import path

from portal.ratelimits import throttled

from . import views

app_name = "demands"

urlpatterns = [
    # Demands
    path("", views.DemandListView.as_view(), name="demand_list"),
    path("queue/", views.QueueHomeView.as_view(), name="queue_home"),
    path("queue/<str:queue>/", views.DemandQueueView.as_view(), name="queue"),
    path("mine/", views.MyDemandsView.as_view(), name="my_demands"),
    path("new/", views.DemandCreateView.as_view(), name="demand_create"),
    path("similar/", views.SimilarDemandsView.as_view(), name="similar"),
    path("<int:pk>/", views.DemandDetailView.as_view(), name="demand_detail"),
    path("<int:pk>/act/<str:action>/", views.DemandActionView.as_view(), name="demand_action"),
    path("<int:pk>/files/<int:file_id>/", views.DemandAttachmentView.as_view(), name="demand_attachment"),
    path("autocomplete/handlers/", views.HandlerAutocomplete.as_view(), name="handler_autocomplete"),
    path("autocomplete/colleagues/", views.ColleagueAutocomplete.as_view(), name="colleague_autocomplete"),
    path("autocomplete/units/", views.UnitAutocomplete.as_view(), name="unit_autocomplete"),
    path("autocomplete/life-events/", views.LifeEventAutocomplete.as_view(), name="lifeevent_autocomplete"),
    path("sla/", views.SlaOverviewView.as_view(), name="sla_overview"),
    path("priority/", views.PriorityListView.as_view(), name="priority_list"),
    path("hot-topics/", views.HotTopicListView.as_view(), name="hot_topics"),
    path("visits/heat-map/", views.HeatMapView.as_view(), name="heat_map"),
    path("hot-topics/<int:pk>/", views.HotTopicDetailView.as_view(), name="hot_topic_detail"),
    path("config/priority/", views.PriorityWeightsEditView.as_view(), name="priority_weights"),
    path("config/text-model/", views.TextModelListView.as_view(), name="text_models"),
    path("config/categories/", views.CategoryListView.as_view(), name="category_list"),
    path("config/categories/new/", views.CategoryEditView.as_view(), name="category_create"),
    path("config/categories/<int:pk>/", views.CategoryEditView.as_view(), name="category_edit"),
    path("config/sla/", views.SlaPolicyListView.as_view(), name="slapolicy_list"),
    path("config/sla/new/", views.SlaPolicyEditView.as_view(), name="slapolicy_create"),
    path("config/sla/<int:pk>/", views.SlaPolicyEditView.as_view(), name="slapolicy_edit"),
    path("config/calendar/", views.CalendarListView.as_view(), name="calendar_list"),
    path("config/calendar/year/", views.CalendarYearView.as_view(), name="calendar_years"),
    path("config/calendar/year/<int:year>/", views.CalendarYearView.as_view(), name="calendar_year"),
    path("config/calendar/new/", views.CalendarEditView.as_view(), name="calendar_create"),
    path("config/calendar/<int:pk>/", views.CalendarEditView.as_view(), name="calendar_edit"),
    path("config/calendar/<int:pk>/delete/", views.CalendarDeleteView.as_view(), name="calendar_delete"),
    # Without login
    path("public/submit/", throttled("public_submit", views.AnonymousSubmitView.as_view(), methods=["POST"]), name="public_submit"),
    path("public/suggest/", throttled("public_suggest", views.PublicSuggestView.as_view()), name="public_suggest"),
    path("public/submitted/", views.AnonymousSubmittedView.as_view(), name="public_submitted"),
    path("public/track/", throttled("public_track", views.TrackView.as_view(), methods=["POST"]), name="track"),
    path("rate/<str:token>/", throttled("rating_link", views.RateView.as_view()), name="rate"),
    # Mediation
    path("mediations/", views.MediationListView.as_view(), name="mediation_list"),
    path("mediations/new/", views.MediationCreateView.as_view(), name="mediation_create"),
    path("mediations/<int:pk>/", views.MediationDetailView.as_view(), name="mediation_detail"),
    path("mediations/<int:pk>/<str:step>/", views.MediationStepView.as_view(), name="mediation_step"),
    # Visits and life events
    path("visits/", views.VisitListView.as_view(), name="visit_list"),
    path("visits/new/", views.VisitCreateView.as_view(), name="visit_create"),
    path("visits/<int:pk>/", views.VisitDetailView.as_view(), name="visit_detail"),
    path("visits/<int:pk>/photos/", views.VisitAddPhotosView.as_view(), name="visit_add_photos"),
    path("visits/<int:pk>/photos/<int:photo_id>/", views.VisitPhotoView.as_view(), name="visit_photo"),
    path("life-events/", views.LifeEventListView.as_view(), name="lifeevent_list"),
    path("life-events/due/", views.DueVisitsView.as_view(), name="due_visits"),
    path("life-events/new/", views.LifeEventCreateView.as_view(), name="lifeevent_create"),
    path("life-events/<int:pk>/", views.LifeEventDetailView.as_view(), name="lifeevent_detail"),
]
