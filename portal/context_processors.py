from django.conf import settings


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
            "unread_notifications": unread_count(user),
        }
    return cached


def unread_count(user) -> int:
    # The session's account comes with the count (portal.auth.ModelBackend); an account loaded
    # otherwise costs one query on the partial index of unread rows.
    count = getattr(user, "unread_notification_count", None)
    if count is None:
        count = user.notifications.filter(read_at__isnull=True).count()
    return count
