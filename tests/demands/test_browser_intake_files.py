"""In Chromium at phone width: an employee submits a demand with two photos, the unit's secretary sees
them as thumbnails; a bad file is named beside the field and what was typed stays."""
import pytest
from playwright.sync_api import expect

from demands.models import Demand
from tests.factories.demands import PNG_BYTES, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo(name):
    return {"name": name, "mimeType": "image/png", "buffer": PNG_BYTES}


def no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1, page.url


def test_an_employee_sends_two_photos_from_the_phone(page_for, member, owner, screenshot_dir):
    category("dorm", "宿舍")
    phone = page_for(member, phone=True)
    phone.goto("/demands/new/")
    phone.fill("#id_title", "宿舍走廊灯坏了")
    phone.fill("#id_content", "三号楼二层走廊灯坏了一周")
    phone.select_option("#id_category", label="宿舍")
    files = phone.locator("#id_attachments")
    assert files.get_attribute("accept").startswith("image/*") and files.get_attribute("multiple") is not None
    # A file that is not what it claims: named beside the field, the rest of the form kept.
    files.set_input_files([{"name": "病毒.png", "mimeType": "image/png", "buffer": b"MZ\x90 a program"}])
    phone.click("[data-testid=submit-demand]")
    expect(phone.locator("#div_id_attachments")).to_contain_text("病毒.png")
    expect(phone.locator("#id_title")).to_have_value("宿舍走廊灯坏了")
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "intake-bad-file-phone.png", full_page=True)
    phone.locator("#id_attachments").set_input_files([photo("走廊.png"), photo("灯.png")])
    phone.click("[data-testid=submit-demand]")
    expect(phone.locator(".alert-success")).to_be_visible()
    demand = Demand.objects.get(title="宿舍走廊灯坏了")
    assert demand.attachments.count() == 2

    secretary = page_for(owner, phone=True)
    secretary.goto(demand.get_absolute_url())
    thumbnails = secretary.locator("[data-testid=timeline] [data-testid=files] img")
    expect(thumbnails).to_have_count(2)
    # The thumbnails are the images themselves, loaded (not broken).
    assert secretary.evaluate("[...document.querySelectorAll('[data-testid=files] img')].every(i => i.complete && i.naturalWidth > 0)")
    no_horizontal_scroll(secretary)
    secretary.screenshot(path=screenshot_dir / "intake-photos-on-the-demand-phone.png", full_page=True)
