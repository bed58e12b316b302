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
from tests.factories import PersonFactory
from tests.factories.activities import ActivityFactory, AttendanceFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(tree):
    return ActivityFactory(org_unit=tree.branch_a, type="party_lecture", status="planned",
                           held_at=timezone.now() + datetime.timedelta(minutes=10))  # check-in is open


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


# --- The check-in window: from 30 minutes before the start until 3 hours after it (settings) ------
START = local(2026, 12, 10, 14, 30)


@pytest.fixture
def meeting_on_12_10(tree):
    return ActivityFactory(org_unit=tree.branch_a, type="party_lecture", status="planned", held_at=START)


@pytest.mark.parametrize("moment, open_", [
    (local(2026, 12, 4, 9, 0), False),                     # six days early (the issue)
    (START - datetime.timedelta(minutes=30, seconds=1), False),
    (START - datetime.timedelta(minutes=30), True),
    (START + datetime.timedelta(hours=3), True),           # the meeting ends
    (START + datetime.timedelta(hours=3, seconds=1), False),
])
def test_checkin_is_open_only_around_the_meeting(meeting_on_12_10, member, moment, open_):
    with time_machine.travel(moment, tick=False):
        if open_:
            attendance, new = services.attendance_check_in(activity=meeting_on_12_10, person=member.person)
            assert new and attendance.checked_in_at == moment
        else:
            with pytest.raises(services.CheckInRefused):
                services.attendance_check_in(activity=meeting_on_12_10, person=member.person)
            assert not Attendance.objects.filter(activity=meeting_on_12_10).exists()  # nothing recorded


def test_the_window_follows_the_settings(settings, meeting_on_12_10, member):
    settings.ACTIVITY_CHECKIN_OPENS_MINUTES = 60
    settings.ACTIVITY_DURATION_MINUTES = 90
    with time_machine.travel(START - datetime.timedelta(minutes=45), tick=False):
        services.attendance_check_in(activity=meeting_on_12_10, person=member.person)
    late = PersonFactory(org_unit=member.person.org_unit)
    with time_machine.travel(START + datetime.timedelta(minutes=91), tick=False):
        with pytest.raises(services.CheckInRefused):
            services.attendance_check_in(activity=meeting_on_12_10, person=late)


def test_an_early_scan_shows_a_chinese_message_and_records_nothing(client, meeting_on_12_10, member):
    client.force_login(member)
    with time_machine.travel(local(2026, 12, 4, 9, 0), tick=False):
        url = reverse("activities:checkin", args=[services.checkin_token(meeting_on_12_10)])
        response = client.post(url)
    assert response.status_code == 400
    assert "签到尚未开始" in response.content.decode() and "2026-12-10 14:00" in response.content.decode()
    assert not Attendance.objects.filter(activity=meeting_on_12_10).exists()


# --- Minutes and photos belong to held meetings ----------------------------------------------------
def test_minutes_and_photos_only_for_held_meetings(client, tree, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    future = ActivityFactory(org_unit=tree.branch_a, status="planned",
                             held_at=timezone.now() + datetime.timedelta(days=5))
    client.force_login(owner)
    data = {"type": future.type, "title": future.title, "org_unit": tree.branch_a.pk,
            "held_at": timezone.localtime(future.held_at).strftime("%Y-%m-%d %H:%M"), "status": "planned",
            "minutes": "会议纪要"}
    response = client.post(reverse("activities:activity_edit", args=[future.pk]), data)
    assert response.status_code == 200 and "会议纪要" in response.content.decode()  # the form again, input kept
    future.refresh_from_db()
    assert future.minutes == ""
    assert 'name="photo"' not in client.get(future.get_absolute_url()).content.decode()
    png = SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    client.post(reverse("activities:activity_photo", args=[future.pk]), {"photo": png})
    assert not future.photos.exists()
