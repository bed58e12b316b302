"""django-tables2 asks `inspect.signature` which arguments each column's render method takes — for
every cell of every row (django_tables2.utils.call_with_appropriate). A 25-row, 10-column list page
spent ~20 % of its time there. A function's parameters never change, so the answer is cached per
function (bound methods by their underlying function; they always drop `self`)."""
from __future__ import annotations

import functools
import inspect

from django_tables2 import utils


@functools.lru_cache(maxsize=4096)
def _signature_of_function(function, bound: bool):
    return _uncached_signature(function.__get__(object()) if bound else function)


_uncached_signature = utils.signature


def cached_signature(fn):
    if inspect.ismethod(fn) and inspect.isfunction(fn.__func__):
        return _signature_of_function(fn.__func__, True)
    if inspect.isfunction(fn):
        return _signature_of_function(fn, False)
    return _uncached_signature(fn)  # partials, callables: rare, not cached


def install() -> None:
    utils.signature = cached_signature
