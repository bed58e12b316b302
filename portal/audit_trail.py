"""The audit trail page (admin only): data changes (pghistory contexts), refused requests
(portal.AccessDenial), failed logins (django-axes' AccessFailureLog) and the sources apps register
(`portal.registry.audit_trail_source`: members' reveals and unmasked exports), as one list in time
order with filters (who, kind, date range, path)."""
from __future__ import annotations

import datetime

import django_filters
import django_tables2 as tables
from axes.models import AccessFailureLog
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Func, IntegerField, OuterRef, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pghistory.models import Context

from .models import AccessDenial
from .registry import audit_trail_sources

KINDS = [
    ("change", _("data change")),
    ("denial", _("access denied")),
    ("login_failure", _("failed login")),
]


def kinds() -> list[tuple]:
    return KINDS + [(source.kind, source.label) for source in audit_trail_sources()]


COLUMNS = ("at", "kind", "who", "ip", "path", "detail")


def _changes():
    users = get_user_model().objects.filter(pk=OuterRef("user_id")).values("username")
    return Context.objects.filter(metadata__has_key="user").annotate(
        user_id=Cast(KT("metadata__user"), IntegerField()),
        at=F("created_at"), kind=Value("change"), who=Subquery(users[:1]), ip=Value(None, output_field=CharField()),
        path=KT("metadata__url"), detail=Value(""),
    )


def _denials():
    return AccessDenial.objects.annotate(
        kind=Value("denial"), who=F("username"), ip=Func("ip_address", function="host", output_field=CharField()),
        detail_text=Concat(Cast("status", CharField()), Value(" "), "detail"),
    )


def _login_failures():
    return AccessFailureLog.objects.annotate(
        at=F("attempt_time"), kind=Value("login_failure"), who=F("username"), ip=Func("ip_address", function="host", output_field=CharField()),
        path=F("path_info"), detail=Value(""),
    )


def audit_trail(*, who: str = "", kind: str = "", start: datetime.date | None = None,
                end: datetime.date | None = None, path: str = ""):
    """The entries matching the filters, newest first: dicts with COLUMNS. Each part is filtered
    in its own table (indexed on time) before the union."""
    parts = {
        "change": (_changes(), "detail"),
        "denial": (_denials(), "detail_text"),
        "login_failure": (_login_failures(), "detail"),
        **{source.kind: (source.queryset(), source.detail) for source in audit_trail_sources()},
    }
    queries = []
    for name, (queryset, detail) in parts.items():
        if kind and kind != name:
            continue
        if who:
            queryset = queryset.filter(who__icontains=who)
        if path:
            queryset = queryset.filter(path__icontains=path)
        if start:
            queryset = queryset.filter(at__gte=_day_start(start))
        if end:
            queryset = queryset.filter(at__lt=_day_start(end + datetime.timedelta(days=1)))
        queries.append(queryset.values_list("at", "kind", "who", "ip", "path", detail).order_by())
    first, *rest = queries
    return first.union(*rest, all=True).order_by("-at") if rest else first.order_by("-at")


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


class AuditTrailFilterSet(django_filters.FilterSet):
    who = django_filters.CharFilter(label=_("account"), method="keep")
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=kinds, method="keep")
    start = django_filters.DateFilter(label=_("from"), method="keep", widget=forms.DateInput(attrs={"type": "date"}))
    end = django_filters.DateFilter(label=_("to"), method="keep", widget=forms.DateInput(attrs={"type": "date"}))
    path = django_filters.CharFilter(label=_("path"), method="keep")

    class Meta:
        model = AccessDenial
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}
        return audit_trail(**data)


class AuditTrailTable(tables.Table):
    at = tables.Column(verbose_name=_("at"), accessor="0")
    kind = tables.Column(verbose_name=_("kind"), accessor="1")
    who = tables.Column(verbose_name=_("account"), accessor="2", default="—")
    ip = tables.Column(verbose_name=_("IP address"), accessor="3", default="—")
    path = tables.Column(verbose_name=_("path"), accessor="4", default="—")
    detail = tables.Column(verbose_name=_("detail"), accessor="5", default="")

    class Meta:
        orderable = False
        attrs = {"class": "table table-sm table-hover table-cards"}

    def render_at(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")

    def render_kind(self, value):
        return dict(kinds()).get(value, value)
