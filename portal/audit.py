"""Audit trail (django-pghistory): every change keeps who, when, before and after."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from pghistory.models import MiddlewareEvents


def history_for(obj, limit: int = 20) -> list:
    """The latest changes of `obj`, newest first, with the acting user resolved in one query."""
    events = list(MiddlewareEvents.objects.tracks(obj).order_by("-pgh_created_at")[:limit])
    user_ids = {(e.pgh_context or {}).get("user") for e in events} - {None}
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids).select_related("person")}
    for event in events:
        event.actor = users.get((event.pgh_context or {}).get("user"))
        event.changes = [
            (field, _masked(field, before), _masked(field, after))
            for field, (before, after) in (event.pgh_diff or {}).items()
            if field not in UNINTERESTING_FIELDS
        ]
    return events


# Bookkeeping columns that change with every save and say nothing to a reader of the history.
UNINTERESTING_FIELDS = {"updated_at", "path", "depth"}


def _masked(field: str, value):
    """History never shows personal data the page itself masks."""
    from members.masking import mask_id_number, mask_phone

    if field == "id_number" and value:
        return mask_id_number(value)
    if field == "phone" and value:
        return mask_phone(value)
    return value


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def log_export(request, *, kind: str, queryset) -> None:
    """An export that may contain unmasked personal data is logged like a reveal."""
    from members.masking import may_reveal_any
    from members.models import RevealLog

    if kind == "people" and may_reveal_any(request.user):
        RevealLog.objects.create(
            user=request.user, field=RevealLog.Field.EXPORT, detail=f"{kind}", ip_address=client_ip(request)
        )


def bulk_history_context(label: str) -> None:
    """Make the audit triggers cheap for the rest of this transaction, for bulk writes.

    The pgtrigger/pghistory trigger functions read the settings `pgtrigger.ignore` and
    `pghistory.context_id` inside an exception handler; when a setting is undefined every row
    raises and rolls back a subtransaction, and a transaction writing hundreds of thousands of
    rows slows down quadratically. Defining both (transaction-local) keeps every history event —
    linked to a context labelled `label` — at a constant cost per row."""
    import json
    import uuid

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', COALESCE(NULLIF(current_setting('pgtrigger.ignore', true), ''), '{}'), true),"
            " set_config('pghistory.context_id', COALESCE(NULLIF(current_setting('pghistory.context_id', true), ''), %s), true),"
            " set_config('pghistory.context_metadata',"
            "            COALESCE(NULLIF(current_setting('pghistory.context_metadata', true), ''), %s), true)",
            [str(uuid.uuid4()), json.dumps({"import": label})],
        )
