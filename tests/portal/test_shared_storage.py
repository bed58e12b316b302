"""Uploads on a store every web host sees: the storage backend comes from the environment, and the
portal reads and writes uploads only through Django's storage API, so a store without local files
(S3-compatible, docs/operations.md) works like the default folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from demands.models import DemandAttachment
from tests.conftest import client_for
from tests.factories.demands import accepted, make_demand


def test_the_uploads_storage_backend_and_its_options_come_from_the_environment():
    env = {**os.environ, "MEDIA_STORAGE_BACKEND": "django.core.files.storage.InMemoryStorage",
           "MEDIA_STORAGE_OPTIONS": '{"base_url": "/files/"}'}
    code = ("import json, django; from django.conf import settings; django.setup(); "
            "print(json.dumps(settings.STORAGES['default']))")
    result = subprocess.run([sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                            cwd=settings.BASE_DIR, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "BACKEND": "django.core.files.storage.InMemoryStorage", "OPTIONS": {"base_url": "/files/"}}


def test_an_attachment_is_stored_and_served_through_the_storage_backend(client, settings, owner, handler, member, tree):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    demand = accepted(make_demand(tree.group_a, submitter=member.person, by=owner), by=owner, handler=handler)
    pdf = SimpleUploadedFile("答复.pdf", b"%PDF-1.4 reply", content_type="application/pdf")
    response = client_for(client, handler).post(reverse("demands:demand_action", args=[demand.pk, "reply"]),
                                                {"text": "见附件", "files": [pdf]})
    assert response.status_code == 302
    attachment = DemandAttachment.objects.get()
    response = client_for(client, member).get(reverse("demands:demand_attachment", args=[demand.pk, attachment.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 reply"
    media = Path(settings.MEDIA_ROOT)  # nothing went to a local folder
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))
