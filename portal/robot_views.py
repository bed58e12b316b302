"""Group robots administration (portal.robots): form, filters, tables and the views."""
from urllib.parse import urlsplit

import django_filters
import django_tables2 as tables
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from . import robots
from .filters import SearchFilter
from .forms import ScopedModelForm
from .generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, PermissionRequiredMixin
from .models import RobotDelivery, RobotKind, RobotPlatform, RobotWebhook
from .scope import get_visible_or_404
from .widgets import AutocompleteSelect

PERMISSION = "portal.robots"
KEEP = _("Leave empty to keep the current one.")
URL_HELP = _("The robot's webhook address as the group chat shows it (企业微信: …/cgi-bin/webhook/send?key=…; "
             "钉钉: …/robot/send?access_token=…).")


class RobotForm(ScopedModelForm):
    url = forms.URLField(label=_("webhook address"), max_length=500, assume_scheme="https",
                         help_text=URL_HELP, widget=forms.URLInput(attrs={"autocomplete": "off"}))
    kinds = forms.MultipleChoiceField(label=_("notification kinds"), choices=RobotKind.choices,
                                      widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = RobotWebhook
        fields = ["org_unit", "name", "platform", "url", "secret", "kinds", "include_subunits", "active"]
        widgets = {
            "org_unit": AutocompleteSelect("members:orgunit_autocomplete"),
            # Credentials are never sent back to the browser: the page shows them masked.
            "secret": forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        }
        help_texts = {
            "secret": _("DingTalk only, when the robot's security setting is 加签 (starts with SEC)."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["url"].required = False
            self.fields["url"].widget.attrs["placeholder"] = robots.masked_url(self.instance.url)
            self.fields["url"].help_text = format_lazy("{} {}", URL_HELP, KEEP)
            self.initial["url"] = ""
            if self.instance.secret:
                self.fields["secret"].help_text = format_lazy("{} {}", self.fields["secret"].help_text, KEEP)

    def clean_url(self):
        url = (self.cleaned_data.get("url") or "").strip()
        if not url and self.instance.pk:
            return self.instance.url
        if url and not robots.host_allowed(url):
            raise forms.ValidationError(_("Only the addresses of WeCom and DingTalk robots are accepted (%(hosts)s).")
                                        % {"hosts": ", ".join(settings.ROBOT_WEBHOOK_HOSTS)})
        return url

    def clean_secret(self):
        secret = (self.cleaned_data.get("secret") or "").strip()
        return secret or (self.instance.secret if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        platform, url, secret = cleaned.get("platform"), cleaned.get("url") or "", cleaned.get("secret") or ""
        host = urlsplit(url).hostname or ""
        if platform == RobotPlatform.WECOM and host == "oapi.dingtalk.com" or (
                platform == RobotPlatform.DINGTALK and host == "qyapi.weixin.qq.com"):
            self.add_error("url", _("This is the address of the other platform."))
        if platform == RobotPlatform.WECOM and secret:
            self.add_error("secret", _("WeCom group robots have no signing secret."))
        elif secret and not secret.startswith("SEC"):
            self.add_error("secret", _("A DingTalk signing secret starts with SEC."))
        return cleaned


class RobotFilterSet(django_filters.FilterSet):
    q = SearchFilter(field_name="name", lookup_expr="icontains", label=_("name"))
    platform = django_filters.ChoiceFilter(label=_("platform"), choices=RobotPlatform.choices)

    class Meta:
        model = RobotWebhook
        fields = ["q", "platform", "active"]


class RobotTable(tables.Table):
    name = tables.Column(linkify=True)
    kinds = tables.Column(orderable=False)
    last_error = tables.Column()

    class Meta:
        model = RobotWebhook
        fields = ["name", "org_unit", "platform", "kinds", "include_subunits", "active", "last_sent_at",
                  "last_failed_at", "last_error"]
        attrs = {"class": "table table-hover table-sm align-middle"}

    def render_kinds(self, value):
        labels = dict(RobotKind.choices)
        return "、".join(str(labels.get(kind, kind)) for kind in value)


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=RobotDelivery.Status.choices)
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=RobotKind.choices)

    class Meta:
        model = RobotDelivery
        fields = ["status", "kind", "robot"]


class DeliveryTable(tables.Table):
    robot = tables.Column(linkify=True)

    class Meta:
        model = RobotDelivery
        fields = ["created_at", "robot", "kind", "title", "status", "attempts", "sent_at", "error"]
        attrs = {"class": "table table-hover table-sm align-middle"}


class RobotListView(ObjectListView):
    permission = PERMISSION
    queryset = RobotWebhook.objects.select_related("org_unit")
    filterset_class = RobotFilterSet
    table_class = RobotTable
    create_url_name = "portal:robot_create"
    title = _("Group robots")


class RobotDetailView(ObjectDetailView):
    permission = PERMISSION
    queryset = RobotWebhook.objects.select_related("org_unit")
    template_name = "portal/robot_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["masked_url"] = robots.masked_url(self.object.url)
        context["deliveries"] = self.object.deliveries.order_by("-created_at", "-id")[:20]
        labels = dict(RobotKind.choices)
        context["kind_labels"] = [labels.get(kind, kind) for kind in self.object.kinds]
        return context


class RobotEditView(ObjectEditView):
    permission = PERMISSION
    queryset = RobotWebhook.objects.select_related("org_unit")
    form_class = RobotForm


class RobotDeleteView(ObjectDeleteView):
    permission = PERMISSION
    queryset = RobotWebhook.objects.all()
    success_url = reverse_lazy("portal:robot_list")


class RobotTestView(PermissionRequiredMixin, View):
    permission = PERMISSION

    def post(self, request, pk):
        robot = get_visible_or_404(RobotWebhook.objects.select_related("org_unit"), request.user, self.permission, pk=pk)
        robots.send_test(robot)
        messages.success(request, _("A test message is on its way; its result appears below."))
        return redirect(robot)


class DeliveryListView(ObjectListView):
    permission = PERMISSION
    queryset = RobotDelivery.objects.select_related("robot")
    filterset_class = DeliveryFilterSet
    table_class = DeliveryTable
    title = _("Robot messages")


class DeliveryRetryView(PermissionRequiredMixin, View):
    permission = PERMISSION

    def post(self, request, pk):
        delivery = get_visible_or_404(RobotDelivery.objects.select_related("robot"), request.user, self.permission, pk=pk)
        if robots.retry(delivery):
            messages.success(request, _("The message is queued again."))
        return redirect(delivery.robot)
