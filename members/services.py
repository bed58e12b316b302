"""Writes for organisation and people. Views, forms, importers and the API call these."""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.audit import client_ip

from . import workflow
from .models import DevelopmentRecord, Person, PointsEntry, RevealLog


@transaction.atomic
def development_record_stage(*, person: Person, stage: str, reached_on: datetime.date, by, note: str = "") -> DevelopmentRecord:
    person = Person.objects.select_for_update().get(pk=person.pk)
    recorded = dict(person.development.values_list("stage", "reached_on"))
    check = workflow.check_stage(
        stage, reached_on, recorded, today=timezone.localdate(), birth_date=person.birth_date
    )
    if not check.ok:
        raise ValidationError({"reached_on": check.message})
    record = DevelopmentRecord.objects.create(person=person, stage=stage, reached_on=reached_on, note=note, recorded_by=by)
    person.political_status = workflow.STATUS_AFTER_STAGE[stage]
    if stage == workflow.S.PROBATIONARY:
        person.joined_party_on = reached_on
    person.save(update_fields=["political_status", "joined_party_on", "updated_at"])
    return record


def points_award(
    *, person: Person, points: int, reason: str, by=None, on: datetime.date | None = None,
    source: str = "manual", source_key: str | None = None,
) -> PointsEntry | None:
    """Add a ledger line. With a `source_key` the award happens at most once (returns None when it
    already exists), so a retried task or a double click never doubles points."""
    on = on or timezone.localdate()
    if source_key:
        entry, created = PointsEntry.objects.get_or_create(
            source_key=source_key,
            defaults=dict(person=person, points=points, reason=reason, awarded_by=by, awarded_on=on, source=source),
        )
        return entry if created else None
    return PointsEntry.objects.create(
        person=person, points=points, reason=reason, awarded_by=by, awarded_on=on, source=source
    )


def reveal_log(*, request, person: Person, field: str) -> None:
    RevealLog.objects.create(user=request.user, person=person, field=field, ip_address=client_ip(request))


def log_unmasked_export(*, request, person_ids: list[int], reason: str) -> RevealLog:
    """An export with ID numbers and phones in clear: who, when (the log's time), why, how many
    people and which ones."""
    return RevealLog.objects.create(
        user=request.user, field=RevealLog.Field.EXPORT, detail="people", ip_address=client_ip(request),
        reason=reason, record_count=len(person_ids), record_ids=person_ids,
    )
