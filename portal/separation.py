"""Separation of duties: the one rule for every approval in the portal.

Whoever did the work or submitted it for approval never approves (or returns) it; a second person
with approval reach over the record does. Responsibility items, activity projects and the check
of PDCA improvement actions all ask here, so the rule cannot drift between them.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def own_work(user, *, submitted_by_ids: Iterable[int | None] = (), responsible_person_ids: Iterable[int | None] = ()) -> bool:
    """True when `user` submitted the work (one of the accounts in `submitted_by_ids`) or is a
    person responsible for it (one of `responsible_person_ids`)."""
    if user.pk is not None and user.pk in {pk for pk in submitted_by_ids if pk is not None}:
        return True
    person_id = getattr(user, "person_id", None)
    return person_id is not None and person_id in {pk for pk in responsible_person_ids if pk is not None}


def refusal_message() -> str:
    return _("You cannot approve your own submission; another person with approval rights must decide.")


def require_second_person(user, **work) -> None:
    """Raise PermissionDenied (with a message for the page) when `user` would approve their own work."""
    if own_work(user, **work):
        raise PermissionDenied(refusal_message())
