"""Browser journeys in Chromium (Playwright). Elements are found by id, name, data-testid or URL so
the tests keep passing whatever the display language."""
import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities import services
from activities.models import Activity, ResponsibilityItem
from members.models import PointsEntry
from portal.roles import Role
from tests.conftest import make_user
from tests.factories import TEST_PASSWORD, PersonFactory
from tests.factories.activities import ActivityFactory, AttendanceFactory, ItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page, width=390):
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def test_secretary_reviews_the_branch_list_and_approves_a_completion(page_for, tree, owner, screenshot_dir):
    handler_a = make_user(Role.HANDLER, tree.branch_a, person_unit=tree.group_a, username="handler_a")
    root = ItemFactory(lead_org_unit=tree.branch_a, title="年度党建责任清单", responsible=owner.person)
    done = ItemFactory(lead_org_unit=tree.branch_a, parent=root, title="开展主题党日活动", responsible=handler_a.person)
    ItemFactory(lead_org_unit=tree.branch_a, parent=root, title="整改问题清单", responsible=handler_a.person,
                deadline=timezone.localdate() - datetime.timedelta(days=2))
    ItemFactory(lead_org_unit=tree.branch_a, parent=root, title="党员发展考察", deadline=timezone.localdate() + datetime.timedelta(days=2))
    ItemFactory(lead_org_unit=tree.branch_b, title="乙支部的事项")
    services.item_submit(item=done, by=handler_a, note="活动已开展，照片已上传。")

    page = page_for(owner)
    page.goto("/activities/tasks/review/")
    expect(page.locator("#pending-approvals")).to_contain_text(done.title)
    expect(page.locator("#red-items")).to_contain_text("整改问题清单")
    expect(page.locator("table")).not_to_contain_text("乙支部的事项")
    page.screenshot(path=screenshot_dir / "activities-review-desktop.png", full_page=True)
    page.click(f"[data-testid=approve-{done.pk}]")
    expect(page.locator("#pending-approvals [data-item]")).to_have_count(0)
    assert ResponsibilityItem.objects.get(pk=done.pk).status == "approved"
    page.goto(f"/activities/tasks/{done.pk}/")
    expect(page.locator("#item-colour")).to_have_attribute("data-colour", "done")
    page.goto(f"/activities/tasks/{root.pk}/")
    page.screenshot(path=screenshot_dir / "activities-item-desktop.png", full_page=True)

    phone = page_for(owner, phone=True)
    phone.goto("/activities/tasks/review/")
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "activities-review-phone.png", full_page=True)


def test_member_checks_in_with_the_qr_link_at_phone_width(page_for, tree, owner, member, screenshot_dir):
    activity = ActivityFactory(org_unit=tree.branch_a, type="theme_party_day", title="主题党日：重温入党誓词",
                               status="planned", held_at=timezone.now() + datetime.timedelta(minutes=10))
    AttendanceFactory(activity=activity, person=member.person, status="absent")
    screen = page_for(owner)
    screen.goto(f"/activities/{activity.pk}/qr/")
    expect(screen.locator("#qr-code svg")).to_be_visible()
    link = screen.locator("#qr-code").get_attribute("data-checkin-url")
    screen.screenshot(path=screenshot_dir / "activities-qr-screen.png", full_page=True)

    phone = page_for(phone=True)
    phone.goto(link)
    expect(phone).to_have_url(re.compile(r"/login/\?next="))
    phone.fill("input[name=username]", member.username)
    phone.fill("input[name=password]", TEST_PASSWORD)
    phone.click("button[type=submit], form button.btn-danger, form button")
    expect(phone.locator("#checkin-button")).to_be_visible()
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "activities-checkin-phone.png", full_page=True)
    phone.click("#checkin-button")
    expect(phone.locator("#checkin-done")).to_have_attribute("data-new", "1")
    phone.screenshot(path=screenshot_dir / "activities-checkin-done-phone.png", full_page=True)
    # Scanning again is harmless.
    phone.goto(link)
    expect(phone.locator("#already-present")).to_be_visible()
    assert activity.attendances.get(person=member.person).status == "present"
    # The screen counts the check-in after its next refresh.
    screen.reload()
    expect(screen.locator("#qr-count")).to_contain_text("1")
    # A forged code is refused with a message.
    phone.goto(link[:-3] + "abc")
    expect(phone.locator("#checkin-error")).to_be_visible()


def test_secretary_plans_a_party_lecture_and_records_attendance(page_for, tree, owner, screenshot_dir):
    members = [PersonFactory(org_unit=tree.group_a, political_status="full_member", name=f"党员{i}") for i in range(4)]
    PersonFactory(org_unit=tree.group_a, political_status="masses", name="群众甲")
    page = page_for(owner)
    page.goto("/activities/new/?type=party_lecture")
    page.fill("#id_title", "书记讲党课：学习贯彻党的二十届四中全会精神")
    held = timezone.localtime() - datetime.timedelta(hours=1)
    page.fill("#id_held_at", held.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_location", "三楼党员活动室")
    page.fill("#id_agenda", "1. 书记讲党课\n2. 交流研讨")
    page.screenshot(path=screenshot_dir / "activities-plan-form.png", full_page=True)
    page.click("form button.btn-danger")
    expect(page.locator("#activity-status")).to_have_attribute("data-status", "planned")
    activity = Activity.objects.get(type="party_lecture")
    assert activity.org_unit == tree.branch_a

    # Invite all party members of the branch via the autocomplete.
    page.click("#invite-form .ts-control")
    page.keyboard.type("第一党支部")
    page.locator(".ts-dropdown .option", has_text="第一党支部").first.click()  # not a preloaded option
    page.keyboard.press("Escape")
    with page.expect_navigation():
        page.click("#invite-submit")
    expect(page.locator("#roster tbody tr[data-person]")).to_have_count(4)

    for person in members[:3]:
        page.locator(f"tr[data-person='{person.employee_no}'] label.btn-outline-success").click()
    page.locator(f"tr[data-person='{members[3].employee_no}'] label.btn-outline-warning").click()
    page.click("#save-and-held")
    expect(page.locator("#activity-status")).to_have_attribute("data-status", "held")
    expect(page.locator("#attendance-summary")).to_contain_text("3")
    page.screenshot(path=screenshot_dir / "activities-attendance-desktop.png", full_page=True)
    assert PointsEntry.objects.filter(source="attendance").count() == 3

    page.goto("/activities/compliance/")
    expect(page.locator("#compliance-matrix")).to_be_visible()
    page.screenshot(path=screenshot_dir / "activities-compliance-desktop.png", full_page=True)
    phone = page_for(owner, phone=True)
    phone.goto(f"/activities/{activity.pk}/")
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "activities-detail-phone.png", full_page=True)
    phone.goto("/activities/compliance/")
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "activities-compliance-phone.png", full_page=True)
