class ChineseFirstMiddleware:
    """zh-Hans is the portal's language unless the user chose English with the language switch
    (a cookie). The browser's Accept-Language header is not consulted: an office PC with an
    English browser still shows the Chinese portal. Runs before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
