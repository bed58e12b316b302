"""Masking of ID numbers and phones (PIPL: minimum necessary; every reveal is logged)."""
from __future__ import annotations

from portal.roles import Role

REVEAL_ROLES_WITH_PERMISSION = {Role.STAFF, Role.BRANCH_SECRETARY, Role.MANAGER}


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(value: str) -> str:
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def may_reveal_any(user) -> bool:
    """May this account see unmasked data of people in its scope at all?"""
    if not user.is_authenticated:
        return False
    return user.role == Role.ADMIN or (user.role in REVEAL_ROLES_WITH_PERMISSION and user.may_view_sensitive)


def may_reveal(user, person) -> bool:
    """The caller has already found `person` through the scope layer (people.view)."""
    if not user.is_authenticated:
        return False
    if user.person_id == person.pk:
        return True
    return may_reveal_any(user)
