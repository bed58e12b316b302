"""Who must be told about a record, and who may act on its unit — the one rule, scope-based.

A record is attached to an org unit. The accounts that answer for that unit are the accounts whose
scope subtree holds it (their `scope_org` is the unit or one of its ancestors), with a role that may
act there. Notifications go to the *nearest* level that has any such account, so that a branch's
reminder reaches the branch's secretary, not every secretary above it — and a unit without an
account of its own is still covered by the unit above it, up to the root. A 督办 is never addressed
to nobody: when no unit on the way up has a supervising account, the administrators are told.

- `recipients_for(unit, roles=HEADS)`: who is told about a record of `unit` (SLA warnings,
  ratings, responsibility items, meeting reminders).
- `supervisors_of(unit)`: who supervises (督办) a record of `unit` — the secretaries, staff and
  managers of the nearest unit above the heads who answer for it; the root's own at the top.
- `accounts_acting_on(unit, roles)`: every account that may act on `unit`;
  `pickable_people(user, unit)`: the people a picker of colleagues offers (mediators, parties) —
  those in the user's scope, the user themself, and everyone whose account may act on `unit`.
- `Recipients(roles)`: the same rule for many units at once (sweeps), one query.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from .roles import Role

# Who answers for a unit's work day to day: its secretaries and the party-mass staff.
HEADS = (Role.BRANCH_SECRETARY, Role.STAFF)
# Who may supervise (督办) a unit: the heads and the managers of a scope holding it.
SUPERVISORS = (Role.BRANCH_SECRETARY, Role.STAFF, Role.MANAGER)
# Who may act on a unit's records (mediate, handle, take part): the supervisors and the handlers.
ACTING = (Role.BRANCH_SECRETARY, Role.STAFF, Role.MANAGER, Role.HANDLER)


def ancestor_ids(unit) -> list[int]:
    """The ids of `unit` and its ancestors, root first (from the materialised path)."""
    return [int(segment) for segment in unit.path.strip("/").split("/") if segment]


@dataclass
class Told:
    """The accounts to tell and the unit they answer for (None only when nobody answers)."""

    users: list
    unit: object | None

    def __iter__(self):  # users, unit = recipients_for(...)
        return iter((self.users, self.unit))


class Recipients:
    """The accounts of `roles` grouped by the unit of their scope, loaded once (one query)."""

    def __init__(self, roles: Iterable[str] = HEADS, *, unit_ids: Iterable[int] | None = None):
        from .models import User

        users = User.objects.filter(is_active=True, role__in=list(roles), scope_org__isnull=False).select_related("scope_org")
        if unit_ids is not None:
            users = users.filter(scope_org_id__in=list(unit_ids))
        self.by_unit: dict[int, list] = defaultdict(list)
        for user in users.order_by("pk"):
            self.by_unit[user.scope_org_id].append(user)

    def nearest(self, unit, *, above: bool = False) -> Told:
        """The accounts of the nearest unit, going up from `unit` (from its parent when `above`),
        that has any."""
        ids = ancestor_ids(unit)
        if above:
            ids = ids[:-1]
        for unit_id in reversed(ids):
            if self.by_unit.get(unit_id):
                users = self.by_unit[unit_id]
                return Told(list(users), users[0].scope_org)
        return Told([], None)

    def everyone_over(self, unit) -> list:
        """All accounts whose scope holds `unit`, at any level."""
        return [user for unit_id in ancestor_ids(unit) for user in self.by_unit.get(unit_id, [])]


def recipients_for(unit, roles: Iterable[str] = HEADS, *, above: bool = False) -> Told:
    """Who is told about a record of `unit`: the accounts of `roles` at the nearest level that has
    any, going up to the root (one query)."""
    return Recipients(roles, unit_ids=ancestor_ids(unit)).nearest(unit, above=above)


def supervisors_of(unit) -> Told:
    """督办 of a record of `unit`: the secretaries, staff and managers of the nearest unit above
    the unit whose heads answer for it (`recipients_for`); at the root, the root's own; when no
    unit on the way up has any, the administrators (told as the root). One or two queries."""
    recipients = Recipients(SUPERVISORS, unit_ids=ancestor_ids(unit))
    heads_unit = next(
        (user.scope_org for unit_id in reversed(ancestor_ids(unit)) for user in recipients.by_unit.get(unit_id, [])
         if user.role in HEADS),
        unit,
    )
    told = recipients.nearest(heads_unit, above=True)
    if not told.users:
        told = recipients.nearest(heads_unit)
    if not told.users:
        from .models import User
        from .org import org_unit_model

        root = org_unit_model().objects.filter(pk=ancestor_ids(unit)[0]).first()
        told = Told(list(User.objects.filter(is_active=True, role=Role.ADMIN).order_by("pk")), root)
    return told


def acting_on_q(unit, roles: Iterable[str], *, prefix: str = "") -> Q:
    """The filter of accounts (under `prefix`, e.g. "account__" from Person) that may act on `unit`:
    an administrator, or an account of `roles` whose scope holds the unit."""
    return Q(**{f"{prefix}is_active": True}) & (
        Q(**{f"{prefix}role": Role.ADMIN})
        | Q(**{f"{prefix}role__in": list(roles), f"{prefix}scope_org_id__in": ancestor_ids(unit)})
    )


def accounts_acting_on(unit, roles: Iterable[str] = SUPERVISORS):
    from .models import User

    return User.objects.filter(acting_on_q(unit, roles))


def pickable_people(user, unit=None, permission: str = "people.view", roles: Iterable[str] = ACTING):
    """People a picker of colleagues offers for a record of `unit`: the people of the user's
    scope, the user themself, and the people whose account may act on `unit` (even outside the
    user's scope: a mediator from the committee for a branch's dispute)."""
    from .org import person_model
    from .scope import scope_q

    Person = person_model()
    in_scope = scope_q(Person, user, permission)
    if in_scope is None:
        return Person.objects.all()
    colleagues = Q(pk=user.person_id) if user.person_id else Q(pk__in=[])
    if unit is not None:
        colleagues |= Q(account__in=accounts_acting_on(unit, roles))
    return Person.objects.filter(in_scope | colleagues)
