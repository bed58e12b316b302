"""The web import as background jobs on an ImportBatch.

    upload ──► uploaded ──preview job──► previewing ──► previewed ──(uploader confirms)──► applying ──► applied
                                              └──────────────► failed ◄───────────────────────┘

Each job claims its batch once by moving `status` from the state it expects
(`filter(pk=…, status=old).update(status=new)`): a task delivered twice, a double click on
"confirm" or a confirm of an applied batch does nothing. Jobs are enqueued on commit; the tasks
(portal/tasks.py) only pass the batch's id here.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import ImportBatch
from ..roles import has_permission
from .kinds import ImportResult
from .runner import collector_paused, run_import

log = logging.getLogger(__name__)
Status = ImportBatch.Status

# Row errors kept on a batch (and shown on its page); the count of all of them is kept too.
PREVIEW_ERRORS = 200
IMPORT_PERMISSION = "portal.imports"


def batch_upload(*, kind: str, upload, by) -> ImportBatch:
    """Store the uploaded file on a new batch and queue its preview."""
    from ..tasks import preview_import

    batch = ImportBatch(kind=kind, original_name=upload.name[:200], uploaded_by=by, scope_org_id=by.scope_org_id)
    batch.file.save(upload.name, upload, save=False)
    batch.save()
    transaction.on_commit(lambda: preview_import.delay(batch.pk))
    return batch


def may_apply(batch: ImportBatch, user) -> bool:
    """Only the uploader applies, and only while their account still may import."""
    return batch.uploaded_by_id == user.pk and user.is_active and has_permission(user, IMPORT_PERMISSION)


def batch_request_apply(*, batch: ImportBatch, by) -> bool:
    """The uploader confirms a preview without problems: queue the apply, once."""
    from ..tasks import apply_import

    if not may_apply(batch, by):
        raise PermissionDenied
    claimed = ImportBatch.objects.filter(
        pk=batch.pk, status=Status.PREVIEWED, apply_requested_at__isnull=True, preview__error_count=0,
    ).update(apply_requested_at=timezone.now())
    if claimed:
        transaction.on_commit(lambda: apply_import.delay(batch.pk))
    return bool(claimed)


def batch_preview(batch_id: int) -> bool:
    """The preview job: check every row, write nothing. False when the batch was not waiting."""
    if not ImportBatch.objects.filter(pk=batch_id, status=Status.UPLOADED).update(status=Status.PREVIEWING):
        return False
    batch = ImportBatch.objects.get(pk=batch_id)
    result = _run(batch, dry_run=True)
    if result is not None:
        ImportBatch.objects.filter(pk=batch_id, status=Status.PREVIEWING).update(
            status=Status.PREVIEWED, preview=summary(result), rows_done=result.rows, rows_total=result.rows)
    return True


def batch_apply(batch_id: int) -> bool:
    """The apply job: the whole file again, checked and written in one transaction. False when
    the batch was not waiting for it (already applied, never confirmed)."""
    claimed = ImportBatch.objects.filter(
        pk=batch_id, status=Status.PREVIEWED, apply_requested_at__isnull=False,
    ).update(status=Status.APPLYING, rows_done=0)
    if not claimed:
        return False
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    if not may_apply(batch, batch.uploaded_by):
        # The account lost the right to import between the confirmation and the job.
        _fail(batch_id, {"error_count": 0, "errors": [], "refused": True})
        return True
    result = _run(batch, dry_run=False)
    if result is None:
        return True
    if result.applied:
        ImportBatch.objects.filter(pk=batch_id, status=Status.APPLYING).update(
            status=Status.APPLIED, result=summary(result), applied_at=timezone.now())
    else:  # the data changed since the preview (a unit deleted, a person renumbered)
        _fail(batch_id, summary(result))
    return True


def summary(result: ImportResult) -> dict:
    return {
        "rows": result.rows, "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "error_count": len(result.errors),
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors[:PREVIEW_ERRORS]],
    }


def _run(batch: ImportBatch, *, dry_run: bool) -> ImportResult | None:
    """run_import on the batch's file, in the portal's language (the row messages are kept as
    text), reporting progress on the batch. None after an unexpected error (the batch failed)."""

    def progress(done: int, total: int | None) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(rows_done=done, rows_total=total)

    try:
        with batch.file.open("rb") as handle:
            data = handle.read()
        with translation.override(settings.LANGUAGE_CODE), collector_paused():
            return run_import(batch.kind, data, batch.original_name, dry_run=dry_run, progress=progress)
    except Exception as error:  # noqa: BLE001 — recorded on the batch and logged; the job ends
        log.exception("import batch %s failed", batch.pk)
        _fail(batch.pk, {"error_count": 0, "errors": []}, failure=f"{type(error).__name__}: {error}"[:2000])
        return None


def batch_sweep_stale(now=None) -> int:
    """Batches whose job lost its worker (killed, machine restarted) would show "checking" or
    "importing" for ever: past the broker's redelivery timeout they are marked failed, so the
    uploader sees it and uploads again. An apply writes in one transaction, so a lost one wrote
    nothing."""
    import datetime

    before = (now or timezone.now()) - datetime.timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    failure = translation.override(settings.LANGUAGE_CODE)
    with failure:
        note = str(_("The job handling this file stopped before it finished; nothing was imported. Upload the file again."))
    stale = (ImportBatch.objects.filter(status=Status.PREVIEWING, uploaded_at__lt=before)
             | ImportBatch.objects.filter(status=Status.APPLYING, apply_requested_at__lt=before))
    return ImportBatch.objects.filter(pk__in=stale.values("pk")).filter(
        status__in=[Status.PREVIEWING, Status.APPLYING]).update(status=Status.FAILED, failure=note)


def _fail(batch_id: int, result: dict, failure: str = "") -> None:
    ImportBatch.objects.filter(pk=batch_id, status__in=[Status.PREVIEWING, Status.APPLYING]).update(
        status=Status.FAILED, result=result, failure=failure)
