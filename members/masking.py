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


def people_export_masks(user, *, unmasked: bool = False) -> bool:
    """The one decision every export of people makes: are ID numbers and phones masked?

    Masked by default, like the pages. Unmasked only when the caller asked for it explicitly
    (`unmasked=True`, the "export with ID numbers and phones" form, which also asks for a reason
    and logs the records that went out) and the account may reveal (`may_reveal_any`). `user=None`
    is the command line (`export_data`), run by an operator who has the database anyway."""
    if user is None:
        return False
    return not (unmasked and may_reveal_any(user))
