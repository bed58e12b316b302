"""A branch secretary logs in and opens a member's page, at desktop and at phone width."""
import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_secretary_logs_in_and_opens_member_page(page_for, owner, person_a, person_b, screenshot_dir):
    page = page_for()
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button:has-text('登录')")
    expect(page.locator("h1")).to_contain_text("您好")
    page.click("nav >> text=人员")
    page.click(".dropdown-menu.show >> text=人员名册")
    expect(page.locator("table")).to_contain_text(person_a.name)
    expect(page.locator("table")).not_to_contain_text(person_b.name)
    page.click(f"table >> text={person_a.name}")
    expect(page.locator("h1")).to_contain_text(person_a.name)
    # The phone is masked until revealed.
    expect(page.locator("#phone-value")).to_contain_text("****")
    page.screenshot(path=screenshot_dir / "secretary-person-desktop.png", full_page=True)


def test_member_page_at_phone_width(page_for, owner, person_a, screenshot_dir):
    page = page_for(owner, phone=True)
    page.goto(f"/members/people/{person_a.pk}/")
    expect(page.locator("h1")).to_contain_text(person_a.name)
    expect(page.locator("text=时间线")).to_be_visible()
    # No horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.click("button.navbar-toggler")
    expect(page.locator("#mainNav")).to_be_visible()
    page.screenshot(path=screenshot_dir / "secretary-person-phone.png", full_page=True)
