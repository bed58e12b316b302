"""reverse() once per URL for links a page draws many times (the menu on every page, the dashboard's
~600 drill-down links). The path reverse() returns starts with the request's script prefix
(SCRIPT_NAME, when the portal is mounted below the site root), so the prefix is part of the key."""
from __future__ import annotations

import functools

from django.urls import get_script_prefix, reverse


@functools.lru_cache(maxsize=1024)
def _reverse(script_prefix: str, viewname: str, args: tuple) -> str:
    return reverse(viewname, args=args)


def cached_reverse(viewname: str, *args) -> str:
    return _reverse(get_script_prefix(), viewname, args)
