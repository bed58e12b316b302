"""The portal's URLs plus the benchmark's reference page: Django admin's stock changelist of the
demands (never deployed), which `make bench` measures beside the demand ledger on the same rows."""
from django.contrib import admin
from django.urls import include, path

from demands.models import Demand


class DemandChangelist(admin.ModelAdmin):
    """What an unoptimised Django list of demands does: the ledger's columns, 100 rows, a full count."""

    list_display = ("ref", "title", "category", "org_unit", "status", "urgency", "received_at", "handler")
    list_select_related = ("category", "org_unit", "handler")


site = admin.AdminSite(name="bench_admin")
site.register(Demand, DemandChangelist)

ADMIN_CHANGELIST = "/bench-admin/demands/demand/"

urlpatterns = [
    path("bench-admin/", site.urls),
    path("", include("portal.urls")),
]
