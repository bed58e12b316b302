"""A manager opens the dashboard, changes period and unit, drills down from the satisfaction rate to
the rated demands and downloads the monthly report — in Chromium, at desktop and phone width."""
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from evaluation import engine
from tests.evaluation import scenario
from tests.factories.evaluation import at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(tree):
    scenario.build(tree)
    engine.compute(["2026-02", "2026-03", "2026-Q1", "2026"], as_of=at("2026-04-15 12:00"))
    return tree


def test_manager_dashboard_drilldown_and_report(page_for, world, manager, screenshot_dir):
    page = page_for(manager)
    page.goto("/evaluation/?period=2026-02")
    expect(page.locator("[data-testid=current-unit]")).to_have_text(world.root.name)
    # Change the period with the picker.
    page.select_option("#id_period", "2026-03")
    page.click("[data-testid=apply-pickers]")
    page.wait_for_url("**period=2026-03**")
    expect(page.locator("[data-testid=value-satisfaction_rate]")).to_have_text("50.00%")
    expect(page.locator("#chart-trend canvas")).to_have_count(1)
    page.screenshot(path=screenshot_dir / "evaluation-dashboard-desktop.png", full_page=True)
    # Change the unit: branch A.
    page.click("[data-testid=sub-unit] >> nth=0")
    expect(page.locator("[data-testid=current-unit]")).to_have_text(world.branch_a.name)
    assert "period=2026-03" in page.url
    satisfaction = page.locator("[data-testid=card-satisfaction_rate]")
    expect(satisfaction.locator("[data-testid=drill-satisfaction_rate-numerator]")).to_have_text("1")
    expect(satisfaction.locator("[data-testid=drill-satisfaction_rate-denominator]")).to_have_text("2")
    # Drill down to the rated demands.
    satisfaction.locator("[data-testid=drill-satisfaction_rate-denominator]").click()
    page.wait_for_url("**/evaluation/drill/satisfaction_rate/**")
    expect(page.locator("[data-testid=count-denominator]")).to_have_text("2")
    expect(page.locator("[data-testid=snapshot-figures]")).to_have_text("1 / 2")
    expect(page.locator("table tbody tr")).to_have_count(2)
    page.screenshot(path=screenshot_dir / "evaluation-drilldown-desktop.png", full_page=True)
    page.click("[data-testid=part-numerator]")
    expect(page.locator("table tbody tr")).to_have_count(1)
    # The monthly report: generate March's and download the workbook.
    page.goto("/evaluation/reports/")
    page.click("[data-testid=open-request]")
    # Typing into the form while Bootstrap still animates it open could lose the text: wait until shown.
    page.wait_for_selector("#requestReport.collapse.show")
    page.fill("#requestReport input[name=period]", "2026-03")
    page.click("[data-testid=request-report]")
    link = page.locator("[data-testid^=download-report-]").first
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith("-2026-03.xlsx")
    workbook = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    assert len(workbook.sheetnames) == 6  # summary, KPIs, changes, weakest, overdue, hardship assistance
    # The printable page of the same report.
    page.click("table tbody tr td a >> nth=0")
    expect(page.locator(".report-page")).to_contain_text("50.00%")
    page.screenshot(path=screenshot_dir / "evaluation-report-desktop.png", full_page=True)


def test_dashboard_and_drilldown_at_phone_width(page_for, world, manager, screenshot_dir):
    page = page_for(manager, phone=True)
    page.goto("/evaluation/?period=2026-03")
    expect(page.locator("[data-testid=card-satisfaction_rate]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=screenshot_dir / "evaluation-dashboard-phone.png", full_page=True)
    page.goto(f"/evaluation/drill/satisfaction_rate/?period=2026-03&unit={world.root.pk}&part=denominator")
    expect(page.locator("table tbody tr")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=screenshot_dir / "evaluation-drilldown-phone.png", full_page=True)
    page.goto("/evaluation/actions/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
