"""Photos and documents given with a demand at intake (employee, staff entry, the anonymous form):
the evidence upload rules, kept with the demand on its submit step, shown on its page (images as
thumbnails), served only within scope, tracked in the history; a bad file is named beside the
field and the rest of the form is kept."""
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from demands.models import Demand, DemandAttachment
from tests.conftest import client_for
from tests.factories.demands import PNG_BYTES, category

pytestmark = pytest.mark.django_db


def png(name="现场.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def pdf(name="情况说明.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 document", content_type="application/pdf")


def demand_data(**extra):
    return {"title": "宿舍热水不足", "content": "晚上十点后没有热水", "category": category().pk, "urgency": "normal", **extra}


def test_an_employee_submits_with_two_photos(client, member, owner, outsider):
    client_for(client, member)
    form = client.get(reverse("demands:demand_create")).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'accept="image/*,.pdf,.docx,.xlsx,.pptx"' in form and "multiple" in form
    response = client.post(reverse("demands:demand_create"), demand_data(channel="self_service", attachments=[png(), png("楼道.png")]))
    assert response.status_code == 302
    demand = Demand.objects.get()
    files = list(demand.attachments.all())
    assert sorted(f.original_name for f in files) == ["楼道.png", "现场.png"]
    submit = demand.events.get(action="submit")
    assert {f.event_id for f in files} == {submit.pk} and {f.uploaded_by for f in files} == {member}
    # The secretary of the unit sees them as thumbnails on the demand's page and may open them.
    html = client_for(client, owner).get(demand.get_absolute_url()).content.decode()
    for file in files:
        assert f'<img src="{file.get_absolute_url()}"' in html
        assert client.get(file.get_absolute_url()).status_code == 200
    # Someone outside the scope finds nothing.
    assert client_for(client, outsider).get(files[0].get_absolute_url()).status_code == 404
    # Tracked in the history.
    history = apps.get_model("demands", "DemandAttachmentEvent")
    assert history.objects.filter(pgh_obj=files[0], pgh_label="insert").exists()


def test_staff_enter_a_demand_with_a_document(client, owner, person_a):
    client_for(client, owner)
    data = demand_data(submitter=person_a.pk, channel="staff_entry", attachments=[pdf()])
    assert client.post(reverse("demands:demand_create"), data).status_code == 302
    attachment = DemandAttachment.objects.get()
    html = client.get(attachment.demand.get_absolute_url()).content.decode()
    assert f'href="{attachment.get_absolute_url()}"' in html and "情况说明.pdf" in html
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_a_bad_file_is_named_beside_the_field_and_the_form_is_kept(client, owner, person_a):
    client_for(client, owner)
    fake = SimpleUploadedFile("发票.png", b"MZ\x90\x00 a program", content_type="image/png")
    data = demand_data(submitter=person_a.pk, channel="staff_entry", attachments=[png(), fake])
    response = client.post(reverse("demands:demand_create"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and not Demand.objects.exists() and not DemandAttachment.objects.exists()
    html = response.content.decode()
    errors = response.context["form"].errors["attachments"]
    assert len(errors) == 1 and errors[0].startswith("发票.png：") and "不支持此类文件" in errors[0]
    assert 'id="error_1_id_attachments"' in html or "invalid-feedback" in html
    assert 'value="宿舍热水不足"' in html and "晚上十点后没有热水" in html  # what was typed is kept
    assert 'data-testid="choose-files-again"' in html


def test_too_many_or_too_large_files_are_refused(client, owner, person_a):
    client_for(client, owner)
    big = SimpleUploadedFile("big.png", PNG_BYTES + b"\0" * (10 * 1024 * 1024), content_type="image/png")
    response = client.post(reverse("demands:demand_create"), demand_data(submitter=person_a.pk, channel="staff_entry", attachments=[big]))
    assert "attachments" in response.context["form"].errors
    many = [png(f"{i}.png") for i in range(11)]
    response = client.post(reverse("demands:demand_create"), demand_data(submitter=person_a.pk, channel="staff_entry", attachments=many))
    assert "attachments" in response.context["form"].errors and not Demand.objects.exists()


def test_the_anonymous_form_takes_photos_too(client, tree, owner, outsider):
    page = client.get(reverse("demands:public_submit")).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="attachments"' in page
    response = client.post(reverse("demands:public_submit"), {
        "org_unit": tree.branch_a.pk, "category": category().pk, "title": "匿名反映", "content": "内容", "attachments": [png()],
    })
    assert response.status_code == 302
    attachment = DemandAttachment.objects.get()
    assert attachment.uploaded_by is None and attachment.demand.channel == "anonymous"
    # The anonymous submitter has no way to the file; the unit's secretary has, an outsider does not.
    assert client.get(attachment.get_absolute_url()).status_code == 302  # to the login page
    assert client_for(client, owner).get(attachment.get_absolute_url()).status_code == 200
    assert client_for(client, outsider).get(attachment.get_absolute_url()).status_code == 404
