"""The closed loop in Chromium: a liaison logs a visit at phone width and records a demand heard
there; the handler replies and resolves; the submitter rates through the one-time link without
logging in; staff see it finished with the whole timeline. Elements are found by id, name,
data-testid or URL, never by (translatable) text."""
import re

import pytest
from playwright.sync_api import expect

from portal.models import Notification
from tests.factories.demands import PNG_BYTES, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page, width=390):
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def pick(page, scope: str, field: str, text: str):
    """Choose an option of a tom-select autocomplete inside `scope` by typing."""
    page.click(f"{scope} #div_id_{field} .ts-control")
    page.keyboard.type(text)
    # The options preloaded on focus show before the search for `text` answers: wait for the match.
    option = page.locator(".ts-dropdown:visible .option", has_text=text).first
    expect(option).to_be_visible()
    option.click()
    # A single choice closes the list and lets go of the focus (static/portal/portal.js), so the next
    # tap — on a phone, "保存" — is not spent on closing the dropdown.
    expect(page.locator(".ts-dropdown:visible")).to_have_count(0)
    expect(page.locator("[id$='-ts-control']:focus")).to_have_count(0)


def open_action(page, action: str):
    """Open an action's form and wait until Bootstrap has finished showing it: text typed while the
    collapse still animates can be lost (the form then posts empty and answers 400)."""
    page.click(f"[data-testid=action-{action}]")
    page.wait_for_selector(f"#action-{action}.collapse.show")


def test_visit_to_rated_demand(page_for, staff, handler, member, tree, screenshot_dir):
    category("welfare", "福利")
    person = member.person

    # 1. The liaison, on a phone, logs a visit from the menu, with a photo.
    phone = page_for(staff, phone=True)
    phone.goto("/")
    phone.click("button.navbar-toggler")
    phone.locator("#mainNav a.dropdown-toggle:has(.bi-chat-left-text)").click()
    phone.click("#mainNav a[href='/demands/visits/new/']")
    expect(phone).to_have_url("/demands/visits/new/")
    pick(phone, "#visit-form", "person", person.name)
    phone.select_option("#id_kind", "heart_talk")
    phone.fill("#id_notes", "谈心谈话：反映食堂午餐菜品单一，夜班人员吃不上热饭。")
    phone.set_input_files("#id_photos", files=[{"name": "visit.png", "mimeType": "image/png", "buffer": PNG_BYTES}])
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "demands-visit-form-phone.png", full_page=True)
    phone.click("[data-testid=save-visit]")
    expect(phone).to_have_url(re.compile(r"/demands/visits/\d+/$"))
    expect(phone.locator("[data-testid=photos] img")).to_have_count(1)
    no_horizontal_scroll(phone)

    # 2. … and records the demand heard there.
    phone.click("[data-testid=demand-from-visit]")
    expect(phone).to_have_url(re.compile(r"/demands/new/\?visit=\d+"))
    phone.fill("#id_title", "食堂午餐菜品单一，夜班吃不上热饭")
    phone.fill("#id_content", "希望食堂增加菜品，并为夜班人员保留热饭。")
    phone.select_option("#id_category", label="福利")
    no_horizontal_scroll(phone)
    phone.click("[data-testid=submit-demand]")
    expect(phone).to_have_url(re.compile(r"/demands/\d+/$"))
    expect(phone.locator("[data-testid=demand-status]")).to_have_attribute("data-status", "pending")
    demand_url = phone.url

    # 3. Accepts it and assigns the handler (still on the phone).
    open_action(phone, "accept")
    pick(phone, "#form-accept", "handler", handler.display_name)
    phone.fill("#form-accept textarea[name=note]", "请后勤服务中心牵头办理")
    phone.click("[data-testid=confirm-accept]")
    expect(phone.locator("[data-testid=demand-status]")).to_have_attribute("data-status", "accepted")
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "demands-detail-phone.png", full_page=True)

    # 4. The handler finds it assigned on the home page, replies and resolves.
    desk = page_for(handler)
    desk.goto("/")
    desk.click("[data-testid=widget-assigned] a.text-break")
    expect(desk).to_have_url(demand_url)
    open_action(desk, "reply")
    desk.fill("#form-reply textarea[name=text]", "已与食堂沟通，下周起增加两个菜品，夜班保留热饭。")
    desk.click("[data-testid=confirm-reply]")
    expect(desk.locator("[data-testid=demand-status]")).to_have_attribute("data-status", "in_progress")
    desk.wait_for_load_state("load")  # the action buttons work once the page's scripts ran
    open_action(desk, "resolve")
    expect(desk.locator("#form-resolve textarea[name=result]")).to_be_visible()
    desk.fill("#form-resolve textarea[name=result]", "食堂已增加菜品，夜班热饭已落实。")
    desk.click("[data-testid=confirm-resolve]")
    expect(desk.locator("[data-testid=demand-status]")).to_have_attribute("data-status", "resolved")

    # 5. The submitter rates from the link in the notification, without logging in.
    link = Notification.objects.get(user=member, url__startswith="/demands/rate/").url
    guest = page_for(None, phone=True)
    guest.goto(link)
    guest.check("input[name=rating][value='5']")
    guest.fill("textarea[name=comment]", "很满意，感谢！")
    no_horizontal_scroll(guest)
    guest.screenshot(path=screenshot_dir / "demands-rate-phone.png", full_page=True)
    guest.click("[data-testid=submit-rating]")
    expect(guest.locator("[data-testid=thanks]")).to_be_visible()
    guest.goto(link)  # the link works once
    expect(guest.locator("[data-testid=refused]")).to_be_visible()

    # 6. Staff see it finished, with the whole timeline.
    desk_staff = page_for(staff)
    desk_staff.goto(demand_url)
    expect(desk_staff.locator("[data-testid=demand-status]")).to_have_attribute("data-status", "visited")
    actions = desk_staff.locator("[data-testid=timeline] li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert actions == ["submit", "accept", "reply", "resolve", "rate"]
    expect(desk_staff.locator("[data-testid=rating] [data-rating='5']")).to_be_visible()
    expect(desk_staff.locator("[data-testid=actions]")).to_have_count(0)
    desk_staff.screenshot(path=screenshot_dir / "demands-detail-desktop.png", full_page=True)
    desk_staff.goto("/demands/")
    expect(desk_staff.locator("[data-testid=demand-table]")).to_be_visible()
    desk_staff.screenshot(path=screenshot_dir / "demands-list-desktop.png", full_page=True)
    desk_staff.goto("/")
    desk_staff.screenshot(path=screenshot_dir / "demands-home-staff.png", full_page=True)
