"""The web import with a real Celery worker: upload → preview job → confirm → apply job, each job
claimed once; a file with bad rows applies nothing; a batch is its uploader's and the admins'."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members.models import Person
from portal.models import ImportBatch
from tests.portal.test_import import PEOPLE_HEADER, csv_bytes, people_rows

pytestmark = pytest.mark.celery_worker


def status_is(pk, *statuses):
    return lambda: ImportBatch.objects.filter(pk=pk, status__in=statuses).exists()


def test_upload_preview_apply_with_a_real_worker(celery_worker, client, admin_user, tree):
    client.force_login(admin_user)
    response = client.post(reverse("portal:import"), {
        "kind": "people", "file": SimpleUploadedFile("people.csv", csv_bytes(people_rows()))})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    celery_worker(status_is(batch.pk, "previewed", "failed"))
    batch.refresh_from_db()
    assert batch.status == "previewed", (batch.failure, celery_worker.output[-20:])
    assert batch.preview["created"] == 3 and batch.preview["error_count"] == 0
    assert not Person.objects.filter(employee_no__startswith="E").exists()  # a preview writes nothing
    assert "确认导入" in client.get(response["Location"]).content.decode()

    client.post(response["Location"])
    client.post(response["Location"])  # a double click
    celery_worker(status_is(batch.pk, "applied", "failed"))
    batch.refresh_from_db()
    assert batch.status == "applied" and batch.result["created"] == 3
    assert Person.objects.filter(employee_no__startswith="E").count() == 3
    assert "导入：新增 3 条" in client.get(response["Location"]).content.decode()

    # A second apply of the same batch (the task sent again, as a redelivery would) does nothing.
    from portal.tasks import apply_import

    apply_import.delay(batch.pk)
    celery_worker(lambda: sum("portal.apply_import" in line and "succeeded" in line for line in celery_worker.output) >= 2)
    assert any("succeeded" in line and "False" in line for line in celery_worker.output)
    assert Person.objects.filter(employee_no__startswith="E").count() == 3
    batch.refresh_from_db()
    assert batch.result["created"] == 3


def test_bad_rows_are_listed_and_nothing_is_applied(celery_worker, client, admin_user, tree):
    client.force_login(admin_user)
    rows = [PEOPLE_HEADER, ["E001", "王一", "", "1992-02-30", "", "", "A", "", "", ""],
            ["E002", "王二", "", "", "12345", "", "NOPE", "", "", ""]]
    response = client.post(reverse("portal:import"), {"kind": "people", "file": SimpleUploadedFile("p.csv", csv_bytes(rows))})
    batch = ImportBatch.objects.get()
    celery_worker(status_is(batch.pk, "previewed", "failed"))
    batch.refresh_from_db()
    assert {(e["row"], e["column"]) for e in batch.preview["errors"]} == {(2, "birth_date"), (3, "phone"), (3, "org_unit_code")}
    assert "日期不存在" in next(e["message"] for e in batch.preview["errors"] if e["column"] == "birth_date")
    html = client.get(response["Location"]).content.decode()
    assert "3 个问题" in html and "data-import-apply" not in html
    assert "文件存在问题" in client.post(response["Location"], follow=True).content.decode()
    batch.refresh_from_db()
    assert batch.apply_requested_at is None and batch.status == "previewed"
    assert not Person.objects.filter(employee_no__in=["E001", "E002"]).exists()


def test_outsider_gets_404_on_someone_elses_batch(celery_worker, client, admin_user, outsider, owner, tree):
    client.force_login(admin_user)
    response = client.post(reverse("portal:import"), {
        "kind": "people", "file": SimpleUploadedFile("people.csv", csv_bytes(people_rows()))})
    batch = ImportBatch.objects.get()
    celery_worker(status_is(batch.pk, "previewed", "failed"))
    for user in (outsider, owner):
        client.force_login(user)
        assert client.get(response["Location"]).status_code == 404
        assert client.post(response["Location"]).status_code == 404
    batch.refresh_from_db()
    assert batch.apply_requested_at is None


def test_a_batch_whose_worker_died_is_marked_failed(db, admin_user, settings):
    """A job killed mid-way leaves its batch "checking"/"importing"; past the redelivery timeout
    the sweep marks it failed with a message, and leaves fresh and finished batches alone."""
    import datetime

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from portal.dataexchange.batches import batch_sweep_stale
    from portal.models import ImportBatch

    settings.IMPORT_STALE_SECONDS = 3600
    now = timezone.now()

    def batch(status, **fields):
        made = ImportBatch.objects.create(kind="people", file=ContentFile(b"x", name="a.csv"), original_name="a.csv",
                                          uploaded_by=admin_user, status=status, **fields)
        ImportBatch.objects.filter(pk=made.pk).update(uploaded_at=fields.pop("uploaded_at", now))
        return made.pk

    old = now - datetime.timedelta(hours=2)
    lost_preview = batch(ImportBatch.Status.PREVIEWING, uploaded_at=old)
    lost_apply = batch(ImportBatch.Status.APPLYING, uploaded_at=old, apply_requested_at=old)
    running = batch(ImportBatch.Status.APPLYING, uploaded_at=old, apply_requested_at=now)
    done = batch(ImportBatch.Status.APPLIED, uploaded_at=old, apply_requested_at=old)
    assert batch_sweep_stale(now) == 2
    states = dict(ImportBatch.objects.values_list("pk", "status"))
    assert states[lost_preview] == states[lost_apply] == ImportBatch.Status.FAILED
    assert states[running] == ImportBatch.Status.APPLYING and states[done] == ImportBatch.Status.APPLIED
    assert "重新上传" in ImportBatch.objects.get(pk=lost_apply).failure
