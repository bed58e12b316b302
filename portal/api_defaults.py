"""REST framework defaults named in settings. Kept apart from portal.api, which imports DRF views
(DRF reads these settings while its views load)."""
from rest_framework import permissions
from rest_framework.pagination import CursorPagination


class DenyAll(permissions.BasePermission):
    """The default: an endpoint that does not state who may use it is closed."""

    def has_permission(self, request, view):
        return False


class Pagination(CursorPagination):
    """Cursor pages: constant cost at any depth, no COUNT over big tables."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-pk"
