"""The Content-Security-Policy breaks nothing: pages with charts, selects that submit themselves,
print buttons, autocomplete and htmx load in Chromium without a single CSP violation."""
import pytest

from tests.factories import PersonFactory
from tests.factories.activities import ActivityFactory
from tests.factories.demands import make_demand

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["/", "/demands/", "/members/people/", "/evaluation/", "/activities/compliance/", "/activities/", "/activities/points/ranking/",
         "/demands/public/submit/", "/api/docs/"]


def test_pages_load_without_csp_violations(page_for, admin_user, tree, screenshot_dir):
    person = PersonFactory(org_unit=tree.group_a)
    demand = make_demand(tree.group_a, by=admin_user, submitter=person)
    activity = ActivityFactory(org_unit=tree.branch_a)
    violations = []
    for phone in (False, True):
        page = page_for(admin_user, phone=phone)
        page.on("console", lambda message, page=page: violations.append((page.url, message.text[:90]))
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
        for url in [*PAGES, f"/demands/{demand.pk}/", f"/members/people/{person.pk}/", f"/activities/{activity.pk}/"]:
            response = page.goto(url)
            assert response.status < 500, url
            page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshot_dir / f"csp-activity-{'phone' if phone else 'desk'}.png"), full_page=True)
    assert violations == []
    # The print button and the self-submitting selects still work through portal.js.
    page = page_for(admin_user)
    page.goto("/activities/compliance/")
    assert page.locator("select[data-autosubmit]").count() >= 1
