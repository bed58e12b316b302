"""Visits (with photos), life events and due visits, mediation cases; uploads are checked by
content and size, stored outside the static root and served only after a scope check."""
import datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from demands import selectors, services
from demands.models import DemandAttachment, LifeEvent, MediationCase, Visit, VisitPhoto
from portal.models import Notification
from tests.conftest import PAGE_QUERY_BUDGET, client_for, page_queries
from tests.factories.demands import PNG_BYTES, LifeEventFactory, MediationFactory, accepted, make_demand

pytestmark = pytest.mark.django_db


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def visit_data(person, **extra):
    return {"person": person.pk, "visited_on": timezone.localdate().isoformat(), "kind": "routine", "notes": "家中一切正常", **extra}


def test_log_a_visit_with_photos(client, owner, person_a, outsider, member):
    client_for(client, owner)
    response = client.post(reverse("demands:visit_create"), {**visit_data(person_a), "photos": [png(), png("b.png")]})
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == visit.get_absolute_url()
    assert (visit.visitor, visit.created_by, visit.ref[:6]) == (owner.person, owner, f"ZF{timezone.localdate().year}")
    photo = visit.photos.first()
    assert visit.photos.count() == 2
    path = Path(photo.file.path)
    assert str(path).startswith(str(settings.MEDIA_ROOT)) and not str(path).startswith(str(settings.STATIC_ROOT))
    url = reverse("demands:visit_photo", args=[visit.pk, photo.pk])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client_for(client, outsider).get(url).status_code == 404
    assert client_for(client, member).get(url).status_code == 403


def test_upload_refused_for_wrong_type(client, owner, person_a):
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 this is a program", content_type="image/png")
    response = client_for(client, owner).post(reverse("demands:visit_create"), {**visit_data(person_a), "photos": [fake]})
    assert response.status_code == 200 and "photos" in response.context["form"].errors
    exe = SimpleUploadedFile("tool.exe", b"MZ\x90\x00 this is a program", content_type="application/octet-stream")
    response = client.post(reverse("demands:visit_create"), {**visit_data(person_a), "photos": [exe]})
    assert "photos" in response.context["form"].errors
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()


def test_a_visit_keeps_documents_beside_photos(client, owner, person_a):
    pdf = SimpleUploadedFile("慰问记录.pdf", b"%PDF-1.4 document", content_type="application/pdf")
    client_for(client, owner).post(reverse("demands:visit_create"), {**visit_data(person_a), "photos": [png(), pdf]})
    visit = Visit.objects.get()
    assert sorted(p.original_name for p in visit.photos.all()) == ["photo.png", "慰问记录.pdf"]
    html = client.get(visit.get_absolute_url()).content.decode()
    photo, document = visit.photos.get(original_name="photo.png"), visit.photos.get(original_name="慰问记录.pdf")
    assert f'<img src="{photo.get_absolute_url()}"' in html  # a thumbnail for the image
    assert f'href="{document.get_absolute_url()}"' in html and f'<img src="{document.get_absolute_url()}"' not in html


def test_upload_refused_when_too_large(client, owner, person_a):
    big = SimpleUploadedFile("big.png", PNG_BYTES + b"\0" * (10 * 1024 * 1024), content_type="image/png")
    response = client_for(client, owner).post(reverse("demands:visit_create"), {**visit_data(person_a), "photos": [big]})
    assert "photos" in response.context["form"].errors
    assert "10 MB" in str(response.context["form"].errors["photos"])
    assert not Visit.objects.exists()


def test_visit_form_errors(client, owner, person_a, person_b):
    client_for(client, owner)
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = client.post(reverse("demands:visit_create"), {**visit_data(person_a), "visited_on": future})
    assert "visited_on" in response.context["form"].errors
    response = client.post(reverse("demands:visit_create"), visit_data(person_b))  # out of scope
    assert "person" in response.context["form"].errors
    other_event = LifeEventFactory(person=person_b)
    response = client.post(reverse("demands:visit_create"), {**visit_data(person_a), "life_event": other_event.pk})
    assert "life_event" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_evidence_attached_to_a_reply(client, owner, handler, member, outsider, tree):
    demand = accepted(make_demand(tree.group_a, submitter=member.person, by=owner), by=owner, handler=handler)
    client_for(client, handler)
    exe = SimpleUploadedFile("report.pdf", b"MZ\x90\x00", content_type="application/pdf")
    response = client.post(reverse("demands:demand_action", args=[demand.pk, "reply"]), {"text": "见附件", "files": [exe]})
    assert response.status_code == 400 and not demand.events.filter(action="reply").exists()
    pdf = SimpleUploadedFile("答复.pdf", b"%PDF-1.4 reply", content_type="application/pdf")
    assert client.post(reverse("demands:demand_action", args=[demand.pk, "reply"]), {"text": "见附件", "files": [pdf]}).status_code == 302
    attachment = DemandAttachment.objects.get()
    assert attachment.event.action == "reply" and attachment.original_name == "答复.pdf"
    url = reverse("demands:demand_attachment", args=[demand.pk, attachment.pk])
    assert client_for(client, member).get(url).status_code == 200
    assert client_for(client, outsider).get(url).status_code == 404


def test_life_event_creates_a_due_visit(client, owner, person_a):
    client_for(client, owner)
    day = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(reverse("demands:lifeevent_create"), {"person": person_a.pk, "kind": "hospitalization", "event_date": day.isoformat()})
    event = LifeEvent.objects.get()
    assert response.status_code == 302 and event.visit_due_on == day + datetime.timedelta(days=7)
    assert Notification.objects.filter(user=owner, url=reverse("demands:due_visits")).exists()
    due = client.get(reverse("demands:due_visits"))
    assert [e.pk for e in due.context["table"].data] == [event.pk]
    # Logging the visit from the life event takes it off the list.
    page = client.get(reverse("demands:visit_create") + f"?life_event={event.pk}")
    assert page.context["form"].initial["person"] == person_a.pk and page.context["form"].initial["kind"] == "must_visit"
    client.post(reverse("demands:visit_create"), {**visit_data(person_a), "life_event": event.pk})
    assert Visit.objects.get().life_event == event and Visit.objects.get().kind == "must_visit"
    assert list(client.get(reverse("demands:due_visits")).context["table"].data) == []
    detail = client.get(event.get_absolute_url())
    assert detail.context["on_time"] is True


def test_a_life_event_keeps_the_date_of_its_first_visit(owner, person_a):
    """However a visit is written, moved or removed, the event knows whether and when it was
    first visited, and the due-visit list follows."""
    today = timezone.localdate()
    event = LifeEventFactory(person=person_a, event_date=today - datetime.timedelta(days=5))
    other = LifeEventFactory(person=person_a, event_date=today - datetime.timedelta(days=4))

    def log(days_ago, life_event=event):
        return services.visit_log(by=owner, person=person_a, visitor=owner.person, visited_on=today - datetime.timedelta(days=days_ago),
                                  life_event=life_event)

    def first_visits():
        return {e.pk: e.visited_on for e in LifeEvent.objects.filter(pk__in=[event.pk, other.pk])}

    def due():
        return {e.pk for e in selectors.due_visits(owner)}

    assert first_visits() == {event.pk: None, other.pk: None} and due() == {event.pk, other.pk}
    later = log(2)
    assert first_visits()[event.pk] == later.visited_on and due() == {other.pk}
    earlier = log(3)
    log(1)
    assert first_visits()[event.pk] == earlier.visited_on
    earlier.delete()
    assert first_visits()[event.pk] == later.visited_on
    Visit.objects.filter(life_event=event).update(life_event=other)
    assert first_visits() == {event.pk: None, other.pk: later.visited_on} and due() == {event.pk}
    Visit.objects.all().delete()
    assert first_visits() == {event.pk: None, other.pk: None} and due() == {event.pk, other.pk}


def test_emptying_the_visits_table_leaves_every_life_event_to_visit(owner, person_a):
    """TRUNCATE fires no DELETE trigger: the visits' table has a trigger of its own for it."""
    from django.db import connection

    event = LifeEventFactory(person=person_a, event_date=timezone.localdate() - datetime.timedelta(days=3))
    services.visit_log(by=owner, person=person_a, visitor=owner.person, visited_on=timezone.localdate(), life_event=event)
    assert LifeEvent.objects.get(pk=event.pk).visited_on == timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE demands_visit CASCADE")
    assert LifeEvent.objects.get(pk=event.pk).visited_on is None
    assert [e.pk for e in selectors.due_visits(owner)] == [event.pk]


def test_visit_reminders_are_sent_once(owner, person_a):
    today = timezone.localdate()
    soon = LifeEventFactory(person=person_a, event_date=today - datetime.timedelta(days=6))
    late = LifeEventFactory(person=person_a, event_date=today - datetime.timedelta(days=9))
    LifeEventFactory(person=person_a, event_date=today - datetime.timedelta(days=60))  # long past: no reminder
    assert services.visit_reminders() == 2
    assert services.visit_reminders() == 0
    titles = list(Notification.objects.filter(user=owner).values_list("title", flat=True))
    assert any(str(soon.visit_due_on) in t for t in titles) and any(str(late.visit_due_on) in t for t in titles)


def test_demand_from_a_visit(client, owner, person_a):
    client_for(client, owner)
    client.post(reverse("demands:visit_create"), visit_data(person_a, notes="反映夜班交通车问题"))
    visit = Visit.objects.get()
    from tests.factories.demands import category

    cat = category()
    response = client.post(reverse("demands:demand_create") + f"?visit={visit.pk}", {
        "submitter": person_a.pk, "title": "夜班交通车", "content": "发车时间不合理", "category": cat.pk, "urgency": "normal",
        "channel": "visit", "visit": visit.pk,
    })
    assert response.status_code == 302
    demand = visit.demands.get()
    assert (demand.channel, demand.submitter) == ("visit", person_a)
    assert [d.pk for d in client.get(visit.get_absolute_url()).context["demands"]] == [demand.pk]


def test_lists_for_staff_only(client, member, owner):
    for name in ("demands:visit_list", "demands:lifeevent_list", "demands:due_visits", "demands:mediation_list"):
        assert client_for(client, member).get(reverse(name)).status_code == 403
        assert client_for(client, owner).get(reverse(name)).status_code == 200


# --- Mediation ---------------------------------------------------------------------------------------------
def test_mediation_case_from_open_to_follow_up(client, owner, person_a, tree, member):
    demand = make_demand(tree.group_a, submitter=member.person, by=owner)
    client_for(client, owner)
    page = client.get(reverse("demands:mediation_create") + f"?demand={demand.ref}")
    assert page.context["form"].initial["demand_ref"] == demand.ref
    response = client.post(reverse("demands:mediation_create"), {
        "title": "工时纠纷", "org_unit": tree.group_a.pk, "demand_ref": demand.ref, "opened_at": "2026-11-02T09:00",
        "description": "双方对工时有争议", "parties": [person_a.pk], "other_parties": "外包公司代表",
    })
    case = MediationCase.objects.get()
    assert response.status_code == 302 and case.demand == demand and case.is_open
    step = lambda name, data: client.post(reverse("demands:mediation_step", args=[case.pk, name]), data)  # noqa: E731
    assert step("session", {"held_at": "2026-11-03T10:00", "notes": "第一次调解", "place": "工会"}).status_code == 302
    assert step("follow_up", {"checked_on": "2026-11-04", "fulfilment": "fulfilled"}).status_code == 400
    response = step("conclude", {"outcome": "success", "concluded_at": "2026-11-05T10:00", "agreement": ""})
    assert response.status_code == 400 and "agreement" in response.context["forms"]["conclude"].errors
    assert step("conclude", {"outcome": "success", "concluded_at": "2026-11-05T10:00", "agreement": "按实际出勤补发"}).status_code == 302
    case.refresh_from_db()
    assert (case.outcome, case.agreement) == ("success", "按实际出勤补发")
    assert step("follow_up", {"checked_on": "2026-12-05", "fulfilment": "fulfilled", "notes": "已补发"}).status_code == 302
    assert case.follow_ups.count() == 1 and case.sessions.count() == 1
    assert client.get(case.get_absolute_url()).status_code == 200
    assert demand.mediations.get() == case


def test_mediation_scope(client, outsider, owner, tree):
    case = MediationFactory(org_unit=tree.branch_a)
    assert client_for(client, outsider).get(case.get_absolute_url()).status_code == 404
    assert client_for(client, outsider).post(reverse("demands:mediation_step", args=[case.pk, "session"]), {}).status_code == 404
    response = client_for(client, owner).post(reverse("demands:mediation_create"), {
        "title": "越权", "org_unit": tree.branch_b.pk, "opened_at": "2026-11-02T09:00", "description": "x", "other_parties": "某人",
    })
    assert "org_unit" in response.context["form"].errors


def test_mediation_needs_a_party(client, owner, tree):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, tzinfo=datetime.timezone.utc)):
        response = client_for(client, owner).post(reverse("demands:mediation_create"), {
            "title": "无当事人", "org_unit": tree.branch_a.pk, "opened_at": "2026-11-02T09:00", "description": "x",
        })
    assert "parties" in response.context["form"].errors


@pytest.mark.parametrize("url_name", ["demands:visit_list", "demands:lifeevent_list", "demands:due_visits", "demands:mediation_list"])
def test_lists_have_a_constant_query_count(client, owner, tree, url_name):
    from tests.factories import PersonFactory
    from tests.factories.demands import VisitFactory

    client_for(client, owner)

    def add(n):
        for _ in range(n):
            person = PersonFactory(org_unit=tree.group_a)
            VisitFactory(person=person, visitor=owner.person)
            LifeEventFactory(person=person)
            MediationFactory(org_unit=tree.group_a)

    add(3)
    few = page_queries(client, reverse(url_name))
    add(27)
    many = page_queries(client, reverse(url_name))
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)
