from django.conf import settings

from .registry import menu_for


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"site_name": settings.PORTAL_SITE_NAME}
    # Templates rendered inside the page (e.g. django-tables2's table) run the context processors
    # again; compute once per request.
    cached = getattr(request, "_portal_context", None)
    if cached is None:
        cached = request._portal_context = {
            "site_name": settings.PORTAL_SITE_NAME,
            "menu": menu_for(user),
            # Unread count is one indexed query (partial index on unread rows).
            "unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
        }
    return cached
