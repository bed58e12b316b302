"""An administrator imports a people file in Chromium: upload, the batch page follows the
background check by itself, confirm, and the page follows the import to its result — with a
real Celery worker and without a Content-Security-Policy violation."""
import pytest
from playwright.sync_api import expect

from members.models import Person
from tests.portal.test_import import csv_bytes, people_rows

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_admin_uploads_checks_and_imports(celery_worker, page_for, admin_user, tree, tmp_path, screenshot_dir):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(people_rows()))
    page = page_for(admin_user)
    violations = []
    page.on("console", lambda message: violations.append(message.text[:90])
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.goto("/portal/import/")
    page.select_option("select[name=kind]", "people")
    page.set_input_files("input[name=file]", str(path))
    page.click("form button.btn-danger")
    # The page reloads itself (portal.js, data-reload-in) until the check is done.
    expect(page.locator("[data-import-apply]")).to_be_visible(timeout=60000)
    expect(page.locator(".card-body")).to_contain_text("已校验 3 行，未发现问题")
    assert not Person.objects.filter(employee_no__startswith="E").exists()
    page.click("[data-import-apply]")
    expect(page.locator(".alert-success")).to_contain_text("导入：新增 3 条", timeout=60000)
    assert Person.objects.filter(employee_no__startswith="E").count() == 3
    page.screenshot(path=str(screenshot_dir / "import-done.png"), full_page=True)
    page.goto("/portal/import/batches/")
    expect(page.locator("table")).to_contain_text("people.csv")
    assert violations == []
