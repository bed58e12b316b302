"""QR self check-in: a signed, expiring code; forged or expired codes are refused; twice is once."""
import datetime

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Attendance
from activities.qr import qr_svg
from tests.factories.activities import ActivityFactory, AttendanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(tree):
    return ActivityFactory(org_unit=tree.branch_a, type="party_lecture", status="planned",
                           held_at=timezone.now() + datetime.timedelta(hours=1))


def test_token_round_trip_and_expiry(meeting):
    token = services.checkin_token(meeting)
    assert services.checkin_activity_id(token) == meeting.pk
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=services.CHECKIN_CODE_MAX_AGE + 5)):
        with pytest.raises(services.CheckInRefused, match="expired|过期"):
            services.checkin_activity_id(token)


def test_forged_tokens_are_refused(meeting):
    token = services.checkin_token(meeting)
    forged = token.replace(token.split(":")[0], signing.b64_encode(b'{"a":999}').decode())
    for bad in (forged, token[:-2] + "xx", "nonsense", signing.TimestampSigner(salt="other").sign_object({"a": meeting.pk})):
        with pytest.raises(services.CheckInRefused):
            services.checkin_activity_id(bad)


def test_checking_in_twice_is_once(meeting, member):
    first, new = services.attendance_check_in(activity=meeting, person=member.person)
    again, new_again = services.attendance_check_in(activity=meeting, person=member.person)
    assert (new, new_again) == (True, False)
    assert Attendance.objects.filter(activity=meeting, person=member.person).count() == 1
    assert again.checked_in_at == first.checked_in_at and again.status == "present" and again.source == "qr"


def test_outsiders_and_cancelled_activities_are_refused(meeting, person_b, member):
    with pytest.raises(services.CheckInRefused):
        services.attendance_check_in(activity=meeting, person=person_b)
    meeting.status = "cancelled"
    meeting.save()
    with pytest.raises(services.CheckInRefused):
        services.attendance_check_in(activity=meeting, person=member.person)


def test_invited_person_from_another_unit_may_check_in(meeting, person_b):
    AttendanceFactory(activity=meeting, person=person_b, status="absent")
    attendance, new = services.attendance_check_in(activity=meeting, person=person_b)
    assert new and attendance.status == "present"


def test_checkin_pages(client, meeting, member):
    token = services.checkin_token(meeting)
    url = reverse("activities:checkin", args=[token])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(member)
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 200 and b'data-new="1"' in response.content
    response = client.post(url)
    assert b'data-new="0"' in response.content
    assert Attendance.objects.filter(activity=meeting, status="present").count() == 1
    response = client.post(reverse("activities:checkin", args=[token + "x"]))
    assert response.status_code == 400 and b"checkin-error" in response.content
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=30)):
        client.force_login(member)
        response = client.get(url)
        assert response.status_code == 400


def test_qr_screen_page_is_for_managers_in_scope(client, meeting, owner, outsider, member):
    url = reverse("activities:activity_qr", args=[meeting.pk])
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert b"<svg" in response.content and b"/activities/checkin/" in response.content
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert b"<svg" in response.content and b"<html" not in response.content


def test_qr_svg_is_a_scalable_inline_code():
    import segno

    svg = qr_svg("http://127.0.0.1:8000/activities/checkin/" + "x" * 80)
    assert svg.startswith("<svg") and 'class="qr-code"' in svg and "viewBox" in svg and 'width="' not in svg.split(">")[0]
    # Level M with the quiet zone, as the screen page expects.
    code = segno.make("http://127.0.0.1:8000/activities/checkin/" + "x" * 80, error="m", micro=False, boost_error=False)
    assert code.error == "M" and not code.is_micro
