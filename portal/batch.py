"""Several small reads in one round trip, for pages that show many small facts (the home page's
widgets): bounded counts of several querysets, and several short lists of one model."""
from __future__ import annotations

from typing import Callable, TypeVar

from django.db import connections
from django.db.models import IntegerField, QuerySet, Value, Window
from django.db.models.functions import RowNumber

T = TypeVar("T")


def once_per_request(request, key: str, compute: Callable[[], T]) -> T:
    """`compute()` the first time in this request, the same value after (widgets of one page that
    need the same read). Nothing outlives the request."""
    memo = request.__dict__.setdefault("_once_per_request", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def bounded_counts(querysets: dict[str, QuerySet], limit: int) -> dict[str, tuple[int, bool]]:
    """{name: (count, more)} of each queryset counted up to `limit` — what
    `portal.generic.bounded_count` gives for one — in one query: a scalar subquery per queryset,
    each with its own LIMIT, so every count keeps its own plan and index."""
    if not querysets:
        return {}
    parts, params, using = [], [], None
    for queryset in querysets.values():
        using = queryset.db
        sql, part_params = queryset.order_by().values("pk")[: limit + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS bounded)")
        params.extend(part_params)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: (min(count, limit), count > limit) for name, count in zip(querysets, row)}


def short_lists(parts: dict[str, tuple[QuerySet, int]]) -> dict[str, list]:
    """{name: the first `limit` rows of the queryset, in its order} for several ordered querysets of
    one model in one UNION ALL query. The querysets must select the same related objects
    (select_related) so that their columns line up."""
    tagged = []
    for index, (queryset, limit) in enumerate(parts.values()):
        ordering = list(queryset.query.order_by or queryset.model._meta.ordering or ["pk"])
        tagged.append(
            queryset.annotate(
                batch_list=Value(index, output_field=IntegerField()),
                batch_position=Window(RowNumber(), order_by=ordering),
            ).order_by(*ordering)[:limit]
        )
    result: dict[int, list] = {index: [] for index in range(len(tagged))}
    if tagged:
        rows = tagged[0].union(*tagged[1:], all=True) if len(tagged) > 1 else tagged[0]
        for row in sorted(rows, key=lambda r: (r.batch_list, r.batch_position)):
            result[row.batch_list].append(row)
    return {name: result[index] for index, name in enumerate(parts)}
