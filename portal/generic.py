"""Generic list / detail / edit / delete views. A concrete view only names its queryset, filterset,
table, form and permission; scope, filtering, pagination without a full COUNT, export and audit
history live here once."""
from __future__ import annotations

from itertools import islice

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import DeleteView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.paginators import LazyPaginator

from . import audit
from .export import EXPORT_FORMATS, export_response
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


class ObjectListView(PermissionRequiredMixin, SingleTableMixin, FilterView):
    template_name = "portal/object_list.html"
    paginator_class = LazyPaginator
    paginate_by = 25
    title = ""
    create_url_name: str | None = None
    create_permission: str | None = None
    # A data-exchange kind: the export then writes the import format, so it re-imports unchanged.
    exchange_kind: str | None = None
    export_basename = "export"

    def get_queryset(self):
        return visible(super().get_queryset(), self.request.user, self.permission)

    def get_table_pagination(self, table):
        return {"per_page": self.paginate_by, "paginator_class": self.paginator_class}

    def get_paginate_by(self, queryset):
        # The table paginates (lazily); the ListView must not fetch a second, unused page.
        return None

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("export")
        if fmt in EXPORT_FORMATS:
            return self.export(fmt)
        return super().get(request, *args, **kwargs)

    def export(self, fmt: str):
        filterset = self.get_filterset(self.get_filterset_class())
        if not filterset.is_valid():
            messages.error(self.request, _("The filter is not valid; nothing was exported."))
            return redirect(self.request.path)
        queryset = filterset.qs
        if self.exchange_kind:
            from .dataexchange import get_kind

            kind = get_kind(self.exchange_kind)
            header, rows = kind.export_header(), kind.export_rows(queryset, user=self.request.user)
            audit.log_export(self.request, kind=self.exchange_kind, queryset=queryset)
        else:
            table = self.get_table_class()(queryset[:EXPORT_MAX_ROWS])
            values = table.as_values(exclude_columns=getattr(self, "export_exclude", ()))
            header = next(values)
            rows = values
        return export_response(fmt, self.export_basename, header, islice(rows, EXPORT_MAX_ROWS))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        count, more = bounded_count(self.object_list)
        context.update(
            title=self.title or self.object_list.model._meta.verbose_name_plural,
            row_count=count,
            row_count_more=more,
            create_url_name=self.create_url_name
            if self.create_url_name and has_permission(self.request.user, self.create_permission or self.permission)
            else None,
            export_formats=EXPORT_FORMATS,
            query_without_page=self._query_without_page(),
        )
        return context

    def _query_without_page(self) -> str:
        params = self.request.GET.copy()
        params.pop("page", None)
        params.pop("export", None)
        return params.urlencode()


class ObjectDetailView(PermissionRequiredMixin, DetailView):
    history_limit = 20

    def get_object(self, queryset=None):
        return get_visible_or_404(
            self.get_queryset(), self.request.user, self.permission, pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if has_permission(self.request.user, "portal.audit"):
            context["history"] = audit.history_for(self.object, limit=self.history_limit)
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
