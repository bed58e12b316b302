"""The API router. Each app lists its endpoints in `<app>/api.py` as `routes`."""
from importlib import import_module

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from .ratelimits import throttled_sign_in

router = DefaultRouter()
for app in ("members", "demands", "activities", "evaluation"):
    module = import_module(f"{app}.api")
    for prefix, viewset, basename in getattr(module, "routes", []):
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    # A token is answered 200; wrong credentials 400.
    path("auth/token/", throttled_sign_in("api_token", obtain_auth_token, succeeded=lambda response: response.status_code == 200),
         name="api_token"),
    path("", include(router.urls)),
]
