"""Roles and the permission table of roles.md.

Every view, export and API endpoint names one permission. The table says, per role, how far that
permission reaches: every record (ALL), the account's scope subtree (SCOPE), the account's own
records (OWN) or the records assigned to it (ASSIGNED). A permission a role is not given is closed
(deny by default). Apps add their permissions with `define()` in their `permissions.py`.
"""
from __future__ import annotations

from enum import Enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    STAFF = "staff", _("Party-mass staff")
    HANDLER = "handler", _("Handler")
    BRANCH_SECRETARY = "branch_secretary", _("Branch secretary")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


# The Chinese labels used in import files, independent of the display language.
ROLE_ZH_LABELS = {
    "employee": ["职工", "群众", "职工/群众"],
    "staff": ["党群工作人员", "工作人员"],
    "handler": ["承办人"],
    "branch_secretary": ["支部书记"],
    "manager": ["管理者"],
    "admin": ["管理员"],
}


class Reach(Enum):
    ALL = "all"
    SCOPE = "scope"
    OWN = "own"
    ASSIGNED = "assigned"


ALL, SCOPE, OWN, ASSIGNED = Reach.ALL, Reach.SCOPE, Reach.OWN, Reach.ASSIGNED

# permission -> role -> tuple of reaches (a record is visible if any reach matches)
PERMISSIONS: dict[str, dict[str, tuple[Reach, ...]]] = {}


def define(permission: str, **reach_by_role: Reach | tuple[Reach, ...]) -> None:
    """Declare who may use `permission` and how far. Admins always reach everything."""
    table = {}
    for role, reach in reach_by_role.items():
        if role not in Role.values:
            raise ValueError(f"unknown role {role!r} in permission {permission!r}")
        table[role] = reach if isinstance(reach, tuple) else (reach,)
    table.setdefault(Role.ADMIN.value, (ALL,))
    PERMISSIONS[permission] = table


def reaches(user, permission: str) -> tuple[Reach, ...]:
    """How far `user` may use `permission`; an empty tuple means not at all."""
    if permission not in PERMISSIONS:
        raise KeyError(f"permission {permission!r} is not defined")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    return PERMISSIONS[permission].get(user.role, ())


def has_permission(user, permission: str) -> bool:
    return bool(reaches(user, permission))


# Permissions of the shared kit (the members app defines its own in members/permissions.py).
define("portal.home", employee=OWN, staff=SCOPE, handler=ASSIGNED, branch_secretary=SCOPE, manager=SCOPE)
# A notification is addressed to one account (Notification.scope.assignee), so the reach is ASSIGNED.
define(
    "portal.notifications", employee=ASSIGNED, staff=ASSIGNED, handler=ASSIGNED, branch_secretary=ASSIGNED,
    manager=ASSIGNED, admin=ASSIGNED,
)
define("portal.accounts", admin=ALL)
define("portal.imports", admin=ALL)
define("portal.robots", admin=ALL)  # WeCom / DingTalk group robots (portal/robots.py)
# Import batches: an account sees the ones it uploaded (still after losing the right to import, when
# they can no longer be applied); administrators see every one.
define(
    "portal.import_batches", employee=ASSIGNED, staff=ASSIGNED, handler=ASSIGNED, branch_secretary=ASSIGNED,
    manager=ASSIGNED, admin=ALL,
)
define("portal.audit", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("portal.audit_trail", admin=ALL)  # the audit trail page: changes, denials, failed logins, reveals
