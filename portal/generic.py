"""Generic list / detail / edit / delete views. A concrete view only names its queryset, filterset,
table, form and permission; scope, filtering, pagination without a full COUNT, export and audit
history live here once."""
from __future__ import annotations

import json
from itertools import islice
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import ProtectedError, Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.generic import DeleteView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.data import TableListData
from django_tables2.paginators import LazyPaginator, PageNotAnInteger

from . import audit
from .export import EXPORT_FORMATS, READABLE, export_response, readable_xlsx_response
from .roles import has_permission
from .scope import get_visible_or_404, visible

EXPORT_MAX_ROWS = 200_000


class PermissionRequiredMixin(LoginRequiredMixin):
    """Deny by default: a view must name its permission (portal.roles); a role without it gets 403.
    Objects outside the user's scope are a separate matter: they are not found (404)."""

    permission: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} does not name its permission")
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_permission(request.user, self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def bounded_count(queryset, limit: int | None = None) -> tuple[int, bool]:
    """Count at most `limit` rows: exact for normal lists, "limit+" for huge ones, and never a
    full COUNT over a million rows."""
    limit = limit or settings.PORTAL_EXACT_COUNT_LIMIT
    count = queryset.order_by()[: limit + 1].count()
    return min(count, limit), count > limit


# --- Keyset pagination ----------------------------------------------------------------------------------
# Page 2,000 of a million-row list with OFFSET reads and throws away 50,000 rows; a keyset page reads
# only its own 25, at any depth: "the rows after (received_at, id) of the last row shown". Used when
# the list is in its natural order (no column sort chosen) and that order is made of plain non-null
# columns ending with a unique one; otherwise the list falls back to numbered pages.
KEYSET_SEPARATOR = "~"  # URL-safe, and in no ISO date, number or code the orderings use


def keyset_fields(queryset) -> tuple[str, ...] | None:
    """The queryset's ordering if a keyset can follow it, else None."""
    ordering = tuple(queryset.query.order_by or queryset.model._meta.ordering or ())
    if not ordering:
        return None
    meta = queryset.model._meta
    for name in ordering:
        if not isinstance(name, str) or "__" in name or name.lstrip("-") == "?":
            return None
        try:
            field = meta.get_field(name.lstrip("-"))
        except FieldDoesNotExist:
            return None
        if field.null or not field.concrete or field.is_relation:
            return None
    last = meta.get_field(ordering[-1].lstrip("-"))
    return ordering if (last.primary_key or last.unique) else None


def keyset_token(obj, fields: tuple[str, ...]) -> str:
    values = []
    for name in fields:
        value = getattr(obj, name.lstrip("-"))
        values.append(value.isoformat() if hasattr(value, "isoformat") else str(value))
    return KEYSET_SEPARATOR.join(values)


def _keyset_values(model, fields: tuple[str, ...], token: str) -> list | None:
    parts = token.split(KEYSET_SEPARATOR)
    if len(parts) != len(fields):
        return None
    try:
        return [model._meta.get_field(name.lstrip("-")).to_python(part) for name, part in zip(fields, parts)]
    except (ValidationError, ValueError, TypeError):
        return None


def _beyond(fields: tuple[str, ...], values: list, *, backwards: bool) -> Q:
    """Rows strictly after `values` in the order of `fields` (before them when `backwards`)."""
    condition = Q()
    for i, name in enumerate(fields):
        column = name.lstrip("-")
        descending = name.startswith("-") != backwards
        step = Q(**{f"{column}__{'lt' if descending else 'gt'}": values[i]})
        for earlier, value in zip(fields[:i], values[:i]):
            step &= Q(**{earlier.lstrip("-"): value})
        condition |= step
    # The leading column alone bounds the index range scan; the OR above then only breaks ties.
    lead = fields[0].lstrip("-")
    lead_descending = fields[0].startswith("-") != backwards
    return Q(**{f"{lead}__{'lte' if lead_descending else 'gte'}": values[0]}) & condition


class KeysetRows(TableListData):
    """The rows of a keyset page for django-tables2. It takes column headings from the model of its
    data, which a plain list does not have: without it the headings fall back to the column names
    ("Ref", "Title") instead of the translated field names."""

    def __init__(self, rows: list, model):
        super().__init__(rows)
        self._model = model

    @property
    def model(self):
        return self._model


class KeysetPage:
    """One page read by keyset: `rows`, and the tokens of the pages before and after it."""

    def __init__(self, queryset, fields: tuple[str, ...], size: int, *, after: str = "", before: str = ""):
        model = queryset.model
        values = _keyset_values(model, fields, before or after) if (before or after) else None
        backwards = bool(before) and values is not None
        if values is None:
            after = before = ""
        ordered = queryset.order_by(*(self._flip(f) for f in fields) if backwards else fields)
        if values is not None:
            ordered = ordered.filter(_beyond(fields, values, backwards=backwards))
        rows = list(ordered[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        self.has_previous = (more if backwards else bool(after)) and bool(rows)
        self.has_next = (True if backwards else more) and bool(rows)
        self.previous_token = keyset_token(rows[0], fields) if self.has_previous else ""
        self.next_token = keyset_token(rows[-1], fields) if self.has_next else ""
        self.rows = KeysetRows(rows, model)

    @staticmethod
    def _flip(name: str) -> str:
        return name[1:] if name.startswith("-") else f"-{name}"


def planner_estimate(queryset) -> int:
    """PostgreSQL's own estimate of the rows a queryset returns (EXPLAIN: no rows are read)."""
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:  # .none(), e.g. "my demands" of an account with no person
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def about(n: int) -> int:
    """Two significant figures: an estimate should not look exact."""
    if n < 100:
        return n
    digits = len(str(n)) - 2
    return round(n, -digits)


# Query parameters that page or sort a list; any other one filters it.
NON_FILTER_PARAMS = frozenset({"page", "after", "before", "pn", "sort", "export"})


class BoundedPaginator(LazyPaginator):
    """LazyPaginator within what a list can show: a page number or page size from the address
    beyond these is not passed to the database (OFFSET 10^20 is an error there, not an empty page);
    an absurd page number shows the first page, as a non-number does."""

    MAX_PAGE = 1_000_000
    MAX_PER_PAGE = 500

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, max(1, min(int(per_page), self.MAX_PER_PAGE)), *args, **kwargs)

    def validate_number(self, number):
        number = super().validate_number(number)
        if number > self.MAX_PAGE:
            raise PageNotAnInteger(_("That page number is too large."))
        return number


class ObjectListView(PermissionRequiredMixin, SingleTableMixin, FilterView):
    template_name = "portal/object_list.html"
    paginator_class = BoundedPaginator
    paginate_by = 25
    title = ""
    create_url_name: str | None = None
    create_permission: str | None = None
    # A data-exchange kind: the export then writes the import format, so it re-imports unchanged.
    exchange_kind: str | None = None
    export_basename = "export"
    # Columns of the readable workbook (?export=readable, portal.export.readable); empty: none offered.
    readable_columns: tuple = ()

    @staticmethod
    def read_replica(request) -> bool:
        """Exports read from the replica when there is one (portal/dbrouting.py); the list itself
        from the primary, where the user's own changes show at once."""
        return "export" in request.GET

    def get_queryset(self):
        return visible(super().get_queryset(), self.request.user, self.permission)

    keyset_page: KeysetPage | None = None

    def _keyset(self) -> tuple[str, ...] | None:
        """Keyset pages unless a column sort or a numbered page was asked for."""
        params = self.request.GET
        if params.get("sort") or params.get("page"):
            return None
        return keyset_fields(self.object_list)

    # The fields the table's cells read, as Model.only() names ("category__name"), for lists whose
    # rows would otherwise carry whole records and their related records (a demand's text, a
    # person's every column): the page's rows are loaded with these and only the relations they
    # name are joined. Exports keep the full queryset. Empty: whole rows.
    table_only: tuple[str, ...] = ()

    def get_table_data(self):
        data = super().get_table_data()
        if self.table_only and hasattr(data, "query"):
            relations = sorted({name.rsplit("__", 1)[0] for name in self.table_only if "__" in name})
            data = data.select_related(None).select_related(*relations).only(*self.table_only)
        fields = self._keyset() if hasattr(data, "query") else None
        if not fields:
            return data
        self.keyset_page = KeysetPage(data, fields, self.paginate_by,
                                      after=self.request.GET.get("after", ""), before=self.request.GET.get("before", ""))
        return self.keyset_page.rows

    def get_table_pagination(self, table):
        if self.keyset_page is not None:
            return False
        return {"per_page": self.paginate_by, "paginator_class": self.paginator_class}

    def get_paginate_by(self, queryset):
        # The table paginates (lazily); the ListView must not fetch a second, unused page.
        return None

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("export")
        if fmt in EXPORT_FORMATS or (fmt == READABLE and self.readable_columns):
            return self.export(fmt)
        return super().get(request, *args, **kwargs)

    def export(self, fmt: str):
        filterset = self.get_filterset(self.get_filterset_class())
        if not filterset.is_valid():
            messages.error(self.request, _("The filter is not valid; nothing was exported."))
            return redirect(self.request.path)
        queryset = filterset.qs
        if fmt == READABLE:
            return self.export_readable(queryset)
        if self.exchange_kind:
            from .dataexchange import get_kind

            kind = get_kind(self.exchange_kind)
            header, rows = kind.export_header(), kind.export_rows(queryset, user=self.request.user)
        else:
            # The table orders its queryset (its Meta.order_by); only then is
            # it cut to EXPORT_MAX_ROWS: a sliced queryset cannot be ordered any more.
            table = self.get_table_class()(queryset)
            table.data.data = table.data.data[:EXPORT_MAX_ROWS]
            values = table.as_values(exclude_columns=getattr(self, "export_exclude", ()))
            header = next(values)
            rows = values
        return export_response(fmt, self.export_basename, header, islice(rows, EXPORT_MAX_ROWS))

    def export_readable(self, queryset):
        """The same rows as the page (scope and filters), for people to read."""
        related = sorted({path for column in self.readable_columns for path in column.related})
        rows = queryset.select_related(*related)[:EXPORT_MAX_ROWS] if related else queryset[:EXPORT_MAX_ROWS]
        # Not logged as a reveal: personal numbers in readable columns are masked (members.masking).
        title = str(self.title or queryset.model._meta.verbose_name_plural)
        return readable_xlsx_response(f"{title}.xlsx", self.readable_columns, rows.iterator(chunk_size=2000), title)

    def list_count(self) -> tuple[int, bool, bool]:
        """(count, more than that, estimated). A huge list without filters gets the planner's
        estimate (reading 10,000 index entries only to print "more than 10,000" costs 30–50 ms at
        a million rows); any filtered or smaller list is counted exactly, up to the limit."""
        if not any(v for k, v in self.request.GET.items() if k not in NON_FILTER_PARAMS):
            estimate = self.estimated_count()
            if estimate is not None and estimate > settings.PORTAL_EXACT_COUNT_LIMIT:
                return about(estimate), False, True
        count, more = bounded_count(self.object_list)
        return count, more, False

    def estimated_count(self) -> int | None:
        """The size of the unfiltered list, when it may be too big to count: the planner's estimate
        (one EXPLAIN). A list with a maintained count overrides this; None: count the list."""
        return planner_estimate(self.object_list)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        count, more, estimated = self.list_count()
        context.update(
            title=self.title or self.object_list.model._meta.verbose_name_plural,
            row_count=count,
            row_count_more=more,
            row_count_estimated=estimated,
            create_url_name=self.create_url_name
            if self.create_url_name and has_permission(self.request.user, self.create_permission or self.permission)
            else None,
            export_formats=EXPORT_FORMATS,
            readable_export=bool(self.readable_columns),
            query_without_page=self._query_without_page(),
        )
        if self.keyset_page is not None:
            context["keyset"] = self._keyset_links(self.keyset_page)
        return context

    def _query_without_page(self) -> str:
        params = self.request.GET.copy()
        for name in ("page", "export", "after", "before", "pn"):
            params.pop(name, None)
        return params.urlencode()

    def _keyset_links(self, page: KeysetPage) -> dict:
        """Query strings for the first, previous and next pages; `pn` only numbers the page shown."""
        base = self._query_without_page()
        try:
            number = max(1, int(self.request.GET.get("pn", "1")))
        except ValueError:
            number = 1
        if not page.has_previous:
            number = 1

        def link(**params) -> str:
            return "?" + "&".join(part for part in (base, urlencode(params)) if part)

        return {
            "number": number,
            "first": link() if page.has_previous else "",
            "previous": link(before=page.previous_token, pn=number - 1) if page.has_previous else "",
            "next": link(after=page.next_token, pn=number + 1) if page.has_next else "",
        }


class ObjectDetailView(PermissionRequiredMixin, DetailView):
    """A record's page. Its change history (for those with `portal.audit`) is a panel loaded when
    opened, from the same address with `?history=1`: read by few, it was a tenth of the demand
    and person pages' cost on every view. Asked for as a page (a link followed without script),
    that address is the page with the history shown."""

    history_limit = 20
    # Models whose records belong to the object and whose changes its history shows too
    # (portal.audit.history_for `related`), e.g. ("activities.Milestone", "activities.Project_team").
    history_related: tuple[str, ...] = ()

    def get_object(self, queryset=None):
        return get_visible_or_404(
            self.get_queryset(), self.request.user, self.permission, pk=self.kwargs["pk"]
        )

    def get(self, request, *args, **kwargs):
        if "history" in request.GET and request.htmx:
            return self.history_panel()
        return super().get(request, *args, **kwargs)

    def history_panel(self):
        """The history alone, for the panel: the record is looked up only for its scope."""
        if not has_permission(self.request.user, "portal.audit"):
            raise PermissionDenied
        model = self.get_queryset().model
        self.object = get_visible_or_404(model._default_manager.all(), self.request.user, self.permission,
                                         pk=self.kwargs["pk"])
        return render(self.request, "portal/_history_table.html", {"history": self.history()})

    def history(self) -> list:
        return audit.history_for(self.object, limit=self.history_limit, related=self.history_related)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if has_permission(self.request.user, "portal.audit"):
            context["history_url"] = f"{self.request.path}?history=1"
            if "history" in self.request.GET:
                context["history"] = self.history()
        return context


class ScopedFormMixin:
    """Forms receive the user so that choices (e.g. org units) are limited to the user's scope."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs


class ObjectEditView(PermissionRequiredMixin, ScopedFormMixin, UpdateView):
    """Create (no pk) or update. The save runs in a transaction that locks the row again through
    the scope layer, and afterwards checks the saved record is still inside the user's scope, so
    nobody can edit or move a record out of reach."""

    template_name = "portal/object_form.html"
    title = ""

    def get_object(self, queryset=None):
        if "pk" not in self.kwargs:
            return None
        return get_visible_or_404(self.get_queryset(), self.request.user, self.permission, pk=self.kwargs["pk"])

    def form_valid(self, form):
        model = self.get_queryset().model
        with transaction.atomic():
            if form.instance.pk:
                get_visible_or_404(
                    model.objects.select_for_update(of=("self",)), self.request.user, self.permission,
                    pk=form.instance.pk,
                )
            self.object = self.save_form(form)
            if not visible(model.objects.filter(pk=self.object.pk), self.request.user, self.permission).exists():
                transaction.set_rollback(True)
                form.add_error(None, _("You may not place this record outside your scope."))
                return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return HttpResponseRedirect(self.get_success_url())

    def save_form(self, form):
        return form.save()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        model = self.get_queryset().model
        if self.title:
            context["title"] = self.title
        elif self.object:
            context["title"] = _("Edit %(thing)s") % {"thing": self.object}
        else:
            context["title"] = _("New %(thing)s") % {"thing": model._meta.verbose_name}
        return context


class ObjectDeleteView(PermissionRequiredMixin, DeleteView):
    template_name = "portal/object_confirm_delete.html"

    def get_object(self, queryset=None):
        return get_visible_or_404(self.get_queryset(), self.request.user, self.permission, pk=self.kwargs["pk"])

    def form_valid(self, form):
        try:
            with transaction.atomic():
                self.object.delete()
        except ProtectedError:
            messages.error(self.request, _("This record is still referenced by other records and cannot be deleted."))
            get_url = getattr(self.object, "get_absolute_url", None)
            return HttpResponseRedirect(get_url() if get_url else self.get_success_url())
        messages.success(self.request, _("Deleted."))
        return HttpResponseRedirect(self.get_success_url())


def detail_with_forms(view_class, request, obj, *, status: int = 200, **forms):
    """The detail page of `obj` again with the bound forms that failed validation: each error
    beside its field and what the user typed kept. A redirect after invalid input would lose both
    (the page would build fresh forms). The caller has already checked the user may post here."""
    view = view_class()
    view.setup(request, pk=obj.pk)
    view.object = view.get_object()
    context = view.get_context_data(object=view.object)
    context.update(forms)
    return view.render_to_response(context, status=status)
