"""Invalid input on the activity pages comes back beside its field."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories.activities import ActivityFactory
from tests.field_errors import field_container

pytestmark = pytest.mark.django_db


def test_a_photo_that_is_not_an_image_is_refused_beside_the_upload_field(client, tree, owner):
    held = ActivityFactory(org_unit=tree.branch_a, status="held", held_at=timezone.now() - datetime.timedelta(days=1))
    client_for(client, owner)
    not_an_image = SimpleUploadedFile("minutes.png", b"this is text, not a picture", content_type="image/png")
    response = client.post(reverse("activities:activity_photo", args=[held.pk]), {"photo": not_an_image})
    assert response.status_code == 400
    container = field_container(response.content.decode(), "photo")
    assert "invalid-feedback" in container and 'name="photo"' in container
    assert not list(response.context["messages"])
    assert not held.photos.exists()
