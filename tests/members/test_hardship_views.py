"""Pages of the hardship register: who may (owner / member / outsider), 404 outside the scope,
forms with errors beside the fields, the due reviews list and widget, the person page, hardship
visits on both sides, constant queries per list page."""
import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from members.hardship import services
from members.hardship.models import AssistanceRecord, HardshipHousehold
from tests.conftest import PAGE_QUERY_BUDGET, page_queries
from tests.factories import PersonFactory
from tests.factories.demands import PNG_BYTES
from tests.factories.hardship import AssistanceFactory, HouseholdFactory

TODAY = datetime.date(2026, 12, 6)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 12, 6, 10, 0), tick=False):
        yield


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def household(owner, person_a):
    return services.household_register(by=owner, person=person_a, liaison=owner, reason="illness", level="severe",
                                       registered_on=datetime.date(2026, 3, 1), family_size=3)


@pytest.fixture
def pages(household):
    pk = household.pk
    return [
        reverse("members:hardship_list"), reverse("members:hardship_due_reviews"),
        reverse("members:hardship_assistance"), reverse("members:hardship_detail", args=[pk]),
    ]


def test_owner_sees_the_pages_member_is_refused_outsider_does_not_find_the_household(client, owner, member, outsider, household, pages):
    login(client, owner)
    for url in pages:
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("members:hardship_create")).status_code == 200
    login(client, member)
    for url in pages:
        assert client.get(url).status_code == 403, url
    login(client, outsider)
    assert client.get(pages[-1]).status_code == 404
    listed = client.get(reverse("members:hardship_list"))
    assert household.ref not in listed.content.decode()
    for name in ("hardship_step", "hardship_review", "hardship_measure_add", "hardship_assistance_add"):
        assert client.post(reverse(f"members:{name}", args=[household.pk]), {}).status_code == 404, name


def test_a_manager_reads_but_does_not_change(client, manager, household):
    login(client, manager)
    page = client.get(reverse("members:hardship_detail", args=[household.pk]))
    assert page.status_code == 200 and 'data-testid="measure-form"' not in page.content.decode()
    assert client.get(reverse("members:hardship_create")).status_code == 403
    assert client.post(reverse("members:hardship_measure_add", args=[household.pk]), {}).status_code == 403


def test_register_from_the_page_and_errors_beside_the_fields(client, owner, person_a):
    login(client, owner)
    url = reverse("members:hardship_create")
    bad = client.post(url, {"person": person_a.pk, "reason": "illness", "level": "severe", "family_size": "0",
                            "registered_on": "2027-01-01", "liaison": owner.pk, "family_situation": "长期患病"})
    assert bad.status_code == 200
    form = bad.context["form"]
    assert set(form.errors) == {"family_size", "registered_on"}
    assert "长期患病" in bad.content.decode()
    assert not HardshipHousehold.objects.exists()
    good = client.post(url, {"person": person_a.pk, "reason": "illness", "level": "severe", "family_size": "3",
                             "registered_on": "2026-12-01", "liaison": owner.pk})
    household = HardshipHousehold.objects.get()
    assert good.status_code == 302 and good["Location"] == household.get_absolute_url()
    again = client.post(url, {"person": person_a.pk, "reason": "illness", "level": "severe", "family_size": "3",
                              "registered_on": "2026-12-01", "liaison": owner.pk})
    assert again.status_code == 200 and "person" in again.context["form"].errors


def test_plan_assistance_and_review_from_the_household_page(client, owner, household):
    login(client, owner)
    detail = reverse("members:hardship_detail", args=[household.pk])
    bad = client.post(reverse("members:hardship_measure_add", args=[household.pk]),
                      {"pack": "service", "kind": "subsidy", "description": "助学金申请", "owner": owner.pk, "due_on": "2026-12-31"})
    assert bad.status_code == 400 and "kind" in bad.context["measure_form"].errors
    assert "助学金申请" in bad.content.decode()
    ok = client.post(reverse("members:hardship_measure_add", args=[household.pk]),
                     {"pack": "policy", "kind": "schooling", "description": "金秋助学", "owner": owner.pk, "due_on": "2026-12-31"})
    assert ok.status_code == 302
    measure = household.measures.get()
    assert client.post(reverse("members:hardship_measure_done", args=[household.pk, measure.pk]), {"done": "1"}).status_code == 302
    measure.refresh_from_db()
    assert measure.done_on == TODAY

    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(reverse("members:hardship_assistance_add", args=[household.pk]),
                      {"given_on": "2026-12-05", "kind": "subsidy", "amount": "", "service": ""})
    assert bad.status_code == 400 and "amount" in bad.context["assistance_form"].errors
    ok = client.post(reverse("members:hardship_assistance_add", args=[household.pk]), {
        "given_on": "2026-12-05", "kind": "schooling", "amount": "1500.00", "measure": measure.pk,
        "evidence": SimpleUploadedFile("签收单.png", PNG_BYTES, content_type="image/png"),
    })
    assert ok.status_code == 302
    record = AssistanceRecord.objects.get()
    assert record.amount == Decimal("1500.00") and record.measure == measure
    page = client.get(detail).content.decode()
    assert "1500.00" in page and "签收单.png" in page
    evidence = client.get(reverse("members:hardship_evidence", args=[household.pk, record.pk]))
    assert evidence.status_code == 200 and evidence["Content-Type"] == "image/png"

    assert client.post(reverse("members:hardship_review", args=[household.pk]),
                       {"reviewed_on": "2026-12-06", "outcome": "continue", "level": "severe"}).status_code == 302
    household.refresh_from_db()
    assert household.next_review_on == datetime.date(2027, 3, 6)


def test_separation_of_duties_on_the_page(client, owner, staff, household):
    login(client, owner)
    detail = client.get(reverse("members:hardship_detail", args=[household.pk])).content.decode()
    assert 'data-testid="separation-note"' in detail and 'data-testid="step-relieve"' not in detail
    refused = client.post(reverse("members:hardship_step", args=[household.pk]),
                          {"action": "relieve", "on": "2026-12-06", "reason": "再就业"})
    assert refused.status_code == 400
    login(client, staff)
    assert 'data-testid="step-relieve"' in client.get(reverse("members:hardship_detail", args=[household.pk])).content.decode()
    missing = client.post(reverse("members:hardship_step", args=[household.pk]), {"action": "relieve", "on": "2026-12-06", "reason": ""})
    assert missing.status_code == 400 and "reason" in missing.context["step_form"].errors
    assert client.post(reverse("members:hardship_step", args=[household.pk]),
                       {"action": "relieve", "on": "2026-12-06", "reason": "再就业"}).status_code == 302
    household.refresh_from_db()
    assert household.status == "relieved"


def test_due_reviews_list_and_home_widget(client, owner, outsider, household, tree):
    not_due = HouseholdFactory(person=PersonFactory(org_unit=tree.branch_a), next_review_on=datetime.date(2027, 1, 10),
                               liaison=owner)
    other = HouseholdFactory(person=PersonFactory(org_unit=tree.branch_b), next_review_on=datetime.date(2026, 7, 1),
                             liaison=outsider)
    login(client, owner)
    listed = client.get(reverse("members:hardship_due_reviews")).content.decode()
    assert household.ref in listed and not_due.ref not in listed and other.ref not in listed
    # The home page holds a slot; the card is loaded into it after the page.
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="widget-hardship-reviews-slot"' in home and reverse("members:hardship_due_widget") in home
    card = client.get(reverse("members:hardship_due_widget")).content.decode()
    assert 'data-testid="widget-hardship-reviews"' in card and household.person.name in card and other.ref not in card
    services.household_review(household=household, by=owner, reviewed_on=TODAY, outcome="continue", level="severe")
    assert household.ref not in client.get(reverse("members:hardship_due_reviews")).content.decode()
    assert client.get(reverse("members:hardship_due_widget")).content == b""


def test_the_person_page_shows_the_household_on_its_timeline(client, owner, outsider, member, household, person_a):
    AssistanceFactory(household=household, amount=Decimal("800"), given_on=datetime.date(2026, 9, 1))
    AssistanceFactory(household=household, kind="counselling", service="心理疏导两次", given_on=datetime.date(2026, 9, 2))
    login(client, owner)
    page = client.get(reverse("members:person_detail", args=[person_a.pk])).content.decode()
    assert household.ref in page and "¥800.00" in page and "心理疏导两次" in page
    assert household.get_absolute_url() in page
    # The employee's own record does not show the register.
    member_person = member.person
    theirs = HouseholdFactory(person=member_person, liaison=owner)
    login(client, member)
    own = client.get(reverse("members:person_detail", args=[member_person.pk])).content.decode()
    assert theirs.ref not in own


def test_a_hardship_visit_links_to_the_household_on_both_sides(client, owner, household, person_a, tree):
    login(client, owner)
    form = client.get(reverse("demands:visit_create"), {"person": person_a.pk, "hardship_household": household.pk})
    assert form.context["form"].initial["hardship_household"] == household.pk
    stranger = PersonFactory(org_unit=tree.branch_a)
    wrong = client.post(reverse("demands:visit_create"), {
        "person": stranger.pk, "visited_on": "2026-12-05", "kind": "hardship", "hardship_household": household.pk,
        "notes": "送去慰问金",
    })
    assert wrong.status_code == 200 and "hardship_household" in wrong.context["form"].errors
    saved = client.post(reverse("demands:visit_create"), {
        "person": person_a.pk, "visited_on": "2026-12-05", "kind": "routine", "hardship_household": household.pk,
        "notes": "送去慰问金",
    })
    assert saved.status_code == 302
    visit = household.visits.get()
    assert visit.kind == "hardship"
    assert visit.ref in client.get(household.get_absolute_url()).content.decode()
    assert 'data-testid="visit-household"' in client.get(visit.get_absolute_url()).content.decode()


def test_list_pages_make_the_same_queries_with_few_and_many_rows(client, owner, tree):
    login(client, owner)
    urls = [reverse("members:hardship_list"), reverse("members:hardship_due_reviews"), reverse("members:hardship_assistance")]

    def add(n):
        for _ in range(n):
            h = HouseholdFactory(person=PersonFactory(org_unit=tree.group_a), liaison=owner)
            AssistanceFactory(household=h, amount=Decimal("100"))

    add(1)
    few = [page_queries(client, url) for url in urls]
    add(12)
    many = [page_queries(client, url) for url in urls]
    assert few == many and max(many) <= PAGE_QUERY_BUDGET
