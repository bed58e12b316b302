"""The one scope layer: which records a user may see, applied in the database query.

Each scoped model says how it attaches to the org tree, to a person and to an assignee:

    class Demand(models.Model):
        scope = ScopeSpec(org="org_unit", owner="submitter", assignee="handler")

`visible(queryset, user, permission)` turns the permission's reaches for the user's role
(portal.roles) into one WHERE clause. Out-of-scope objects are simply not found, so detail views
answer 404 (`get_visible_or_404`).
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from .roles import ALL, ASSIGNED, OWN, SCOPE, reaches


@dataclass(frozen=True)
class ScopeSpec:
    # Lookup path to the OrgUnit the record is attached to ("" when the model is OrgUnit itself).
    org: str | None = None
    # Lookup path to the members.Person the record belongs to (for OWN).
    owner: str | None = None
    # Lookup path to the portal.User the record is assigned to (for ASSIGNED).
    assignee: str | None = None
    # A second org unit the record is attached to (a membership transfer belongs to the branch it
    # leaves and to the branch it joins): SCOPE reaches it from either unit's subtree.
    also_org: str | None = None


def _join(prefix: str, field: str) -> str:
    return f"{prefix}__{field}" if prefix else field


# --- The org tree: "units under X" ------------------------------------------------------------------
# A unit's materialised path lists its ancestors' ids and its own ("0000001/0000010/"), so "at or
# below X" is a prefix match. These three forms are the only places that write it.
def subtree_q(unit, via: str = "") -> Q:
    """Records attached to `unit` (an OrgUnit, or its path) or a unit below it. `via` is the lookup
    from the record to its OrgUnit ("org_unit", "person__org_unit"; "" for OrgUnit itself)."""
    return Q(**{_join(via, "path__startswith"): getattr(unit, "path", unit)})


def in_subtree(unit, of) -> bool:
    """Python form: `unit` is `of` or below it (both OrgUnits, or paths)."""
    return getattr(unit, "path", unit).startswith(getattr(of, "path", of))


def subtree_mask(paths, of):
    """Array form (numpy, for computations over many rows at once): True where the path in
    `paths` is `of` or below it."""
    import numpy as np

    return np.char.startswith(np.asarray(paths).astype(str), getattr(of, "path", of))


def subtree_sql(path: str, of_path: str) -> str:
    """SQL form for raw queries: the unit whose path is the expression `path` is at or below the
    unit whose path is `of_path`."""
    return f"starts_with({path}, {of_path})"


def scope_q(model, user, permission: str) -> Q | None:
    """The filter for `user` on `model` under `permission`; None means everything."""
    spec: ScopeSpec = getattr(model, "scope", None)
    if spec is None:
        raise TypeError(f"{model.__name__} has no ScopeSpec; it cannot be scoped")
    q = Q()  # nothing yet; an empty Q joined with another is that other one
    user_reaches = list(reaches(user, permission))
    by_org = SCOPE in user_reaches and spec.org is not None and bool(user.scope_org_id)
    for reach in user_reaches:
        if reach is ALL:
            return None
        if reach is SCOPE and by_org:
            # Materialised path: the subtree is one indexed prefix match.
            q |= subtree_q(user.scope_org_path, spec.org)
            if spec.also_org is not None:
                q |= subtree_q(user.scope_org_path, spec.also_org)
        elif reach is OWN and spec.owner is not None and user.person_id:
            if by_org and _own_records_in_subtree(spec, user):
                continue
            q |= Q(**{_join(spec.owner, "id"): user.person_id})
        elif reach is ASSIGNED and spec.assignee is not None:
            q |= Q(**{spec.assignee: user.pk})
    return q if q else Q(pk__in=[])


def _own_records_in_subtree(spec: ScopeSpec, user) -> bool:
    """Whether the user's own records are all in the user's subtree already: the record's unit is
    its owner's unit (a person, their life events) and the user's own unit is in the user's scope.
    The owner condition then adds no record, and leaving it out keeps the filter one indexed
    prefix match: OR-ed with it, a branch secretary's people list read all 100,000 people (55 ms)
    instead of the branch's (5 ms)."""
    if spec.also_org is not None or spec.org != _join(spec.owner, "org_unit"):
        return False
    return in_subtree(user.person.org_unit, user.scope_org_path)


def visible(queryset: QuerySet, user, permission: str) -> QuerySet:
    q = scope_q(queryset.model, user, permission)
    return queryset if q is None else queryset.filter(q)


def visible_within(queryset: QuerySet, user, permission: str, unit, via: str = "") -> QuerySet:
    """What `user` may see of the records of `unit`'s subtree: visible() and subtree_q(unit, via).
    When the user's scope is only their unit's subtree and `unit` lies in it, the one prefix match
    of `unit` says both: PostgreSQL takes two such conditions for independent and multiplies
    their selectivities (it expected 8 of a general branch's 200 units and walked every person
    of them instead of the index of the few life events still to visit)."""
    q = scope_q(queryset.model, user, permission)
    within = subtree_q(unit, via)
    if q is None or (q == subtree_q(user.scope_org_path, via) and in_subtree(unit, user.scope_org_path)):
        return queryset.filter(within)
    return queryset.filter(q).filter(within)


# The out-of-scope lookups of the current request (portal.middleware.AccessDenialMiddleware sets a
# list per request): a 404 they cause is logged as an access denial.
out_of_scope_lookups: contextvars.ContextVar[list | None] = contextvars.ContextVar("out_of_scope_lookups", default=None)


def get_visible_or_404(queryset: QuerySet, user, permission: str, **lookup):
    try:
        return visible(queryset, user, permission).get(**lookup)
    except queryset.model.DoesNotExist:
        note_if_out_of_scope(queryset, lookup)
        raise Http404 from None


def note_if_out_of_scope(queryset: QuerySet, lookup: dict) -> None:
    """After a scoped lookup found nothing: if the record exists (in the unscoped `queryset`), it
    is out of this user's scope — answered as 404 like a missing one, and noted for the denial log.
    Used by the pages (get_visible_or_404) and the API (portal.api.ScopedMixin.get_object)."""
    seen = out_of_scope_lookups.get()
    if seen is None:
        return
    try:
        exists = queryset.filter(**lookup).exists()
    except (TypeError, ValueError, ValidationError):  # a malformed id: nothing to find, nothing to note
        return
    if exists:
        seen.append(f"{queryset.model._meta.label} {lookup}")
