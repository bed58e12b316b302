"""The main pages of the demands app in Chromium at phone width (no horizontal scrolling) and at
desktop width, with screenshots in test-artifacts/ for a person to look at."""
import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from demands import services
from tests.factories.demands import PNG_BYTES, LifeEventFactory, MediationFactory, accepted, category, make_demand, resolved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data(tree, owner, staff, handler, member, person_a):
    cat = category("welfare", "福利")
    overdue = make_demand(tree.group_a, submitter=person_a, by=owner, title="夜班交通车发车时间与交接班冲突，希望调整",
                          received_at=timezone.now() - datetime.timedelta(days=40), category_obj=cat)
    accepted(overdue, by=owner, handler=handler, lead_unit=tree.department, cooperating_units=[tree.branch_b])
    make_demand(tree.group_a, submitter=member.person, by=member, channel="self_service", title="食堂午餐菜品单一", category_obj=cat)
    done = resolved(make_demand(tree.branch_a, by=owner, title="更衣室柜子不够用"), by=owner, handler=handler)
    event = LifeEventFactory(person=person_a, kind="hospitalization", event_date=timezone.localdate() - datetime.timedelta(days=8))
    visit = services.visit_log(by=owner, person=person_a, visitor=owner.person, visited_on=timezone.localdate(), kind="must_visit",
                               notes="住院慰问，了解康复情况，转达组织关心。", life_event=event,
                               photos=[SimpleUploadedFile("慰问.png", PNG_BYTES, content_type="image/png")])
    LifeEventFactory(person=person_a, kind="childbirth", event_date=timezone.localdate() - datetime.timedelta(days=3))
    case = MediationFactory(org_unit=tree.branch_a, demand=overdue, description="双方就夜班工时认定有分歧。")
    services.mediation_add_session(case=case, by=owner, held_at=timezone.now(), notes="第一次调解：双方陈述意见。", place="工会活动室")
    return type("Data", (), dict(overdue=overdue, done=done, visit=visit, event=event, case=case))


def no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1, page.url


def test_pages_at_phone_and_desktop_width(page_for, owner, handler, member, data, screenshot_dir):
    pages = {
        "queue-overdue": "/demands/queue/overdue/",
        "ledger": "/demands/",
        "detail": data.overdue.get_absolute_url(),
        "visits": "/demands/visits/",
        "visit": data.visit.get_absolute_url(),
        "due-visits": "/demands/life-events/due/",
        "mediation": data.case.get_absolute_url(),
        "intake": "/demands/new/",
        "home": "/",
    }
    for phone in (True, False):
        page = page_for(owner, phone=phone)
        for name, url in pages.items():
            page.goto(url)
            expect(page.locator("main")).to_be_visible()
            if phone:
                no_horizontal_scroll(page)
            page.screenshot(path=screenshot_dir / f"demands-{name}-{'phone' if phone else 'desktop'}.png", full_page=True)
    # Colours in the overdue queue, the photo behind the scope check.
    page = page_for(owner)
    page.goto("/demands/queue/overdue/")
    expect(page.locator("[data-testid=deadline][data-colour=red]").first).to_be_visible()
    page.goto(data.visit.get_absolute_url())
    assert page.evaluate("document.querySelector('[data-testid=photos] img').naturalWidth") == 1

    handler_page = page_for(handler, phone=True)
    handler_page.goto("/")
    expect(handler_page.locator("[data-testid=widget-assigned]")).to_be_visible()
    no_horizontal_scroll(handler_page)
    handler_page.screenshot(path=screenshot_dir / "demands-home-handler-phone.png", full_page=True)

    employee = page_for(member, phone=True)
    employee.goto("/")
    expect(employee.locator("[data-testid=widget-mine]")).to_be_visible()
    no_horizontal_scroll(employee)
    employee.screenshot(path=screenshot_dir / "demands-home-employee-phone.png", full_page=True)
    employee.goto("/demands/new/")
    no_horizontal_scroll(employee)
    employee.screenshot(path=screenshot_dir / "demands-intake-employee-phone.png", full_page=True)


def test_public_pages_at_phone_width(page_for, tree, owner, data, screenshot_dir):
    category("welfare", "福利")
    page = page_for(None, phone=True)
    page.goto("/demands/public/submit/")
    no_horizontal_scroll(page)
    page.select_option("#id_org_unit", str(tree.branch_a.pk))
    page.select_option("#id_category", label="福利")
    page.fill("#id_title", "匿名反映：车间通风不好")
    page.fill("#id_content", "夏天车间温度很高，通风设备经常停用。")
    page.screenshot(path=screenshot_dir / "demands-public-submit-phone.png", full_page=True)
    page.click("[data-testid=submit-anonymous]")
    code = page.locator("[data-testid=tracking-code]").inner_text()
    no_horizontal_scroll(page)
    page.screenshot(path=screenshot_dir / "demands-public-submitted-phone.png", full_page=True)
    page.goto("/demands/public/track/")
    page.fill("#id_code", code)
    page.click("[data-testid=track]")
    expect(page.locator("[data-testid=track-status]")).to_have_attribute("data-status", "pending")
    no_horizontal_scroll(page)
    page.screenshot(path=screenshot_dir / "demands-public-track-phone.png", full_page=True)


def test_list_pages_become_cards_on_a_phone(page_for, owner, data, screenshot_dir):
    """Below 576 px a list is a stack of cards: no column is cut off or scrolled out of view, each cell
    says which column it is, and the status is on screen."""
    page = page_for(owner, phone=True)
    for name, url in {"ledger": "/demands/", "queue": "/demands/queue/overdue/", "due-visits": "/demands/life-events/due/",
                      "people": "/members/people/"}.items():
        page.goto(url)
        table = page.locator(".table-container table").first
        expect(table).to_have_class(re.compile("table-cards"))
        expect(table.locator("thead")).to_be_hidden()
        width = page.viewport_size["width"]
        cells = table.locator("tbody tr").first.locator("td")
        assert cells.count() > 1
        for i in range(cells.count()):
            box = cells.nth(i).bounding_box()
            assert box is None or box["x"] + box["width"] <= width + 1, (name, i, box)
        assert all(cells.nth(i).get_attribute("data-label") is not None for i in range(cells.count()))
        no_horizontal_scroll(page)
        page.screenshot(path=screenshot_dir / f"cards-{name}-phone.png", full_page=True)
    page.goto("/demands/")
    status = page.locator(".table-container tbody tr").first.locator("td[data-label='状态']")
    expect(status).to_be_in_viewport()
    # A cell of several pieces (the deadline's badge and its date) keeps them together on the right.
    deadline = page.locator(".table-container td[data-label='完成时限']:has(.badge)").first
    badge, due = deadline.locator(".badge").bounding_box(), deadline.locator("small").bounding_box()
    assert 0 <= due["x"] - (badge["x"] + badge["width"]) < 12, (badge, due)
