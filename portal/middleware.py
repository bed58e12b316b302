from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


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
    """Logs every refusal with account, IP, path and time (portal.AccessDenial): each 403, and a
    404 caused by the scope layer on a record that exists (portal.scope.get_visible_or_404 notes
    it). Looks at the response, so a refusal raised anywhere in the view counts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .audit import record_denial
        from .scope import out_of_scope_lookups

        seen: list[str] = []
        token = out_of_scope_lookups.set(seen)
        try:
            response = self.get_response(request)
        finally:
            out_of_scope_lookups.reset(token)
        if response.status_code == 403:
            record_denial(request, status=403)
        elif response.status_code == 404 and seen:
            record_denial(request, status=404, detail=seen[0])
        return response


class RejectControlCharactersMiddleware:
    """A query parameter holding a C0 control character (other than tab and newline) is never a
    value the portal asked for; PostgreSQL cannot even compare text with NUL. Such a request is
    answered 400 before any view reads it (portal/safetext.py keeps them out of forms and the API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.core.exceptions import BadRequest
        from django.utils.translation import gettext as _

        from .safetext import CONTROL_CHARACTERS

        for key, values in request.GET.lists():
            if CONTROL_CHARACTERS.search(key) or any(CONTROL_CHARACTERS.search(value) for value in values):
                raise BadRequest(_("The address contains control characters."))
        return self.get_response(request)


class HtmxSignInMiddleware:
    """A part of a page that htmx loads (a demand step's form, a lazy widget) after the session
    expired would be answered with the login page, and htmx would put that page inside the part.
    Such an answer sends the whole browser to the login page instead, back to the page it was on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Cheap tests first: this runs on every request, the login address is looked up only for
        # an htmx request that was redirected.
        if request.htmx and response.status_code == 302 and (
                response.get("Location", "").split("?")[0] == resolve_url(settings.LOGIN_URL)):
            page = request.htmx.current_url_abs_path or "/"
            return HttpResponseClientRedirect(redirect_to_login(page)["Location"])
        return response
