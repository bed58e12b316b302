"""At phone width (390 px): a branch secretary submits a membership transfer, a second officer of
the branch and then the committee approve it, and the letter of introduction prints."""
import datetime
import re

import pytest
from playwright.sync_api import expect

from members.partyorg.models import Transfer
from portal.roles import Role
from tests.conftest import make_user
from tests.factories import PersonFactory
from tests.factories.partyorg import BranchTermFactory, MobileMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1


def _pick(page, field: str, text: str):
    page.click(f"#id_{field}-ts-control")
    page.fill(f"#id_{field}-ts-control", text)
    page.click(f".ts-dropdown .option:has-text('{text}')")


def test_secretary_submits_committee_approves_letter_prints(page_for, owner, staff, tree, screenshot_dir):
    member = PersonFactory(org_unit=tree.group_a, name="王五", political_status="full_member",
                           joined_party_on=datetime.date(2010, 7, 1))
    deputy = make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.branch_a, username="deputy")

    page = page_for(owner, phone=True)
    page.goto("/")
    page.click("button.navbar-toggler")
    page.click("#mainNav >> text=人员")
    page.click(".dropdown-menu.show >> text=组织关系转接")
    expect(page.locator("h1")).to_contain_text("组织关系转接")
    _fits(page)
    page.goto("/members/transfers/new/")
    _fits(page)
    page.select_option("#id_kind", "within")
    _pick(page, "person", "王五")
    _pick(page, "to_unit", "第二党支部")
    page.fill("#id_reason", "工作调动")
    page.click("#save-and-submit")
    expect(page.locator("#transfer-status")).to_have_attribute("data-status", "submitted")
    # The secretary who submitted it is not offered the branch's approval.
    expect(page.locator("[data-action=approve_branch]")).to_have_count(0)
    _fits(page)
    transfer = Transfer.objects.get()

    page = page_for(deputy, phone=True)
    page.goto(transfer.get_absolute_url())
    page.click("[data-action=approve_branch]")
    expect(page.locator("#transfer-status")).to_have_attribute("data-status", "branch_approved")

    page = page_for(staff, phone=True)
    page.goto(transfer.get_absolute_url())
    page.click("[data-action=approve_committee]")
    expect(page.locator("#transfer-status")).to_have_attribute("data-status", "committee_approved")
    # The change history at phone width: each changed field is a readable line, not a column a
    # character wide.
    page.click("[data-testid=show-history]")
    page.locator("td.history-changes").first.wait_for()
    widths = page.eval_on_selector_all("td.history-changes .history-change", "els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and min(widths) >= 200, widths
    _fits(page)
    page.click("#letters a")
    expect(page.locator("#letter-number")).to_contain_text(re.compile(r"\d{4}-0001"))
    expect(page.locator("#transfer-letter")).to_contain_text("王五")
    expect(page.locator("#transfer-letter")).to_contain_text("第二党支部")
    _fits(page)
    # The print button calls window.print() (portal.js, data-print): no inline script under the CSP.
    page.evaluate("window.__printed = false; window.print = () => { window.__printed = true; }")
    page.click("#print-letter")
    assert page.evaluate("window.__printed")
    page.emulate_media(media="print")
    expect(page.locator("#print-letter")).to_be_hidden()
    page.screenshot(path=screenshot_dir / "transfer-letter-phone.png", full_page=True)

    # The committee's other lists at phone width: rows become cards, nothing scrolls sideways.
    MobileMemberFactory(person__org_unit=tree.group_a, person__name="赵六")
    BranchTermFactory(unit=tree.branch_a, elected_on=datetime.date(2023, 3, 1))
    page = page_for(staff, phone=True)
    for url, text in (("/members/transfers/pending/", None), ("/members/mobile/?current=true", "赵六"),
                      ("/members/terms/overdue/", tree.branch_a.name)):
        page.goto(url)
        if text:
            expect(page.locator("table.table-cards")).to_contain_text(text)
        _fits(page)
    page.screenshot(path=screenshot_dir / "overdue-terms-phone.png", full_page=True)
