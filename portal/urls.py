from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import robot_views, views, views_import
from .api_urls import urlpatterns as api_urlpatterns
from .ratelimits import throttled_sign_in

portal_patterns = (
    [
        path("notifications/", views.NotificationListView.as_view(), name="notifications"),
        path("notifications/<int:pk>/", views.NotificationOpenView.as_view(), name="notification_open"),
        path("accounts/", views.AccountListView.as_view(), name="account_list"),
        path("accounts/new/", views.AccountEditView.as_view(), name="account_create"),
        path("accounts/<int:pk>/edit/", views.AccountEditView.as_view(), name="account_edit"),
        path("accounts/<int:pk>/delete/", views.AccountDeleteView.as_view(), name="account_delete"),
        path("audit/", views.AuditTrailView.as_view(), name="audit_trail"),
        path("import/", views_import.ImportView.as_view(), name="import"),
        path("import/batches/", views_import.ImportBatchListView.as_view(), name="import_batches"),
        path("import/<int:pk>/", views_import.ImportBatchView.as_view(), name="import_batch"),
        path("import/template/<str:kind>/", views_import.ImportTemplateView.as_view(), name="import_template"),
        path("robots/", robot_views.RobotListView.as_view(), name="robot_list"),
        path("robots/new/", robot_views.RobotEditView.as_view(), name="robot_create"),
        path("robots/messages/", robot_views.DeliveryListView.as_view(), name="robot_deliveries"),
        path("robots/messages/<int:pk>/retry/", robot_views.DeliveryRetryView.as_view(), name="robot_delivery_retry"),
        path("robots/<int:pk>/", robot_views.RobotDetailView.as_view(), name="robot_detail"),
        path("robots/<int:pk>/edit/", robot_views.RobotEditView.as_view(), name="robot_edit"),
        path("robots/<int:pk>/delete/", robot_views.RobotDeleteView.as_view(), name="robot_delete"),
        path("robots/<int:pk>/test/", robot_views.RobotTestView.as_view(), name="robot_test"),
    ],
    "portal",
)

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    # LoginView sets `site_name` to the host name (no sites framework); the portal's name wins.
    path(
        "login/",
        # A signed-in user is redirected; a failed attempt shows the form again.
        throttled_sign_in("login", auth_views.LoginView.as_view(
            redirect_authenticated_user=True, extra_context={"site_name": settings.PORTAL_SITE_NAME}
        ), succeeded=lambda response: response.status_code == 302),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("portal/", include(portal_patterns)),
    path("members/", include("members.urls")),
    path("demands/", include("demands.urls")),
    path("activities/", include("activities.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI sets inline styles from its script: allowed on this page only (scripts stay 'self').
    path("api/docs/", csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
         name="swagger-ui"),
    path("api/", include(api_urlpatterns)),
    path("django-admin/", admin.site.urls),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
