class ChineseFirstMiddleware:
    """zh-Hans is the portal's language unless the user chose English with the language switch
    (a cookie). The browser's Accept-Language header is not consulted: an office PC with an
    English browser still shows the Chinese portal. Runs before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


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
