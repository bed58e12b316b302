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

    def get_page_size(self, request):
        """A page_size that is not a whole number from 1 to max_page_size is a 400, not ignored."""
        from django.utils.translation import gettext as _
        from rest_framework.exceptions import ValidationError

        values = request.query_params.getlist(self.page_size_query_param)
        if values:
            value = values[-1]
            if len(values) > 1 or not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
                raise ValidationError({self.page_size_query_param: [
                    _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the errors it can answer
    (the views raise them through DRF; the schema listed only the success), so clients and the
    schema fuzzer see them: 400 for bad input, 401/403 for authentication and permission, 404 for
    an object that does not exist or is out of scope, 429 when throttled."""
    del generator, request, public
    error = {"description": "Error", "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": True}}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            # An empty optional filter (?received_after=) means "not filtered" (django-filter).
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            responses = operation.setdefault("responses", {})
            # 404 also on lists: an unknown pagination cursor is "not found".
            for code in ("400", "401", "403", "404", "429"):
                responses.setdefault(code, error)
    return result
