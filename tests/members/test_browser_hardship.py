"""The hardship register in Chromium at phone width (390 px): staff open it from the menu, register
a household, add a plan measure and record assistance with evidence; a second person confirms it
is out of hardship. Elements are found by id, name, data-testid or URL, never by (translatable) text."""
import re

import pytest
from playwright.sync_api import expect

from members.hardship.models import AssistanceRecord, HardshipHousehold
from tests.conftest import make_user
from tests.factories.demands import PNG_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page, width=390):
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def pick(page, scope: str, field: str, text: str):
    page.click(f"{scope} #div_id_{field} .ts-control")
    page.keyboard.type(text)
    option = page.locator(".ts-dropdown:visible .option", has_text=text).first
    expect(option).to_be_visible()
    option.click()
    expect(page.locator(".ts-dropdown:visible")).to_have_count(0)


def test_staff_register_plan_and_assist_at_phone_width(page_for, staff, person_a, tree, screenshot_dir):
    errors = []
    phone = page_for(staff, phone=True)
    phone.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # 1. From the menu to the register, and its "new" button.
    phone.goto("/")
    phone.click("button.navbar-toggler")
    phone.locator("#mainNav a.dropdown-toggle:has(.bi-people)").click()
    phone.click("#mainNav a[href='/members/hardship/']")
    expect(phone).to_have_url("/members/hardship/")
    no_horizontal_scroll(phone)
    phone.click("a[href='/members/hardship/new/']")

    # 2. Register the household (the liaison is the staff member by default).
    pick(phone, "#household-form", "person", person_a.name)
    phone.select_option("#id_reason", "illness")
    phone.select_option("#id_level", "severe")
    phone.fill("#id_family_size", "4")
    phone.fill("#id_family_situation", "配偶长期患病住院，两个孩子在读。")
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "hardship-register-phone.png", full_page=True)
    phone.click("[data-testid=save-household]")
    expect(phone).to_have_url(re.compile(r"/members/hardship/\d+/$"))
    household = HardshipHousehold.objects.get()
    expect(phone.locator("h1")).to_contain_text(household.ref)

    # 3. A measure of the policy pack.
    form = "[data-testid=measure-form]"
    phone.select_option(f"{form} #id_pack", "policy")
    phone.select_option(f"{form} #id_kind", "schooling")
    phone.fill(f"{form} #id_description", "申请金秋助学金")
    phone.fill(f"{form} #id_due_on", "2030-09-30")
    phone.click("[data-testid=add-measure]")
    expect(phone.locator("[data-testid=measures-policy]")).to_contain_text("申请金秋助学金")

    # 4. Assistance with evidence, tied to the measure.
    form = "[data-testid=assistance-form]"
    phone.select_option(f"{form} #id_kind", "schooling")
    phone.fill(f"{form} #id_amount", "1500.00")
    phone.select_option(f"{form} #id_measure", label="申请金秋助学金")
    phone.set_input_files(f"{form} #id_evidence", files=[{"name": "签收单.png", "mimeType": "image/png", "buffer": PNG_BYTES}])
    phone.click("[data-testid=add-assistance]")
    expect(phone.locator("[data-testid=assistance]")).to_contain_text("1500.00")
    expect(phone.locator("[data-testid=assistance]")).to_contain_text("签收单.png")
    record = AssistanceRecord.objects.get()
    assert record.household == household and record.measure.description == "申请金秋助学金"
    no_horizontal_scroll(phone)
    # The registrar is not offered "out of hardship" (separation of duties).
    expect(phone.locator("[data-testid=separation-note]")).to_be_visible()
    expect(phone.locator("[data-testid=step-relieve]")).to_have_count(0)
    phone.screenshot(path=screenshot_dir / "hardship-household-phone.png", full_page=True)

    # 5. The branch secretary confirms it, on a phone too.
    secretary = make_user("branch_secretary", tree.branch_a, person_unit=tree.branch_a)
    other = page_for(secretary, phone=True)
    other.goto(household.get_absolute_url())
    other.fill("[data-testid=step-form] #id_reason", "子女毕业就业，家庭收入恢复")
    other.click("[data-testid=step-relieve]")
    expect(other.locator("[data-testid=steps]")).to_have_count(1)
    household.refresh_from_db()
    assert household.status == "relieved" and household.left_on is not None
    no_horizontal_scroll(other)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
