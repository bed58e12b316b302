"""An administrator sets up a unit's DingTalk group robot on a phone: a wrong address is refused
beside the field with what was typed kept, the saved robot shows its address masked."""
import pytest
from playwright.sync_api import expect

from portal.models import RobotWebhook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "7c1f0b9e2d4a4f8e9b3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809999"


def test_admin_sets_up_a_group_robot_at_phone_width(page_for, tree, admin_user, screenshot_dir):
    page = page_for(admin_user, phone=True)
    page.goto("/")
    page.click("button.navbar-toggler")
    page.click("nav >> text=系统管理")
    page.click(".dropdown-menu.show >> text=群机器人")
    expect(page.locator("h1")).to_contain_text("群机器人")
    page.click("text=新建")
    page.click("#div_id_org_unit .ts-control")
    page.keyboard.type(tree.branch_a.name[:3])
    page.locator(".ts-dropdown:visible .option", has_text=tree.branch_a.name).first.click()
    page.fill("#id_name", "第一党支部钉钉群")
    page.select_option("#id_platform", "dingtalk")
    page.fill("#id_url", "https://robot.example.com/send?access_token=" + TOKEN)
    page.check("input[name=kinds][value=overdue]")
    page.check("input[name=kinds][value=supervision]")
    page.click("button:has-text('保存')")
    expect(page.locator("#div_id_url")).to_contain_text("只接受企业微信和钉钉机器人的地址")
    expect(page.locator("#id_url")).to_have_value("https://robot.example.com/send?access_token=" + TOKEN)
    page.screenshot(path=screenshot_dir / "admin-robot-error-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.fill("#id_url", "https://oapi.dingtalk.com/robot/send?access_token=" + TOKEN)
    page.fill("#id_secret", "SEC" + "ab12" * 16)
    page.click("button:has-text('保存')")
    expect(page.locator("h1")).to_contain_text("第一党支部钉钉群")
    expect(page.locator("main")).to_contain_text("••••9999")
    expect(page.locator("main")).not_to_contain_text(TOKEN)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=screenshot_dir / "admin-robot-detail-phone.png", full_page=True)
    robot = RobotWebhook.objects.get()
    assert robot.org_unit == tree.branch_a and robot.kinds == ["overdue", "supervision"]
