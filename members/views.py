from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.autocomplete import AutocompleteView
from portal.generic import (
    ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, PermissionRequiredMixin,
)
from portal.roles import has_permission
from portal.scope import get_visible_or_404, visible

from . import selectors, services
from .choices import DualCultivation, PoliticalStatus
from .filtersets import OrgUnitFilterSet, PersonFilterSet
from .forms import DevelopmentStageForm, OrgUnitForm, PersonForm, PointsAdjustForm, UnmaskedExportForm
from .masking import may_reveal, may_reveal_any, people_export_masks
from .models import OrgUnit, Person, RevealLog
from .tables import PERSON_READABLE, OrgUnitTable, PersonTable
from .tree import tree_html


# --- Org units ---------------------------------------------------------------------------------
class OrgUnitListView(ObjectListView):
    permission = "orgunits.view"
    queryset = OrgUnit.objects.select_related("parent")
    filterset_class = OrgUnitFilterSet
    table_class = OrgUnitTable
    create_url_name = "members:orgunit_create"
    create_permission = "orgunits.change"
    exchange_kind = "orgunits"
    export_basename = "orgunits"
    paginate_by = 50
    template_name = "members/orgunit_list.html"


class OrgUnitTreeView(PermissionRequiredMixin, TemplateView):
    """The organisation as a tree (expand/collapse, counts per unit); the table view keeps the
    filters, export and import."""

    permission = "orgunits.view"
    template_name = "members/orgunit_tree.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roots = selectors.org_tree(self.request.user)
        context.update(title=_("Organisation tree"), tree=tree_html(roots), has_units=bool(roots),
                       can_change=has_permission(self.request.user, "orgunits.change"))
        return context


class OrgUnitDetailView(ObjectDetailView):
    permission = "orgunits.view"
    queryset = OrgUnit.objects.select_related("parent")
    template_name = "members/orgunit_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit = self.object
        context["children"] = unit.children.order_by("sort_order", "path")[:100]
        context["ancestors"] = OrgUnit.objects.filter(
            pk__in=[int(seg) for seg in unit.path.strip("/").split("/")[:-1] if seg]
        ).order_by("depth")
        context["people_count"] = selectors.people_in_subtree(unit).order_by()[:10001].count()
        context["can_change"] = has_permission(self.request.user, "orgunits.change")
        return context


class OrgUnitEditView(ObjectEditView):
    permission = "orgunits.change"
    queryset = OrgUnit.objects.all()
    form_class = OrgUnitForm


class OrgUnitDeleteView(ObjectDeleteView):
    permission = "orgunits.change"
    queryset = OrgUnit.objects.all()
    success_url = reverse_lazy("members:orgunit_list")


class OrgUnitAutocomplete(AutocompleteView):
    permission = "orgunits.view"
    model = OrgUnit
    search_fields = ("name__icontains", "code__istartswith")

    def get_queryset(self):
        return OrgUnit.objects.select_related("parent").order_by("depth", "path")

    def label(self, obj):
        return f"{obj.name}（{obj.parent.name}）" if obj.parent_id else obj.name


# --- People ------------------------------------------------------------------------------------
class PersonListView(ObjectListView):
    permission = "people.view"
    queryset = Person.objects.select_related("org_unit")
    filterset_class = PersonFilterSet
    table_class = PersonTable
    template_name = "members/person_list.html"
    create_url_name = "members:person_create"
    create_permission = "people.change"
    exchange_kind = "people"
    export_basename = "people"
    readable_columns = PERSON_READABLE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_export_unmasked"] = may_reveal_any(self.request.user)
        return context


class PersonDetailView(ObjectDetailView):
    permission = "people.view"
    # The party development records in one query for both readers: the timeline and the panel.
    queryset = selectors.with_points_total(
        Person.objects.select_related("org_unit", "org_unit__parent").prefetch_related("development"))
    template_name = "members/person_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = selectors.person_page(self.request.user, self.object)
        context.update(
            **page,
            development_form=DevelopmentStageForm(initial={"stage": page["next_stage"] or "applicant"}),
            points_form=PointsAdjustForm(),
        )
        return context


class PersonEditView(ObjectEditView):
    permission = "people.change"
    queryset = Person.objects.select_related("org_unit")
    form_class = PersonForm


class PersonDeleteView(ObjectDeleteView):
    permission = "people.delete"
    queryset = Person.objects.all()
    success_url = reverse_lazy("members:person_list")


class PersonAutocomplete(AutocompleteView):
    permission = "people.view"
    model = Person
    search_fields = ("employee_no__istartswith", "name__istartswith")

    def get_queryset(self):
        return Person.objects.select_related("org_unit").order_by("employee_no")

    def label(self, obj):
        return f"{obj.name}（{obj.employee_no}，{obj.org_unit.name}）"


class PersonRevealView(PermissionRequiredMixin, View):
    """POST only: shows one masked value and logs who saw it and when."""

    permission = "people.view"

    def post(self, request, pk, field):
        if field not in ("phone", "id_number"):
            raise PermissionDenied
        person = get_visible_or_404(Person.objects.all(), request.user, self.permission, pk=pk)
        if not may_reveal(request.user, person):
            raise PermissionDenied
        services.reveal_log(request=request, person=person, field=field)
        return HttpResponse(format_html('<span class="font-monospace">{}</span>', getattr(person, field) or "—"))


class PersonStageView(PermissionRequiredMixin, View):
    permission = "development.change"

    def post(self, request, pk):
        person = get_visible_or_404(Person.objects.all(), request.user, self.permission, pk=pk)
        form = DevelopmentStageForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError([message for field_errors in form.errors.values() for message in field_errors])
            services.development_record_stage(person=person, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The development stage was recorded."))
        return redirect(person)


class PersonPointsView(PermissionRequiredMixin, View):
    permission = "points.change"

    def post(self, request, pk):
        person = get_visible_or_404(Person.objects.all(), request.user, self.permission, pk=pk)
        form = PointsAdjustForm(request.POST)
        if form.is_valid():
            services.points_award(person=person, by=request.user, on=form.cleaned_data["awarded_on"],
                                  points=form.cleaned_data["points"], reason=form.cleaned_data["reason"])
            messages.success(request, _("Points were recorded."))
        else:
            for field, field_errors in form.errors.items():
                for message in field_errors:
                    messages.error(request, f"{form.fields[field].label if field in form.fields else ''}：{message}")
        return redirect(person)


class MyRecordView(PermissionRequiredMixin, View):
    """The employee's own record (一人一档), from the menu."""

    permission = "people.view"

    def get(self, request):
        if not request.user.person_id:
            messages.info(request, _("Your account is not linked to a person record."))
            return redirect("home")
        return redirect("members:person_detail", pk=request.user.person_id)


class DevelopmentView(PermissionRequiredMixin, TemplateView):
    permission = "development.view"
    template_name = "members/development.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["due_conversions"] = selectors.due_conversions(user)
        people = visible(Person.objects.filter(is_active=True), user, "people.view")
        status_counts = dict(people.values_list("political_status").annotate(n=Count("id")).order_by())
        dual_counts = dict(
            people.exclude(dual_cultivation="").values_list("dual_cultivation").annotate(n=Count("id")).order_by()
        )
        context["statuses"] = [(c, label, status_counts.get(c, 0)) for c, label in PoliticalStatus.choices]
        context["dual"] = [(c, label, dual_counts.get(c, 0)) for c, label in DualCultivation.choices if c]
        return context


class RevealLogView(PermissionRequiredMixin, TemplateView):
    permission = "reveals.view"
    template_name = "members/reveal_log.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["entries"] = RevealLog.objects.select_related("user", "person")[:200]
        return context


class PersonUnmaskedExportView(PermissionRequiredMixin, TemplateView):
    """People export with ID numbers and phones in clear: only for accounts that may reveal
    (members.masking.people_export_masks), only with a reason, logged with the ids that went out.
    The list's filters come along in `query`; the scope is the list's."""

    permission = "people.view"
    template_name = "members/person_unmasked_export.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and people_export_masks(request.user, unmasked=True):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        query = request.GET.copy()
        query.pop("export", None)
        form = UnmaskedExportForm(initial={"query": query.urlencode()})
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        from portal.dataexchange import get_kind
        from portal.export import export_response

        form = UnmaskedExportForm(request.POST)
        ids = selectors.filtered_person_ids(request, form.cleaned_data["query"], self.permission) if form.is_valid() else None
        if ids is None:
            if form.is_valid():
                form.add_error(None, _("The filter is not valid; nothing was exported."))
            return self.render_to_response(self.get_context_data(form=form))
        services.log_unmasked_export(request=request, person_ids=ids, reason=form.cleaned_data["reason"])
        kind = get_kind("people")
        rows = kind.export_rows(Person.objects.filter(pk__in=ids), user=request.user, unmasked=True)
        return export_response(form.cleaned_data["format"], "people", kind.export_header(), rows)
