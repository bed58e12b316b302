"""Pickers in Chromium: the cooperating-units picker clears what was typed after a pick (the next
unit can be typed at once); the mediators picker offers the committee's staff for a branch's case."""
import pytest
from playwright.sync_api import expect

from tests.factories.demands import make_demand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cooperating_units_picker_clears_its_search_after_a_pick(page_for, tree, owner, handler):
    demand = make_demand(tree.group_a, by=owner)
    page = page_for(owner)
    page.goto(demand.get_absolute_url())
    page.click("[data-testid=action-accept]")
    page.wait_for_selector("#action-accept.collapse.show")
    page.click("#form-accept #div_id_cooperating_units .ts-control")
    page.keyboard.type("后勤")
    option = page.locator(".ts-dropdown:visible .option", has_text=tree.department.name).first
    expect(option).to_be_visible()
    option.click()
    control = page.locator("#form-accept #div_id_cooperating_units .ts-control input")
    expect(control).to_have_value("")
    expect(page.locator("#form-accept #div_id_cooperating_units .ts-control .item")).to_have_count(1)
    page.keyboard.type("第二")
    expect(page.locator(".ts-dropdown:visible .option", has_text=tree.branch_b.name).first).to_be_visible()


def test_mediators_picker_offers_who_may_act_on_the_cases_unit(page_for, tree, owner, staff):
    page = page_for(owner)
    page.goto("/demands/mediations/new/")
    page.click("#div_id_org_unit .ts-control")
    page.keyboard.type(tree.group_a.name[:3])
    page.locator(".ts-dropdown:visible .option", has_text=tree.group_a.name).first.click()
    page.click("#div_id_mediators .ts-control")
    page.keyboard.type(staff.person.name)
    expect(page.locator(".ts-dropdown:visible .option", has_text=staff.person.name).first).to_be_visible()
