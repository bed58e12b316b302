import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.filters import SearchFilter, SubtreeFilter
from portal.scope import subtree_q, visible

from ..models import OrgUnit
from .choices import TransferKind, TransferStatus
from .models import BranchTerm, MobileMember, Transfer
from .selectors import current_mobile_q, open_transfer_q, overdue_term_q


def _scoped_units(request):
    if request is None:
        return OrgUnit.objects.none()
    return visible(OrgUnit.objects.all(), request.user, "orgunits.view")


class TransferFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("name or employee number"))
    unit = SubtreeFilter(queryset=_scoped_units, method="filter_unit", label=_("from or to unit (with sub-units)"))
    kind = django_filters.ChoiceFilter(label=_("kind of transfer"), choices=TransferKind.choices)
    status = django_filters.ChoiceFilter(label=_("status"), choices=TransferStatus.choices)
    pending = django_filters.BooleanFilter(
        label=_("open"), method="filter_pending",
        widget=forms.Select(choices=[("", _("All")), ("true", pgettext_lazy("transfer", "In progress")), ("false", pgettext_lazy("transfer", "Finished"))]),
    )

    class Meta:
        model = Transfer
        fields = ["q", "unit", "kind", "status", "pending"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(person__name__istartswith=value) | Q(person__employee_no__istartswith=value))

    def filter_unit(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(subtree_q(value, "from_unit") | subtree_q(value, "to_unit"))

    def filter_pending(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(open_transfer_q()) if value else queryset.exclude(open_transfer_q())


class MobileMemberFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("name or employee number"))
    org_unit = SubtreeFilter(queryset=_scoped_units, path_lookup="person__org_unit__path", label=_("branch (with sub-units)"))
    current = django_filters.BooleanFilter(
        label=_("period"), method="filter_current",
        widget=forms.Select(choices=[("", _("All")), ("true", _("Current")), ("false", _("Ended or not started"))]),
    )

    class Meta:
        model = MobileMember
        fields = ["q", "org_unit", "current"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(person__name__istartswith=value) | Q(person__employee_no__istartswith=value))

    def filter_current(self, queryset, name, value):
        if value is None:
            return queryset
        q = current_mobile_q(timezone.localdate())
        return queryset.filter(q) if value else queryset.exclude(q)


class BranchTermFilterSet(django_filters.FilterSet):
    unit = SubtreeFilter(queryset=_scoped_units, path_lookup="unit__path", label=_("org unit (with sub-units)"))
    state = django_filters.ChoiceFilter(
        label=_("state"), method="filter_state",
        choices=[("open", _("Current term")), ("overdue", _("Overdue for election")), ("closed", _("Closed"))],
    )

    class Meta:
        model = BranchTerm
        fields = ["unit", "state"]

    def filter_state(self, queryset, name, value):
        today = timezone.localdate()
        if value == "open":
            return queryset.filter(closed_on__isnull=True)
        if value == "overdue":
            return queryset.filter(overdue_term_q(today))
        if value == "closed":
            return queryset.filter(closed_on__isnull=False)
        return queryset
