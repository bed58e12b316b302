"""Audit trail (django-pghistory): every change keeps who, when, before and after."""
from __future__ import annotations

from typing import NamedTuple

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.dateformat import format as date_format
from django.utils.text import capfirst
from django.utils.translation import gettext
from pghistory.models import Event, MiddlewareEvents

from .registry import history_masks


class Change(NamedTuple):
    """One field of one history event, ready for a reader: the field's label in the page's language,
    and the values as the pages show them (choice labels, names of related records, local times)."""

    field: str
    label: str
    before: object
    after: object


def history_for(obj, limit: int = 20, related: tuple[str, ...] = ()) -> list:
    """The latest changes of `obj`, newest first, with the acting user resolved in one query and
    related records named in one query per related model. Events that changed nothing a reader
    cares about are left out.

    `related` names models whose records belong to `obj` ("activities.Milestone", or the through
    model of a many-to-many, "activities.Project_team"): their events that point at `obj` are shown
    too, each marked with the kind of record it is about (`event.subject`)."""
    events = list(MiddlewareEvents.objects.tracks(obj).order_by("-pgh_created_at")[:limit])
    event_models = [_event_model(label) for label in related]
    if event_models:
        events += MiddlewareEvents.objects.across(*event_models).references(obj).order_by("-pgh_created_at")[:limit]
        events = sorted(events, key=lambda e: (e.pgh_created_at, e.pgh_id), reverse=True)[:limit]
    user_ids = {(e.pgh_context or {}).get("user") for e in events} - {None}
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids).select_related("person")}
    own_label = obj._meta.label
    fields_of = {own_label: {f.attname: f for f in obj._meta.concrete_fields}}
    for label in related:
        model = apps.get_model(label)
        # Not shown, so not looked up: the link back to `obj` (every event here has it) and the
        # bookkeeping columns the model names in `history_hidden_fields`.
        fields_of[label] = {f.attname: f for f in model._meta.concrete_fields
                            if not (f.is_relation and f.related_model is type(obj))
                            and f.name not in getattr(model, "history_hidden_fields", ())}
    names = _related_names(fields_of, events, own_label)
    shown = []
    for event in events:
        event.actor = users.get((event.pgh_context or {}).get("user"))
        fields = fields_of.get(event.pgh_obj_model, {})
        event.subject = None
        if event.pgh_obj_model != own_label:
            event.subject = _subject_label(event.pgh_obj_model)
        event.changes = []
        for name, (before, after) in _changed_values(event, obj, fields).items():
            field = fields.get(name)
            if name in UNINTERESTING_FIELDS or field is None or _empty(before) and _empty(after) or before == after:
                continue
            event.changes.append(Change(field.name, _label(field),
                                        _readable(field, before, names), _readable(field, after, names)))
        if event.changes or event.pgh_label != "update":
            shown.append(event)
    return shown


def _label(field) -> str:
    # The columns of an automatic many-to-many table are named after the model ("person"): say
    # what the page says instead ("人员").
    if field.model._meta.auto_created and field.is_relation:
        return capfirst(field.related_model._meta.verbose_name)
    return capfirst(field.verbose_name)


def _event_model(label: str):
    """The pghistory event model of the model `label`."""
    tracked = apps.get_model(label)
    for model in apps.get_models(include_auto_created=True):
        if issubclass(model, Event) and getattr(model, "pgh_tracked_model", None) is tracked:
            return model
    raise LookupError(f"{label} has no history")


def _subject_label(label: str) -> str:
    model = apps.get_model(label)
    if model._meta.auto_created:  # a many-to-many link: name it by its field ("团队")
        for field in model._meta.auto_created._meta.many_to_many:
            if field.remote_field.through is model:
                return capfirst(field.verbose_name)
    return capfirst(model._meta.verbose_name)


def _changed_values(event, obj, fields: dict) -> dict:
    """{field: (before, after)}. For an update, the diff; for a record of `related` created or
    removed, what it held (the link back to `obj` and the id say nothing new)."""
    if event.pgh_obj_model == obj._meta.label or event.pgh_label in ("update", "changed"):
        return event.pgh_diff or {}
    back = {name for name, field in fields.items() if field.is_relation and field.related_model is type(obj)}
    data = {k: v for k, v in (event.pgh_data or {}).items() if k != "id" and k not in back}
    if event.pgh_label in ("delete", "remove", "withdrawn"):
        return {k: (v, None) for k, v in data.items()}
    return {k: (None, v) for k, v in data.items()}


# Bookkeeping columns that change with every save and say nothing to a reader of the history.
UNINTERESTING_FIELDS = {"updated_at", "path", "depth", "chain_head"}


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def _related_names(fields_of: dict, events: list, own_label: str) -> dict:
    """{(model, pk): str(record)} for every related record the events mention."""
    wanted: dict = {}
    for event in events:
        fields = fields_of.get(event.pgh_obj_model, {})
        values = (event.pgh_diff or {}).items() if event.pgh_obj_model == own_label else \
            ((k, (v,)) for k, v in (event.pgh_data or {}).items())
        for name, pair in values:
            field = fields.get(name)
            if field is not None and field.is_relation:
                wanted.setdefault(field.related_model, set()).update(v for v in pair if v is not None)
    return {(model, record.pk): str(record)
            for model, pks in wanted.items() for record in model._default_manager.filter(pk__in=pks)}


def _readable(field, value, names: dict):
    if _empty(value):
        return None
    if field.name in history_masks():
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
    """History never shows personal data the page itself masks (maskers registered by the app
    that owns the data: `portal.registry.history_mask`)."""
    mask = history_masks()[field]
    return mask(value) if value else value


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def record_denial(request, *, status: int, detail: str = "") -> None:
    """One refused request in the audit trail. Outside the request's transaction (the refusal
    rolls back whatever the view did, not the record of it)."""
    from django.db import transaction

    from .models import AccessDenial

    user = request.user if getattr(request, "user", None) is not None and request.user.is_authenticated else None
    with transaction.atomic():
        AccessDenial.objects.create(
            user=user, username=user.get_username() if user else "", ip_address=client_ip(request),
            method=request.method[:10], path=request.get_full_path()[:500], status=status, detail=detail[:200],
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
