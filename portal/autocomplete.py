from django.db.models import Q
from django.http import JsonResponse
from django.views import View

from .generic import PermissionRequiredMixin
from .scope import visible


class AutocompleteView(PermissionRequiredMixin, View):
    """JSON for tom-select: at most 20 scoped matches of ?q= over `search_fields`."""

    model = None
    search_fields: tuple[str, ...] = ()
    limit = 20
    # False for a directory (any active unit, any handler) or a queryset scoped by get_queryset
    # itself; the permission still guards the view.
    scoped = True

    def get_queryset(self):
        return self.model.objects.all()

    def label(self, obj) -> str:
        return str(obj)

    def get(self, request):
        term = request.GET.get("q", "").strip()
        qs = visible(self.get_queryset(), request.user, self.permission) if self.scoped else self.get_queryset()
        if term:
            q = Q()
            for field in self.search_fields:
                q |= Q(**{field: term})
            qs = qs.filter(q)
        results = [{"value": obj.pk, "text": self.label(obj)} for obj in qs[: self.limit]]
        return JsonResponse({"results": results})
