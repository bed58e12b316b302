"""Recompute soon after data changes, without touching the other apps: signal receivers on their
models (connected by app label in EvaluationConfig.ready) report the moments a saved or deleted
record is stamped with — before and after the change — to `services.kpis_touched`, which debounces
one recompute of only the periods touched. Bulk writes (imports) bypass signals; the importers may
call `kpis_touched` themselves, and the beat schedule recomputes the current and previous periods
every half hour anyway."""
from __future__ import annotations

import logging

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_save

from .kpis import watched_moments

logger = logging.getLogger(__name__)

# model → (timestamp/date fields that place it in periods, cumulative through the year end?), from
# the KPI declarations.
WATCHED = watched_moments()
# Changes that move records between units or change who counts: the current periods.
STRUCTURAL = {
    "members.Person": ("political_status", "org_unit_id"),
    "members.OrgUnit": ("parent_id", "kind"),
}


def _moments(values: dict, fields) -> list:
    return [values.get(f) for f in fields if values.get(f) is not None]


def _stash_old(sender, instance, fields):
    if instance.pk is None:
        instance._kpi_old = {}
        return
    row = sender._base_manager.filter(pk=instance.pk).values(*fields).first()
    instance._kpi_old = row or {}


def _touch(moments, cumulative=False):
    from .services import kpis_touched

    try:
        kpis_touched(moments, cumulative=cumulative)
    except Exception:  # never break the other apps' saves because of a recompute hint
        logger.exception("could not record the periods touched")


def _make_receivers(label: str, fields, cumulative: bool):
    def before(sender, instance, raw=False, **kwargs):
        if not raw:
            _stash_old(sender, instance, fields)

    def after(sender, instance, raw=False, **kwargs):
        if raw:
            return
        old = getattr(instance, "_kpi_old", {})
        new = {f: getattr(instance, f, None) for f in fields}
        _touch(_moments(old, fields) + _moments(new, fields), cumulative)

    def deleted(sender, instance, **kwargs):
        _touch(_moments({f: getattr(instance, f, None) for f in fields}, fields), cumulative)

    return before, after, deleted


def _attendance_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    Activity = apps.get_model("activities", "Activity")
    held = Activity._base_manager.filter(pk=instance.activity_id).values_list("held_at", flat=True).first()
    _touch([held] if held else [], cumulative=True)


def _visit_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    ids = {instance.life_event_id, getattr(instance, "_kpi_old", {}).get("life_event_id")} - {None}
    if not ids:
        return
    LifeEvent = apps.get_model("demands", "LifeEvent")
    _touch(list(LifeEvent._base_manager.filter(pk__in=ids).values_list("event_date", flat=True)))


def _structural_before(sender, instance, raw=False, **kwargs):
    if not raw:
        _stash_old(sender, instance, STRUCTURAL[sender._meta.label])


def _structural_after(sender, instance, raw=False, created=False, **kwargs):
    if raw:
        return
    fields = STRUCTURAL[sender._meta.label]
    old = getattr(instance, "_kpi_old", {})
    if created or any(old.get(f) != getattr(instance, f, None) for f in fields):
        from django.utils import timezone

        _touch([timezone.now()])


_receivers: list = []  # strong references (signals keep weak ones)


def connect() -> None:
    for label, (fields, cumulative) in WATCHED.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        before, after, deleted = _make_receivers(label, fields, cumulative)
        _receivers.extend([before, after, deleted])
        pre_save.connect(before, sender=model, dispatch_uid=f"evaluation-kpi-pre-{label}")
        post_save.connect(after, sender=model, dispatch_uid=f"evaluation-kpi-post-{label}")
        post_delete.connect(deleted, sender=model, dispatch_uid=f"evaluation-kpi-delete-{label}")
    try:
        attendance = apps.get_model("activities", "Attendance")
        post_save.connect(_attendance_changed, sender=attendance, dispatch_uid="evaluation-kpi-attendance")
        post_delete.connect(_attendance_changed, sender=attendance, dispatch_uid="evaluation-kpi-attendance-del")
    except LookupError:
        pass
    try:
        visit = apps.get_model("demands", "Visit")

        def visit_before(sender, instance, raw=False, **kwargs):
            if not raw:
                _stash_old(sender, instance, ("life_event_id",))

        _receivers.append(visit_before)
        pre_save.connect(visit_before, sender=visit, dispatch_uid="evaluation-kpi-visit-pre")
        post_save.connect(_visit_changed, sender=visit, dispatch_uid="evaluation-kpi-visit")
        post_delete.connect(_visit_changed, sender=visit, dispatch_uid="evaluation-kpi-visit-del")
    except LookupError:
        pass
    for label in STRUCTURAL:
        model = apps.get_model(label)
        pre_save.connect(_structural_before, sender=model, dispatch_uid=f"evaluation-kpi-pre-{label}")
        post_save.connect(_structural_after, sender=model, dispatch_uid=f"evaluation-kpi-post-{label}")
