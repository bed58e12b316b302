from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from .accounts import AccountFilterSet, AccountForm, AccountTable
from .generic import ObjectDeleteView, ObjectEditView, ObjectListView, PermissionRequiredMixin
from .models import Notification, User
from .registry import home_widgets_for
from .scope import get_visible_or_404, visible


class HomeView(PermissionRequiredMixin, TemplateView):
    """Each role's home page: the widgets of the apps that role works with."""

    permission = "portal.home"
    template_name = "portal/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["widgets"] = home_widgets_for(self.request)
        return context


class NotificationListView(PermissionRequiredMixin, TemplateView):
    permission = "portal.notifications"
    template_name = "portal/notifications.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["notifications"] = visible(Notification.objects.all(), self.request.user, self.permission)[:100]
        return context

    def post(self, request):
        mine = visible(Notification.objects.filter(read_at__isnull=True), request.user, self.permission)
        if request.POST.get("id"):
            if not request.POST["id"].isdigit():
                return redirect("portal:notifications")
            mine = mine.filter(pk=int(request.POST["id"]))
        mine.update(read_at=timezone.now())
        next_url = request.POST.get("next", "")
        # Only a path of this site: redirect() would read any other text as the name of a URL pattern.
        if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            next_url = ""
        return redirect(next_url or "portal:notifications")


class NotificationOpenView(PermissionRequiredMixin, View):
    permission = "portal.notifications"

    def get(self, request, pk):
        notification = get_visible_or_404(Notification.objects.all(), request.user, self.permission, pk=pk)
        if notification.read_at is None:
            Notification.objects.filter(pk=pk).update(read_at=timezone.now())
        return redirect(notification.url or "portal:notifications")


# --- Accounts (admin) --------------------------------------------------------------------------
class AccountListView(ObjectListView):
    permission = "portal.accounts"
    queryset = User.objects.select_related("scope_org", "person")
    filterset_class = AccountFilterSet
    table_class = AccountTable
    create_url_name = "portal:account_create"
    exchange_kind = "accounts"
    export_basename = "accounts"


class AccountEditView(ObjectEditView):
    permission = "portal.accounts"
    queryset = User.objects.select_related("scope_org", "person")
    form_class = AccountForm
    success_url = reverse_lazy("portal:account_list")


class AccountDeleteView(ObjectDeleteView):
    permission = "portal.accounts"
    queryset = User.objects.all()
    success_url = reverse_lazy("portal:account_list")


def bad_request(request, exception=None):
    """400: the message of a BadRequest raised on purpose (a bad query parameter) is shown; other
    causes (SuspiciousOperation) get the general text. The API answers JSON."""
    from django.core.exceptions import BadRequest
    from django.http import JsonResponse

    message = str(exception) if type(exception) is BadRequest and str(exception) else _("The request is not valid.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": _("You do not have permission to perform this action.")}, status=403)
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    # An address under /api/ that matches no endpoint (e.g. /api/demands/abc/) answers JSON too.
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


class AuditTrailView(PermissionRequiredMixin, TemplateView):
    """Admins: the audit trail (changes, refused requests, failed logins, reveals), filtered."""

    permission = "portal.audit_trail"
    template_name = "portal/audit_trail.html"

    def get_context_data(self, **kwargs):
        from django_tables2 import RequestConfig

        from .audit_trail import AuditTrailFilterSet, AuditTrailTable

        context = super().get_context_data(**kwargs)
        filterset = AuditTrailFilterSet(self.request.GET or None)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else AuditTrailFilterSet({}).qs
        table = AuditTrailTable(rows)
        RequestConfig(self.request, paginate={"per_page": 50}).configure(table)
        context.update(filter=filterset if filterset.is_bound else AuditTrailFilterSet(), table=table,
                       title=_("Audit trail"))
        return context
