"""Staff accept a demand with the text model's suggestion, in Chromium: the suggestion is shown
beside the accept form, nothing is chosen until "use the suggestion" is pressed, and the
acceptance records that it was taken."""
import pytest
from playwright.sync_api import expect

from demands import text_services
from demands.choices import DEFAULT_CATEGORIES
from demands.models import Demand, DemandSuggestion
from tests.demands.test_browser_journey import open_action, pick
from tests.factories.demands import category, make_demand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_accept_with_the_suggestion(page_for, staff, handler, tree, screenshot_dir, monkeypatch):
    categories = {code: category(code, name) for code, name in DEFAULT_CATEGORIES}
    # A little history: housing demands of branch A were led by the logistics department.
    monkeypatch.setattr(text_services, "MIN_HISTORY", 20)
    for n in range(10):
        for code, title, lead in (("housing", f"{n}号宿舍楼卫生间漏水", tree.department),
                                  ("welfare", f"食堂第{n}窗口菜品单一", tree.branch_a),
                                  ("career", f"第{n}期技能培训班名额太少", tree.branch_a)):
            demand = make_demand(tree.branch_a, title=title, content="", category_obj=categories[code])
            Demand.objects.filter(pk=demand.pk).update(status="resolved", lead_unit=lead)
    assert text_services.train().source == "history"
    demand = make_demand(tree.branch_a, title="宿舍楼卫生间漏水，楼下也被淹了", content="已经两个星期没人修",
                         category_obj=categories["other"])

    page = page_for(staff)
    page.goto(demand.get_absolute_url())
    open_action(page, "accept")
    box = page.locator("[data-testid=suggestion]")
    expect(box.locator("[data-testid=suggested-category]")).to_contain_text("住房")
    expect(box.locator("[data-testid=suggested-lead-unit]")).to_contain_text(tree.department.name)
    expect(box.locator("[data-testid=suggested-tone]")).to_have_attribute("data-tone", "negative")
    # Nothing is chosen for the human: the submitter's category is still selected.
    expect(page.locator("#form-accept select[name=category]")).to_have_value(str(categories["other"].pk))
    page.screenshot(path=screenshot_dir / "demands-accept-suggestion-desktop.png", full_page=True)

    page.click("[data-testid=use-suggestion]")
    expect(page.locator("#form-accept select[name=category]")).to_have_value(str(categories["housing"].pk))
    pick(page, "#form-accept", "handler", handler.display_name)
    page.click("[data-testid=confirm-accept]")
    expect(page.locator("[data-testid=demand-status]")).to_have_attribute("data-status", "accepted")

    demand.refresh_from_db()
    assert (demand.category, demand.lead_unit) == (categories["housing"], tree.department)
    taken = demand.events.get(action="accept").data["suggestion"]
    assert taken["category_taken"] and taken["urgency_taken"] and taken["lead_unit_taken"]
    # The record beside the demand, shown to staff on its page.
    record = DemandSuggestion.objects.get(demand=demand, stage="accept")
    assert (record.category, record.lead_unit, record.category_taken, record.lead_unit_taken) == (
        categories["housing"], tree.department, True, True)
    expect(page.locator("[data-testid=recorded-suggestion-accept]")).to_contain_text("已采纳")

    phone = page_for(staff, phone=True)
    other = make_demand(tree.branch_a, title="外包公司拖欠工资两个月", content="", category_obj=categories["other"])
    phone.goto(other.get_absolute_url())
    open_action(phone, "accept")
    expect(phone.locator("[data-testid=suggested-urgency]")).to_contain_text("紧急")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
    phone.screenshot(path=screenshot_dir / "demands-accept-suggestion-phone.png", full_page=True)



def test_the_anonymous_form_suggests_while_typing(page_for, tree, screenshot_dir):
    """Without login: typing pauses ask the rate-limited endpoint; the suggestion shows the
    category and urgency only, fills the category when asked, and is recorded at submission."""
    categories = {code: category(code, name) for code, name in DEFAULT_CATEGORIES}
    page = page_for(None, phone=True)
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto("/demands/public/submit/")
    page.select_option("select[name=org_unit]", str(tree.branch_a.pk))
    page.select_option("select[name=category]", str(categories["other"].pk))
    page.locator("input[name=title]").press_sequentially("宿舍暖气片不热，晚上冻得睡不着", delay=20)
    box = page.locator("[data-testid=public-suggestion]")
    expect(box).to_contain_text("住房")
    expect(box).not_to_contain_text("%")
    page.screenshot(path=screenshot_dir / "demands-anonymous-suggestion-phone.png", full_page=True)
    page.click("[data-testid=use-public-suggestion]")
    expect(page.locator("select[name=category]")).to_have_value(str(categories["housing"].pk))
    page.fill("textarea[name=content]", "已经报修好几次")
    page.click("[data-testid=submit-anonymous]")
    expect(page.locator("[data-testid=tracking-code]")).to_be_visible()
    demand = Demand.objects.get(title="宿舍暖气片不热，晚上冻得睡不着")
    assert demand.category == categories["housing"]
    assert DemandSuggestion.objects.get(demand=demand, stage="intake").category_taken
    assert not blocked
