import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.filters import SearchFilter, SubtreeFilter
from portal.scope import visible

from .choices import DualCultivation, OrgKind, PoliticalStatus, SUGGESTED_TAGS
from .models import OrgUnit, Person
from .selectors import search_people


def _scoped_units(request):
    if request is None:
        return OrgUnit.objects.none()
    return visible(OrgUnit.objects.all(), request.user, "orgunits.view")


class PersonFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("name or employee number"))
    org_unit = SubtreeFilter(queryset=_scoped_units)
    political_status = django_filters.ChoiceFilter(label=_("political status"), choices=PoliticalStatus.choices)
    tag = django_filters.CharFilter(
        label=_("tag"), method="filter_tag",
        widget=forms.TextInput(attrs={"list": "tag-suggestions", "autocomplete": "off"}),
    )
    dual_cultivation = django_filters.ChoiceFilter(
        label=_("dual cultivation"), choices=[c for c in DualCultivation.choices if c[0]]
    )
    is_active = django_filters.BooleanFilter(
        label=_("employed"),
        widget=forms.Select(choices=[("", _("All")), ("true", _("Employed")), ("false", _("Left"))]),
    )

    suggested_tags = SUGGESTED_TAGS

    class Meta:
        model = Person
        fields = ["q", "org_unit", "political_status", "tag", "dual_cultivation", "is_active"]

    def search(self, queryset, name, value):
        return search_people(queryset, value)

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value.strip()]) if value.strip() else queryset


class OrgUnitFilterSet(django_filters.FilterSet):
    q = SearchFilter(method="search", label=_("name or code"))
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=OrgKind.choices)
    within = SubtreeFilter(queryset=_scoped_units, path_lookup="path", label=_("within"))

    class Meta:
        model = OrgUnit
        fields = ["q", "kind", "within"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        return queryset.filter(Q(code__istartswith=value) | Q(name__icontains=value)) if value else queryset
