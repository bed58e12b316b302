"""Shared REST API kit: deny-by-default permission, cursor pagination (no COUNT on big tables),
and a viewset base that applies the same scope layer as the pages."""
from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError

from .roles import has_permission
from .scope import note_if_out_of_scope, visible


class RolePermission(permissions.BasePermission):
    def has_permission(self, request, view):
        permission = view.permission_for(request)
        if permission is None:  # e.g. a write to a read-only endpoint: closed, not a KeyError
            return False
        return bool(request.user and request.user.is_authenticated) and has_permission(request.user, permission)


class ScopedMixin:
    """Reads use `read_permission`, writes `write_permission`, deletes `delete_permission` (the
    write permission unless set, as the pages' delete view may need more than their edit view).
    Objects outside the user's scope answer 404, exactly like the pages."""

    permission_classes = [RolePermission]
    read_replica = ("list",)  # the list reads come from the replica when there is one (portal/dbrouting.py)
    read_permission: str = ""
    write_permission: str | None = None
    delete_permission: str | None = None

    def permission_for(self, request) -> str:
        if request.method in permissions.SAFE_METHODS:
            return self.read_permission
        if request.method == "DELETE" and self.delete_permission:
            return self.delete_permission
        return self.write_permission

    def get_queryset(self):
        return visible(super().get_queryset(), self.request.user, self.permission_for(self.request))

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            # Unscoped and unfiltered: an existing record outside the user's scope is a denial to log.
            lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
            if lookup_url_kwarg in self.kwargs:
                note_if_out_of_scope(self.queryset.all(), {self.lookup_field: self.kwargs[lookup_url_kwarg]})
            raise

    def _save_in_scope(self, serializer):
        model = serializer.Meta.model
        with transaction.atomic():
            instance = serializer.save()
            if not visible(model.objects.filter(pk=instance.pk), self.request.user, self.permission_for(self.request)).exists():
                transaction.set_rollback(True)
                raise ValidationError({"non_field_errors": [_("You may not place this record outside your scope.")]})

    def perform_create(self, serializer):
        self._save_in_scope(serializer)

    def perform_update(self, serializer):
        self._save_in_scope(serializer)

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except (ProtectedError, RestrictedError):
            raise ValidationError(
                {"non_field_errors": [_("This record is still referenced by other records and cannot be deleted.")]}
            ) from None


class ScopedReadOnlyViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedViewSet(ScopedMixin, viewsets.ModelViewSet):
    pass


class _ScopedChoices:
    """Limits a related field's choices to the records the requesting user can see under
    `permission`, so an out-of-scope id or slug is "does not exist" (400), never accepted."""

    def __init__(self, *, permission: str, **kwargs):
        self.permission = permission
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        queryset = super().get_queryset()
        if request is None:
            return queryset.none()
        return visible(queryset, request.user, self.permission)


class ScopedRelatedField(_ScopedChoices, serializers.PrimaryKeyRelatedField):
    """A foreign key by id that accepts only records the requesting user can see."""


class SlugScopedRelatedField(_ScopedChoices, serializers.SlugRelatedField):
    """A foreign key by a natural key (code, ref, employee number), scoped the same way."""
