"""Never a 500 on malformed input: every list filter (found by walking the URL patterns and their
filtersets, pages and API alike) and every form on a page without URL arguments gets NUL, huge,
negative, wrong-type and impossible values; the answer is a page with form errors or a 400, never
a 5xx. The same for every POST form on the detail and edit pages of a record of each main kind
(a demand, a person, an activity, a project, a responsibility item, a campaign). Plus the cases the
issue named one by one."""
import re

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from activities.models import Risk
from evaluation.models import Campaign, Indicator
from tests.factories import PersonFactory
from tests.factories.activities import ActivityFactory, ItemFactory, MilestoneFactory, ProjectFactory
from tests.factories.demands import accepted, make_demand

pytestmark = pytest.mark.django_db

MALFORMED = ["\x00", "x" * 3000, "-1", "abc", "2026-02-30", "1225-04-20T07:55:08.706-23:27", "0001-01-01T00:00+23:00",
             "99999999999999999999", "1e309", "[]", "-99999", "2026-13"]
FORM_VALUES = ["\x00", "x" * 3000, "-1", "abc", "2026-02-30", "0001-01-01T00:00+23:00", "99999999999999999999"]
# Sent to each filter alone too (a bad value of one filter must not hide another's 500).
ONE_BY_ONE = ["99999999999999999999", "2026-02-30", "1225-04-20T07:55:08.706-23:27", "-1"]
# Parameters pages read outside their filterset.
LOOSE_PARAMS = ["year", "unit", "org", "period", "kpi", "month", "before", "after", "page", "sort", "q", "by", "status",
                "page_size", "cursor", "search", "ordering"]
SKIP = re.compile(r"^/(django-admin|i18n|logout|api/docs|api/schema)")


def _routes(resolver=None, prefix=""):
    """(path, view class) of every URL pattern that takes no URL argument."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern).lstrip("^").rstrip("$").replace("\\", "")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + route)
        elif isinstance(pattern, URLPattern):
            if "<" in route or "(" in route or "?" in route:
                continue
            callback = pattern.callback
            view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            yield "/" + prefix + route, view


def _filter_params(view) -> list[str]:
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is None:
        return []
    names = []
    for name, filter_ in filterset_class.base_filters.items():
        widget = filter_.field.widget
        suffixes = getattr(widget, "suffixes", None)
        names += [f"{name}_{s}" if s else name for s in suffixes] if suffixes else [name]
    return names


def send(client, method: str, path: str, data: dict):
    """The request inside a savepoint: a query that failed with a 500 must not abort the test's
    transaction for the requests after it."""
    sid = transaction.savepoint()
    response = getattr(client, method)(path, data)
    if response.status_code >= 500:
        transaction.savepoint_rollback(sid)
    else:
        transaction.savepoint_commit(sid)
    return response


@pytest.fixture
def routes():
    found = [(path, view) for path, view in _routes() if not SKIP.match(path)]
    assert len(found) > 40
    return found


def test_every_list_filter_survives_malformed_values(client, admin_user, routes):
    client.force_login(admin_user)
    client.raise_request_exception = False  # collect every 5xx, not only the first
    failures = []
    for path, view in routes:
        names = _filter_params(view)
        for value in MALFORMED:
            params = dict.fromkeys(names + LOOSE_PARAMS, value)
            response = send(client, "get", path, params)
            if response.status_code >= 500:
                failures.append((path, "all", value, response.status_code))
        for name in names:
            for value in ONE_BY_ONE:
                response = send(client, "get", path, {name: value})
                if response.status_code >= 500:
                    failures.append((path, name, value, response.status_code))
        if getattr(view, "filterset_class", None) is not None and not path.startswith("/api/"):
            for fmt in ("csv", "xlsx"):
                response = send(client, "get", path, {"export": fmt, "year": "2026"})
                if response.status_code >= 500:
                    failures.append((path, "export", fmt, response.status_code))
    print(*failures, sep="\n")
    assert failures == []


def test_every_form_survives_malformed_values(client, admin_user, routes):
    client.force_login(admin_user)
    client.raise_request_exception = False  # collect every 5xx, not only the first
    failures = []
    for path, _view in routes:
        if path.startswith("/api/"):
            continue
        page = client.get(path)
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', page.content.decode()))
        names -= {"csrfmiddlewaretoken"}
        if not names:
            continue
        for value in FORM_VALUES:
            response = send(client, "post", path, dict.fromkeys(names, value))
            if response.status_code >= 500:
                failures.append((path, value, response.status_code))
    print(*failures, sep="\n")
    assert failures == []


def _post_forms(html: str, page_path: str) -> list[tuple[str, set[str]]]:
    """(action, field names) of each POST form of a page that posts back into the portal."""
    forms = []
    for attrs, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", html, flags=re.S):
        if not re.search(r'method="post"', attrs, flags=re.I):
            continue
        action = re.search(r'action="([^"]*)"', attrs)
        action = action.group(1) if action and action.group(1) else page_path
        if not action.startswith("/") or SKIP.match(action):
            continue
        names = set(re.findall(r'<(?:input|select|textarea|button)[^>]*\bname="([^"]+)"', body)) - {"csrfmiddlewaretoken"}
        forms.append((action, names))
    return forms


def _records(tree, admin_user):
    campaign = Campaign.objects.create(name="2026年度考核", org_unit=tree.root, year=2026, created_by=admin_user)
    campaign.subjects.set([tree.branch_a, tree.branch_b])
    Indicator.objects.create(campaign=campaign, name="班子建设", max_score=40)
    project = ProjectFactory(org_unit=tree.branch_a)
    MilestoneFactory(project=project)
    Risk.objects.create(project=project, description="场地不足")  # its close and accept forms
    return {
        "demand": make_demand(tree.branch_a, by=admin_user),
        "demand_in_progress": accepted(make_demand(tree.branch_a, by=admin_user), by=admin_user, handler=admin_user),
        "person": PersonFactory(org_unit=tree.branch_a),
        "activity": ActivityFactory(org_unit=tree.branch_a),
        "project": project,
        "item": ItemFactory(lead_org_unit=tree.branch_a),
        "campaign": campaign,
    }


EDIT_PAGES = {"demand": None, "demand_in_progress": None, "person": "/members/people/{}/edit/", "activity": "/activities/{}/edit/",
              "project": "/activities/projects/{}/edit/", "item": "/activities/tasks/{}/edit/",
              "campaign": "/evaluation/campaigns/{}/edit/"}


@pytest.mark.parametrize("kind", list(EDIT_PAGES))
def test_every_form_of_a_records_pages_survives_malformed_values(client, admin_user, tree, kind):
    record = _records(tree, admin_user)[kind]
    client.force_login(admin_user)
    client.raise_request_exception = False  # collect every 5xx, not only the first
    pages = [record.get_absolute_url()] + ([EDIT_PAGES[kind].format(record.pk)] if EDIT_PAGES[kind] else [])
    forms = []
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        forms += _post_forms(page.content.decode(), path)
    assert len(forms) >= len(pages), forms  # the walk reached the forms
    failures = []
    for action, names in forms:
        for value in FORM_VALUES:
            response = send(client, "post", action, dict.fromkeys(names, value))
            if response.status_code >= 500:
                failures.append((action, value[:20], response.status_code))
    print(*failures, sep="\n")
    assert failures == []


@pytest.mark.parametrize("url, params", [
    ("/activities/points/", {"export": "csv"}),
    ("/activities/points/", {"export": "xlsx"}),
    ("/activities/points/", {"year": "-1"}),
    ("/activities/points/ranking/", {"year": "-1"}),
    ("/activities/tasks/", {"year": "-1"}),
    ("/members/people/", {"before": "\x00"}),
    ("/api/kpis/", {"org": "\x00", "period": "2026-01"}),
    ("/api/demands/", {"received_after": "1225-04-20T07:55:08.706-23:27"}),
])
def test_named_cases_answer_400_or_a_form_error(client, admin_user, url, params):
    client.force_login(admin_user)
    response = client.get(url, params)
    assert response.status_code in (200, 400)
    if params.get("export"):
        assert response.status_code == 200


def test_milestone_progress_with_a_bad_milestone_is_a_form_error(client, admin_user, tree):
    client.force_login(admin_user)
    project = ProjectFactory(org_unit=tree.branch_a)
    milestone = MilestoneFactory(project=project)
    url = f"/activities/projects/{project.pk}/part/milestone-progress/"
    for bad in ("abc", "\x00", "99999999999999999999", ""):
        response = client.post(url, {"milestone": bad, "progress": "50"})
        assert response.status_code in (302, 400), bad
    response = client.post(url, {"milestone": milestone.pk, "progress": "50"})
    milestone.refresh_from_db()
    assert milestone.progress == 50


def test_api_text_fields_take_only_strings(client, admin_user):
    """A JSON number where the schema says string is refused beside the field, not turned into text."""
    client.force_login(admin_user)
    response = client.post("/api/demands/classify/", {"title": "食堂饭菜太贵", "content": 0}, content_type="application/json")
    assert response.status_code == 400 and "content" in response.json()
