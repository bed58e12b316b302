class ChineseFirstMiddleware:
    """zh-Hans is the portal's language unless the user chose English with the language switch
    (a cookie). The browser's Accept-Language header is not consulted: an office PC with an
    English browser still shows the Chinese portal. Runs before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class AccessDenialMiddleware:
    """Logs every refusal: a 403 from the permission table and a 404 of the scope layer on a record
    that exists (portal.scope.OutOfScope), with account, IP, path and time (portal.AccessDenial)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied

        from .audit import record_denial
        from .scope import OutOfScope

        if isinstance(exception, OutOfScope):
            record_denial(request, status=404, detail=str(exception))
        elif isinstance(exception, PermissionDenied):
            record_denial(request, status=403, detail=str(exception))
        return None
