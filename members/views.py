from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.autocomplete import AutocompleteView
from portal.generic import (
    ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, PermissionRequiredMixin,
)
from portal.registry import person_timeline
from portal.roles import has_permission
from portal.scope import get_visible_or_404, visible

from . import selectors, services
from .choices import DualCultivation, PoliticalStatus
from .filtersets import OrgUnitFilterSet, PersonFilterSet
from .forms import DevelopmentStageForm, OrgUnitForm, PersonForm, PointsAdjustForm, UnmaskedExportForm
from .masking import mask_id_number, mask_phone, may_reveal, may_reveal_any, people_export_masks
from .models import OrgUnit, Person, RevealLog
from .tables import PERSON_READABLE, OrgUnitTable, PersonTable
from .workflow import STAGE_ORDER, conversion_due_on, earliest_date, next_stage


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


def tree_html(roots, open_depth: int = 2) -> str:
    """The tree as nested <ul>/<details> lists, built here rather than by a recursive template:
    Django's template engine takes seconds for 5,000 units, this takes milliseconds."""
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    from .choices import OrgKind

    detail = reverse("members:orgunit_detail", args=[0])[:-2]  # "/members/units/"
    kinds = {value: str(label) for value, label in OrgKind.choices}
    titles = (_("people employed in the unit and below"), _("party members (full and probationary) in the unit and below"),
              _("party branches in the unit and below"))
    inactive = " · " + _("inactive")
    parts: list[str] = []

    def line(node):
        unit = node["unit"]
        branches = format_html('<span class="badge text-bg-light border" title="{}"><i class="bi bi-diagram-3"></i> {}</span>',
                               titles[2], node["branches"]) if node["branches"] else ""
        return format_html(
            '<span class="org-line{}"><a href="{}{}/" class="fw-semibold">{}</a> <small class="text-muted">{}{}</small> '
            '<span class="org-counts small text-nowrap" data-testid="counts-{}">'
            '<span class="badge text-bg-light border" title="{}"><i class="bi bi-people"></i> {}</span> '
            '<span class="badge text-bg-light border text-danger" title="{}"><i class="bi bi-star-fill"></i> {}</span> {}'
            "</span></span>",
            "" if node["children"] else " org-leaf", detail, unit.pk, unit.name, kinds.get(unit.kind, unit.kind),
            "" if unit.is_active else inactive, unit.code, titles[0], node["people"], titles[1], node["members"], branches,
        )

    stack = [(node, 0) for node in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        if node is None:
            parts.append("</ul></details></li>")
        elif node["children"]:
            parts.append(f'<li class="org-node"><details{" open" if depth < open_depth else ""}><summary>{line(node)}'
                         '</summary><ul class="org-tree">')
            stack.append((None, depth))
            stack.extend((child, depth + 1) for child in reversed(node["children"]))
        else:
            parts.append(f'<li class="org-node">{line(node)}</li>')
    return mark_safe("\n".join(parts))  # every piece above is escaped by format_html


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
    queryset = Person.objects.select_related("org_unit", "org_unit__parent")
    template_name = "members/person_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person, user = self.object, self.request.user
        recorded = {r.stage: r for r in person.development.all()}
        upcoming = next_stage({s: r.reached_on for s, r in recorded.items()})
        context.update(
            masked_phone=mask_phone(person.phone),
            masked_id_number=mask_id_number(person.id_number),
            may_reveal=may_reveal(user, person),
            timeline=person_timeline(person, user, limit=50),
            development=[(stage, recorded.get(stage)) for stage in STAGE_ORDER],
            next_stage=upcoming,
            next_stage_earliest=earliest_date(upcoming, {s: r.reached_on for s, r in recorded.items()})
            if upcoming else None,
            conversion_due=conversion_due_on(recorded["probationary"].reached_on)
            if "probationary" in recorded and "full" not in recorded else None,
            points_total=selectors.person_points_total(person),
            recent_points=person.points.select_related("awarded_by")[:10],
            can_change=has_permission(user, "people.change"),
            can_develop=has_permission(user, "development.change"),
            can_adjust_points=has_permission(user, "points.change"),
            development_form=DevelopmentStageForm(initial={"stage": upcoming or "applicant"}),
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
        if form.is_valid():
            try:
                services.development_record_stage(person=person, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("The development stage was recorded."))
        else:
            for field_errors in form.errors.values():
                for message in field_errors:
                    messages.error(request, message)
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
        from django.http import QueryDict

        from portal.dataexchange import get_kind
        from portal.export import export_response

        form = UnmaskedExportForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        people = visible(Person.objects.select_related("org_unit"), request.user, self.permission)
        filterset = PersonFilterSet(QueryDict(form.cleaned_data["query"]), queryset=people, request=request)
        if not filterset.is_valid():
            form.add_error(None, _("The filter is not valid; nothing was exported."))
            return self.render_to_response(self.get_context_data(form=form))
        queryset = filterset.qs
        ids = list(queryset.order_by("employee_no").values_list("pk", flat=True))
        services.log_unmasked_export(request=request, person_ids=ids, reason=form.cleaned_data["reason"])
        kind = get_kind("people")
        rows = kind.export_rows(Person.objects.filter(pk__in=ids), user=request.user, unmasked=True)
        return export_response(form.cleaned_data["format"], "people", kind.export_header(), rows)
