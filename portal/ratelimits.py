"""Rate limits of the portal's public doors (django-ratelimit, counted in the Redis cache).

`throttled(name, view)` wraps a view with two counters at the rate settings.PORTAL_RATE_LIMITS[name]:
one per client address and, when someone is signed in, one per account (neither many accounts
behind one address nor one account from many addresses get more). Over the limit the request is
answered 429: a page in Chinese, JSON for the API.

The sign-in doors (the login page, the API token endpoint) are throttled differently, by
`throttled_sign_in`: a whole office often reaches the portal through one address, and every
morning all of it signs in, so only *failed* attempts are counted there (see that function)."""
from __future__ import annotations

import functools

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from .auth import typed_username

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _address(group, request):
    """The client's address: REMOTE_ADDR, or behind a proxy the header it sets (RATELIMIT_IP_META_KEY,
    e.g. HTTP_X_REAL_IP). A request without one (not from a socket) counts as one client, "unknown"."""
    return request.META.get(settings.RATELIMIT_IP_META_KEY, "").split(",")[0].strip() or "unknown"


def _account(group, request):
    return f"account:{request.user.pk}"


def rate_limited(request):
    message = _("Too many requests. Please wait a few minutes and try again.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "429.html", {"message": message}, status=429)


def throttled(name: str, view, *, methods=ALL_METHODS):
    """`view` limited to settings.PORTAL_RATE_LIMITS[name] requests of `methods`."""

    def rate(group, request):
        return settings.PORTAL_RATE_LIMITS[name]

    def account_rate(group, request):
        user = getattr(request, "user", None)
        return rate(group, request) if user is not None and user.is_authenticated else None  # None: not counted

    group = f"portal.{name}"
    limited = ratelimit(group=group, key=_address, rate=rate, method=list(methods))(
        ratelimit(group=group, key=_account, rate=account_rate, method=list(methods))(view))

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return limited(request, *args, **kwargs)
        except Ratelimited:
            return rate_limited(request)

    return wrapper


def _address_and_name(group, request):
    """The client's address and the account name typed (lower case): one person's forgotten
    password does not count against the colleagues behind the same address."""
    return f"{_address(group, request)}|{(typed_username(request) or '').strip().lower()}"


def throttled_sign_in(name: str, view, *, succeeded):
    """A sign-in door: its failed attempts (`succeeded(response)` false) are counted per address and
    name typed at settings.PORTAL_RATE_LIMITS[name], and per address at …[f"{name}_address"] (many
    names tried from one place). Over either, the next attempt is answered 429 without trying the
    password. Showing the form and signing in successfully are never counted. django-axes still
    locks an account after repeated failures."""
    counters = ((f"portal.{name}", _address_and_name, name), (f"portal.{name}_address", _address, f"{name}_address"))

    def usage(request, group, key, rate_name, *, increment):
        return get_usage(request, group=group, key=key, rate=settings.PORTAL_RATE_LIMITS[rate_name],
                         method=["POST"], increment=increment)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        for group, key, rate_name in counters:
            used = usage(request, group, key, rate_name, increment=False)
            if used is not None and used["count"] >= used["limit"]:
                return rate_limited(request)
        response = view(request, *args, **kwargs)
        if not succeeded(response):
            for group, key, rate_name in counters:
                usage(request, group, key, rate_name, increment=True)
        return response

    return wrapper
