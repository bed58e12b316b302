"""portal.fasttable renders every list of the portal exactly as django-tables2 renders it.

Every list page reachable without arguments (plus each work queue and each KPI drill-down) is opened
on the demo data as the administrator; the table the page used is then rendered again by
django-tables2's own template, and the two must be the same HTML (whitespace between tags aside)."""
import datetime
import io
import itertools
import re

import pytest
import django_tables2 as tables
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_tables2.views import SingleTableMixin

from demands import selectors
from evaluation import kpis
from portal import fasttable
from django.contrib.auth import get_user_model
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def normalise(html: str) -> str:
    html = re.sub(r"\s+", " ", str(html))
    html = re.sub(r"\s*(<|>)\s*", r"\1", html)
    return re.sub(r"<(\w+) >", r"<\1>", html)


def table_urls() -> list[str]:
    """The list pages: views with a django-tables2 table whose URL takes no argument."""
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                walk(pattern.url_patterns, namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                view_class = getattr(pattern.callback, "view_class", None)
                if view_class and issubclass(view_class, SingleTableMixin) and not pattern.pattern.converters:
                    found.append(reverse(prefix + pattern.name))

    walk(get_resolver().url_patterns)
    found += [reverse("demands:queue", args=[name]) for name in selectors.QUEUES]
    found += [reverse("evaluation:drill", args=[code]) for code in kpis.REGISTRY]
    return found


@pytest.fixture
def demo_data(db):
    call_command("seed_demo", stdout=io.StringIO())


def check_page(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    table = response.context["table"]
    request = response.wsgi_request
    table._counter = itertools.count()  # rows are numbered (odd/even) on from the page's own rendering
    ours = fasttable.render_table(table, request)
    table._counter = itertools.count()
    theirs = table.as_html(request)
    ours_n, theirs_n = normalise(ours), normalise(theirs)
    if ours_n != theirs_n:
        at = next((i for i, (a, b) in enumerate(zip(ours_n, theirs_n)) if a != b), min(len(ours_n), len(theirs_n)))
        pytest.fail(f"{url} differs at {at}:\n ours:   {ours_n[at - 150:at + 150]}\n theirs: {theirs_n[at - 150:at + 150]}")
    assert normalise(ours) in normalise(response.content.decode()), f"{url} did not use portal.fasttable"
    return len(table.paginated_rows)


def test_every_list_renders_as_django_tables2_does(client, demo_data):
    client_for(client, get_user_model().objects.get(username="admin"))
    urls = table_urls()
    assert len(urls) > 20
    rows = {url: check_page(client, url) for url in urls}
    # The comparison means something only where there are rows: most lists have demo rows.
    assert sum(1 for n in rows.values() if n) >= len(urls) * 2 // 3, rows


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_sorted_numbered_and_empty_pages_render_as_django_tables2_does(client, demo_data, language):
    client_for(client, get_user_model().objects.get(username="admin"))
    client.cookies["django_language"] = language
    demands = reverse("demands:demand_list")
    assert check_page(client, f"{demands}?sort=-ref&status=pending") > 0  # sort links keep the filter
    assert check_page(client, f"{demands}?sort=category&page=2") > 0      # numbered page two
    assert check_page(client, f"{demands}?q=no-such-words-anywhere") == 0   # the empty text
    assert check_page(client, reverse("members:person_list") + "?sort=name") > 0


class CornerCaseTable(tables.Table):
    """What no list of the portal uses yet: <td> attributes computed per cell, a boolean column (drawn
    by django-tables2's own get_cell), a date with a format, an empty value, a custom renderer."""

    name = tables.Column(attrs={"td": {"class": lambda value: "long" if len(str(value)) > 3 else "short"}})
    active = tables.BooleanColumn()
    day = tables.DateColumn(format="Y年n月j日")
    note = tables.Column(default="—")
    amount = tables.Column()

    def render_amount(self, value, record):
        return f"{value} × {record['name']}"


def test_corner_cases_render_as_django_tables2_does(db):
    request = RequestFactory().get("/", {"q": "a&b"})
    rows = [
        {"name": "张三丰", "active": True, "day": datetime.date(2026, 3, 1), "note": "", "amount": 1200},
        {"name": "Li <b>", "active": False, "day": None, "note": "ok", "amount": 7},
    ]
    for data in (rows, []):
        table = CornerCaseTable(data)
        ours = fasttable.render_table(table, request)
        table._counter = itertools.count()
        assert normalise(ours) == normalise(table.as_html(request))
        if data:  # the per-cell attributes were computed cell by cell
            assert 'class="long"' in ours and 'class="short"' in ours
