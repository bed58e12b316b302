"""Browser journeys of issue 15 in Chromium: a project stage submitted by one secretary is approved
by another person, the submitter cannot approve it, closing asks for reasons; an early check-in is
refused. Elements are found by id, name or URL."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities import services
from activities.models import Attendance, Expense, Project, Risk
from tests.factories.activities import ActivityFactory, MilestoneFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page, width=390):
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def test_a_stage_is_approved_by_a_second_person_and_closing_needs_reasons(page_for, tree, owner, manager, screenshot_dir):
    project = ProjectFactory(org_unit=tree.branch_a, name="党员先锋岗", budget=Decimal("30000"), stage="evaluation",
                             evaluation_score=85, lessons="经验")
    MilestoneFactory(project=project, title="推广应用", progress=40)
    Expense.objects.create(project=project, spent_on=datetime.date(2026, 11, 1), item="物料", amount=Decimal("37000"))
    Risk.objects.create(project=project, description="人手不足", level="high")

    page = page_for(owner)
    page.goto(project.get_absolute_url())
    page.click("#project-submit")
    expect(page.locator("#project-closing-problems li")).to_have_count(3)
    assert Project.objects.get(pk=project.pk).approval == "draft"
    page.fill("form[action$='/part/milestone-reason/'] input[name=reason]", "移至明年")
    page.click("form[action$='/part/milestone-reason/'] button")
    page.fill("form[action$='/part/risk-accept/'] input[name=reason]", "已安排志愿者补位")
    page.click("form[action$='/part/risk-accept/'] button")
    page.fill("[name=overrun_reason]", "物料涨价")
    page.click("form[action$='/part/evaluation/'] button")
    expect(page.locator("#project-closing-problems")).to_have_count(0)
    page.click("#project-submit")
    expect(page.locator("#project-own-submission")).to_be_visible()
    expect(page.locator("#project-approve")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "project-own-submission-desktop.png", full_page=True)

    phone = page_for(manager, phone=True)
    phone.goto(project.get_absolute_url())
    phone.fill("#project-approve >> xpath=.. >> input[name=comment]", "同意结项")
    phone.click("#project-approve")
    expect(phone.locator("#project-stage")).to_have_attribute("data-stage", "closed")
    expect(phone.locator("#project-approvals tbody tr")).to_have_count(2)
    expect(phone.locator("#project-approvals")).to_contain_text("同意结项")
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "project-closed-history-phone.png", full_page=True)


def test_an_early_check_in_is_refused_on_the_phone(page_for, tree, member, screenshot_dir):
    meeting = ActivityFactory(org_unit=tree.branch_a, status="planned", title="主题党日",
                              held_at=timezone.now() + datetime.timedelta(days=6))
    phone = page_for(member, phone=True)
    phone.goto(f"/activities/checkin/{services.checkin_token(meeting)}/")
    phone.locator("form button").last.click()
    expect(phone.locator("body")).to_contain_text("签到尚未开始")
    assert not Attendance.objects.filter(activity=meeting).exists()
    no_horizontal_scroll(phone)
    phone.screenshot(path=screenshot_dir / "checkin-too-early-phone.png", full_page=True)
