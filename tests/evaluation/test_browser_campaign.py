"""A manager opens a campaign in which a unit cannot be rated by every group: the page warns, opening
needs a confirmation, and the results rank the complete unit first and mark the other — in Chromium,
at desktop and phone width."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from evaluation import services
from evaluation.models import Campaign, Indicator, RaterAssignment, RaterGroup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("phone", [False, True])
def test_campaign_with_a_unit_a_group_cannot_rate(page_for, tree, manager, owner, member, screenshot_dir, phone):
    campaign = Campaign.objects.create(name="支部互评", org_unit=tree.root, year=2026, created_by=manager)
    campaign.subjects.set([tree.branch_a, tree.branch_b])
    indicator = Indicator.objects.create(campaign=campaign, name="班子建设", max_score=100)
    mass = RaterGroup.objects.create(campaign=campaign, kind="mass", weight=40)
    peer = RaterGroup.objects.create(campaign=campaign, kind="peer", weight=60)
    mass_rater = RaterAssignment.objects.create(group=mass, rater=member)
    peer_rater = RaterAssignment.objects.create(group=peer, rater=owner)  # branch A's own secretary
    page = page_for(manager, phone=phone)
    page.goto(campaign.get_absolute_url())
    expect(page.locator("[data-testid=unrateable-warning]")).to_contain_text(tree.branch_a.name)
    page.click("[data-testid=campaign-open]")  # not confirmed: the browser keeps the form
    expect(page.locator("[data-testid=campaign-status]")).to_have_text("准备中")
    page.check("[data-testid=accept-incomplete]")
    page.click("[data-testid=campaign-open]")
    expect(page.locator("[data-testid=campaign-status]")).to_have_text("开放评分")
    for assignment, unit, value in ((mass_rater, tree.branch_a, "99"), (mass_rater, tree.branch_b, "80"),
                                    (peer_rater, tree.branch_b, "70")):
        fresh = RaterAssignment.objects.select_related("group__campaign").get(pk=assignment.pk)  # now open
        services.submit_scores(assignment=fresh, subject=unit, scores={indicator: Decimal(value)})
    page.reload()
    rows = page.locator("[data-testid=campaign-results] tbody tr")
    expect(rows.nth(0)).to_contain_text(tree.branch_b.name)
    expect(rows.nth(0)).to_contain_text("74.00")
    expect(rows.nth(1)).to_contain_text(tree.branch_a.name)
    expect(rows.nth(1).locator(f"[data-testid=incomplete-{tree.branch_a.pk}]")).to_have_text("评价不完整")
    expect(page.locator("[data-testid=ranking-rule]")).to_contain_text("排名规则")
    page.screenshot(path=screenshot_dir / f"campaign-incomplete-{'phone' if phone else 'desktop'}.png", full_page=True)


@pytest.mark.parametrize("phone", [False, True])
def test_org_tree_expands_and_collapses(page_for, tree, staff, screenshot_dir, phone):
    page = page_for(staff, phone=phone)
    page.goto("/")
    if phone:
        page.click("button.navbar-toggler")
    page.click("nav >> text=人员")
    page.click(".dropdown-menu.show >> text=组织机构")
    expect(page.locator("h1")).to_have_text("组织架构树")
    branch = page.locator(f"summary:has(> span > a:text-is('{tree.branch_a.name}'))")
    group_link = page.locator(f"a:text-is('{tree.group_a.name}')")
    expect(group_link).to_be_visible()  # the first two levels start open
    branch.click(position={"x": 4, "y": 10})
    expect(group_link).to_be_hidden()
    branch.click(position={"x": 4, "y": 10})
    expect(group_link).to_be_visible()
    page.screenshot(path=screenshot_dir / f"org-tree-{'phone' if phone else 'desktop'}.png", full_page=True)
