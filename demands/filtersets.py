"""List filters. Every filter is backed by an index (see the Meta.indexes of the models)."""
import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import OrgUnit
from portal.filters import SearchFilter, SubtreeFilter
from portal.forms import DateInput
from portal.scope import visible
from portal.widgets import AutocompleteSelect

from .choices import Channel, LifeEventKind, MediationOutcome, Status, Urgency, VisitKind
from .forms import handler_accounts
from .models import Demand, DemandCategory, LifeEvent, MediationCase, Visit


def _scoped_units(request):
    if request is None:
        return OrgUnit.objects.none()
    return visible(OrgUnit.objects.all(), request.user, "orgunits.view")


def _day_start(value: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))


class DateFromFilter(django_filters.DateFilter):
    """On or after a date (local midnight), on a datetime column."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", DateInput())
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.filter(**{f"{self.field_name}__gte": _day_start(value)}) if value else qs


class DateToFilter(DateFromFilter):
    """On or before a date (inclusive), on a datetime column."""

    def filter(self, qs, value):
        return qs.filter(**{f"{self.field_name}__lt": _day_start(value + datetime.timedelta(days=1))}) if value else qs


class DemandFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("reference or words of the title"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=Status.choices)
    category = django_filters.ModelChoiceFilter(label=_("category"), queryset=DemandCategory.objects.all())
    urgency = django_filters.ChoiceFilter(label=_("urgency"), choices=Urgency.choices)
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=Channel.choices)
    org_unit = SubtreeFilter(queryset=_scoped_units)
    handler = django_filters.ModelChoiceFilter(
        label=_("handler"), queryset=handler_accounts(), widget=AutocompleteSelect("demands:handler_autocomplete"),
    )
    received_from = DateFromFilter(field_name="received_at", label=_("received from"))
    received_to = DateToFilter(field_name="received_at", label=_("received until"))

    class Meta:
        model = Demand
        fields = ["q", "status", "category", "urgency", "channel", "org_unit", "handler", "received_from", "received_to"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # ref: the unique index; title: the pg_trgm GIN index serves LIKE '%…%'.
        return queryset.filter(Q(ref=value.upper()) | Q(title__contains=value))


class MediationFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("reference or subject"))
    outcome = django_filters.ChoiceFilter(
        label=_("outcome"), method="filter_outcome",
        choices=[("open", _("Open"))] + [c for c in MediationOutcome.choices if c[0]],
    )
    org_unit = SubtreeFilter(queryset=_scoped_units)
    opened_from = DateFromFilter(field_name="opened_at", label=_("opened from"))
    opened_to = DateToFilter(field_name="opened_at", label=_("opened until"))

    class Meta:
        model = MediationCase
        fields = ["q", "outcome", "org_unit", "opened_from", "opened_to"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(ref=value.upper()) | Q(title__contains=value)) if value else queryset

    def filter_outcome(self, queryset, name, value):
        return queryset.filter(outcome="" if value == "open" else value)


class VisitFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=VisitKind.choices)
    org_unit = SubtreeFilter(queryset=_scoped_units, path_lookup="person__org_unit__path")
    visited_from = django_filters.DateFilter(field_name="visited_on", lookup_expr="gte", label=_("from"), widget=DateInput())
    visited_to = django_filters.DateFilter(field_name="visited_on", lookup_expr="lte", label=_("until"), widget=DateInput())
    mine = django_filters.BooleanFilter(label=_("made by me"), method="filter_mine", widget=forms.CheckboxInput)

    class Meta:
        model = Visit
        fields = ["kind", "org_unit", "visited_from", "visited_to", "mine"]

    def filter_mine(self, queryset, name, value):
        if not value or self.request is None:
            return queryset
        return queryset.filter(visitor_id=self.request.user.person_id)


class LifeEventFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=LifeEventKind.choices)
    org_unit = SubtreeFilter(queryset=_scoped_units, path_lookup="person__org_unit__path")
    date_from = django_filters.DateFilter(field_name="event_date", lookup_expr="gte", label=_("from"), widget=DateInput())
    date_to = django_filters.DateFilter(field_name="event_date", lookup_expr="lte", label=_("until"), widget=DateInput())

    class Meta:
        model = LifeEvent
        fields = ["kind", "org_unit", "date_from", "date_to"]
