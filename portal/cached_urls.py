"""reverse() once per URL for links a page draws many times (the menu on every page, the dashboard's
~600 drill-down links), and once per view for the links to records (`id_url`: a list page links
every row, twice, to its record). The path reverse() returns starts with the request's script prefix
(SCRIPT_NAME, when the portal is mounted below the site root), so the prefix is part of the key."""
from __future__ import annotations

import functools

from django.urls import get_script_prefix, reverse

# An id no record has, to find where the id goes in a view's path.
_PLACEHOLDER = "918273645546"


@functools.lru_cache(maxsize=1024)
def _reverse(script_prefix: str, viewname: str, args: tuple) -> str:
    return reverse(viewname, args=args)


def cached_reverse(viewname: str, *args) -> str:
    return _reverse(get_script_prefix(), viewname, args)


@functools.lru_cache(maxsize=256)
def _around_id(script_prefix: str, viewname: str) -> tuple[str, str]:
    before, found, after = reverse(viewname, args=[int(_PLACEHOLDER)]).partition(_PLACEHOLDER)
    if not found or _PLACEHOLDER in after:
        raise ValueError(f"{viewname} does not take one integer id")
    return before, after


def id_url(viewname: str, pk: int) -> str:
    """reverse(viewname, args=[pk]) for a view whose one argument is an integer id (`<int:pk>`)."""
    before, after = _around_id(get_script_prefix(), viewname)
    return f"{before}{int(pk)}{after}"
