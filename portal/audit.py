"""Audit trail (django-pghistory): every change keeps who, when, before and after."""
from __future__ import annotations

from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.dateformat import format as date_format
from django.utils.text import capfirst
from django.utils.translation import gettext
from pghistory.models import MiddlewareEvents


class Change(NamedTuple):
    """One field of one history event, ready for a reader: the field's label in the page's language,
    and the values as the pages show them (choice labels, names of related records, local times)."""

    field: str
    label: str
    before: object
    after: object


def history_for(obj, limit: int = 20) -> list:
    """The latest changes of `obj`, newest first, with the acting user resolved in one query and
    related records named in one query per related model. Events that changed nothing a reader
    cares about are left out."""
    events = list(MiddlewareEvents.objects.tracks(obj).order_by("-pgh_created_at")[:limit])
    user_ids = {(e.pgh_context or {}).get("user") for e in events} - {None}
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids).select_related("person")}
    fields = {f.attname: f for f in obj._meta.concrete_fields}
    names = _related_names(fields, events)
    shown = []
    for event in events:
        event.actor = users.get((event.pgh_context or {}).get("user"))
        event.changes = []
        for name, (before, after) in (event.pgh_diff or {}).items():
            field = fields.get(name)
            if name in UNINTERESTING_FIELDS or field is None or _empty(before) and _empty(after) or before == after:
                continue
            event.changes.append(Change(field.name, capfirst(field.verbose_name),
                                        _readable(field, before, names), _readable(field, after, names)))
        if event.changes or event.pgh_label != "update":
            shown.append(event)
    return shown


# Bookkeeping columns that change with every save and say nothing to a reader of the history.
UNINTERESTING_FIELDS = {"updated_at", "path", "depth", "chain_head"}


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def _related_names(fields: dict, events: list) -> dict:
    """{(model, pk): str(record)} for every related record the events mention."""
    wanted: dict = {}
    for event in events:
        for name, values in (event.pgh_diff or {}).items():
            field = fields.get(name)
            if field is not None and field.is_relation:
                wanted.setdefault(field.related_model, set()).update(v for v in values if v is not None)
    return {(model, record.pk): str(record)
            for model, pks in wanted.items() for record in model._default_manager.filter(pk__in=pks)}


def _readable(field, value, names: dict):
    if _empty(value):
        return None
    if field.name in ("id_number", "phone"):
        return _masked(field.name, value)
    if field.is_relation:
        return names.get((field.related_model, value), f"#{value}")
    if field.choices:
        labels = dict(field.flatchoices)
        if isinstance(value, list):
            return "、".join(str(labels.get(v, v)) for v in value)
        return labels.get(value, value)
    if isinstance(field, models.BooleanField):
        return gettext("yes") if value else gettext("no")
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        return date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else value
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value


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
