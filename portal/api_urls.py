"""The API router. Each app lists its endpoints in `<app>/api.py` as `routes`."""
from importlib import import_module

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from .ratelimits import throttled

router = DefaultRouter()
for app in ("members", "demands", "activities", "evaluation"):
    module = import_module(f"{app}.api")
    for prefix, viewset, basename in getattr(module, "routes", []):
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("auth/token/", throttled("api_token", obtain_auth_token, methods=["POST"]), name="api_token"),
    path("", include(router.urls)),
]
