import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import OrgUnit, Person
from portal.filters import SearchFilter, SubtreeFilter, YearFilter
from portal.forms import DateInput
from portal.scope import visible
from portal.widgets import AutocompleteSelect

from .choices import ActivityStatus, ActivityType, ApprovalState, Colour, ItemStatus, ProjectKind, ProjectStage
from .models import Activity, Project, ResponsibilityItem
from .selectors import items_with_colour_filter


def _scoped_units(request):
    if request is None:
        return OrgUnit.objects.none()
    return visible(OrgUnit.objects.all(), request.user, "orgunits.view")


def _scoped_people(request):
    if request is None:
        return Person.objects.none()
    return visible(Person.objects.all(), request.user, "people.view")


class ActivityFilterSet(django_filters.FilterSet):
    q = SearchFilter(field_name="title", lookup_expr="icontains", label=_("title"))
    type = django_filters.ChoiceFilter(label=_("type"), choices=ActivityType.choices)
    status = django_filters.ChoiceFilter(label=_("status"), choices=ActivityStatus.choices)
    org_unit = SubtreeFilter(queryset=_scoped_units)
    held_from = django_filters.DateFilter(field_name="held_at", lookup_expr="date__gte", label=_("from"), widget=DateInput())
    held_to = django_filters.DateFilter(field_name="held_at", lookup_expr="date__lte", label=_("to"), widget=DateInput())

    class Meta:
        model = Activity
        fields = ["q", "type", "status", "org_unit", "held_from", "held_to"]


class ItemFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("item or reference"))
    colour = django_filters.ChoiceFilter(label=_("colour"), choices=Colour.choices, method="filter_colour")
    status = django_filters.ChoiceFilter(label=_("status"), choices=ItemStatus.choices)
    lead_org_unit = SubtreeFilter(queryset=_scoped_units, path_lookup="lead_org_unit__path", label=_("lead unit"))
    responsible = django_filters.ModelChoiceFilter(
        label=_("responsible person"), queryset=_scoped_people, widget=AutocompleteSelect("members:person_autocomplete")
    )
    year = YearFilter(field_name="deadline", lookup_expr="year", label=_("deadline year"))
    level = django_filters.ChoiceFilter(label=_("level"), choices=[("top", _("top-level items only"))],
                                        empty_label=_("all items"), method="filter_level")

    class Meta:
        model = ResponsibilityItem
        fields = ["q", "colour", "status", "lead_org_unit", "responsible", "year", "level"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(title__icontains=value) | Q(ref__istartswith=value)) if value else queryset

    def filter_level(self, queryset, name, value):
        return queryset.filter(parent__isnull=True) if value == "top" else queryset

    def filter_colour(self, queryset, name, value):
        return items_with_colour_filter(queryset, value) if value else queryset


class ProjectFilterSet(django_filters.FilterSet):
    q = SearchFilter(field_name="name", lookup_expr="icontains", label=_("name"))
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=ProjectKind.choices)
    stage = django_filters.ChoiceFilter(label=_("stage"), choices=ProjectStage.choices)
    approval = django_filters.ChoiceFilter(label=_("approval"), choices=ApprovalState.choices)
    org_unit = SubtreeFilter(queryset=_scoped_units)

    class Meta:
        model = Project
        fields = ["q", "kind", "stage", "approval", "org_unit"]


class PointsFilterSet(django_filters.FilterSet):
    person = django_filters.ModelChoiceFilter(
        label=_("person"), queryset=_scoped_people, widget=AutocompleteSelect("members:person_autocomplete")
    )
    org_unit = SubtreeFilter(queryset=_scoped_units, path_lookup="person__org_unit__path")
    year = YearFilter(field_name="awarded_on", lookup_expr="year", label=_("year"))
    source = django_filters.ChoiceFilter(label=_("source"), choices=[
        ("attendance", _("Activity attendance")), ("manual", _("Manual adjustment")), ("other", _("Other"))])

    class Meta:
        from members.models import PointsEntry

        model = PointsEntry
        fields = ["person", "org_unit", "year", "source"]
