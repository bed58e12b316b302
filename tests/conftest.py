"""Shared fixtures. The org tree and the three classic users of every view test:

    root (committee)
    ├── branch_a (branch) ── group_a (party group)   ← owner (secretary of A) and member (employee in A)
    └── branch_b (branch)                             ← outsider (secretary of B)
"""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from members.importers import rebuild_org_paths
from portal.roles import Role
from tests.factories import OrgUnitFactory, PersonFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _portal_language():
    """Each test starts in the portal's language: a test that switched to English (a request with
    the language cookie, translation.activate) must not leave the next one writing English text."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the test run's own Redis database)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tree(db):
    root = OrgUnitFactory(code="ROOT", name="测试党委", kind="committee")
    branch_a = OrgUnitFactory(code="A", name="第一党支部", kind="branch", parent=root)
    group_a = OrgUnitFactory(code="A1", name="第一党小组", kind="group", parent=branch_a)
    branch_b = OrgUnitFactory(code="B", name="第二党支部", kind="branch", parent=root)
    department = OrgUnitFactory(code="D", name="后勤部", kind="department", parent=root)
    rebuild_org_paths()
    for unit in (root, branch_a, group_a, branch_b, department):
        unit.refresh_from_db()
    return type("Tree", (), dict(root=root, branch_a=branch_a, group_a=group_a, branch_b=branch_b, department=department))


def make_user(role: str, scope, *, person_unit=None, may_view_sensitive=False, username=None):
    person = PersonFactory(org_unit=person_unit or scope) if person_unit or role == Role.EMPLOYEE else None
    kwargs = dict(role=role, scope_org=scope, person=person, may_view_sensitive=may_view_sensitive)
    if username:
        kwargs["username"] = username
    return UserFactory(**kwargs)


@pytest.fixture
def owner(tree):
    """Secretary of branch A: the records of branch A are theirs to manage."""
    return make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.branch_a, username="owner")


@pytest.fixture
def member(tree):
    """An employee of branch A (party group A1): sees only their own records."""
    return make_user(Role.EMPLOYEE, tree.group_a, username="member")


@pytest.fixture
def outsider(tree):
    """Secretary of branch B: branch A's records do not exist for them."""
    return make_user(Role.BRANCH_SECRETARY, tree.branch_b, person_unit=tree.branch_b, username="outsider")


@pytest.fixture
def staff(tree):
    return make_user(Role.STAFF, tree.root, person_unit=tree.department, username="staff")


@pytest.fixture
def manager(tree):
    return make_user(Role.MANAGER, tree.root, username="manager")


@pytest.fixture
def admin_user(tree):
    return make_user(Role.ADMIN, tree.root, username="admin")


@pytest.fixture
def handler(tree):
    return make_user(Role.HANDLER, tree.department, person_unit=tree.department, username="handler")


@pytest.fixture
def person_a(tree):
    """A person in branch A's party group."""
    return PersonFactory(org_unit=tree.group_a, name="张三")


@pytest.fixture
def person_b(tree):
    return PersonFactory(org_unit=tree.branch_b, name="李四")


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def count_queries():
    """Use: `with count_queries() as ctx: ...; len(ctx.captured_queries)`."""

    def make():
        return CaptureQueriesContext(connection)

    return make


# Every page makes at most this many SQL queries, the same number whatever the data size (issue 6).
# Page tests measure a page with few and with many rows and assert `few == many <= PAGE_QUERY_BUDGET`.
PAGE_QUERY_BUDGET = 15


def page_queries(client, url: str, params: dict | None = None) -> int:
    """The queries of one GET of `url` (answering 200) in the steady state: a first request may
    fill caches, e.g. the session in Redis."""
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
        assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


@pytest.fixture
def run_import_jobs():
    """Runs in this process the import jobs a worker would take next (the preview of each uploaded
    batch, the apply of each confirmed one): for tests of the import pages without a worker."""

    def run() -> None:
        from portal.dataexchange.batches import batch_apply, batch_preview
        from portal.models import ImportBatch

        for pk in ImportBatch.objects.filter(status="uploaded").values_list("pk", flat=True):
            batch_preview(pk)
        for pk in ImportBatch.objects.filter(status="previewed", apply_requested_at__isnull=False).values_list(
                "pk", flat=True):
            batch_apply(pk)

    return run


# --- A real Celery worker ----------------------------------------------------------------------
def _reroute(app, routes) -> None:
    """Replace the Celery app's task routes (its router is built once and kept)."""
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


@pytest.fixture
def celery_worker(transactional_db, settings):
    """Starts a real `celery worker` process on the test database and the real Redis broker, on a
    queue of its own (so no other worker on the machine takes the tasks). Tests using it commit
    their data (transactional_db) so the worker sees it. Yields a `wait(predicate, timeout)`."""
    import os
    import subprocess
    import sys
    import time
    import uuid

    from django.conf import settings as django_settings
    from django.db import connection

    from portal.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = dict(os.environ)
    host = db["HOST"] or ""
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host.replace('/', '%2F')}:{db['PORT'] or 5432}/{db['NAME']}"
        if host else f"postgres://{db['USER']}@/{db['NAME']}"
    )
    env["CELERY_BROKER_URL"] = django_settings.CELERY_BROKER_URL
    env["EMAIL_URL"] = "consolemail://"
    env["CONN_MAX_AGE"] = "0"
    # The worker reads the files the test's requests stored (import batches): the same media store.
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    # Both queues (interactive and heavy, settings.CELERY_TASK_ROUTES) are this worker's one: for
    # the tasks the test sends and for those the worker sends itself.
    env["CELERY_INTERACTIVE_QUEUE"] = env["CELERY_HEAVY_QUEUE"] = queue
    previous_queue, previous_routes = app.conf.task_default_queue, app.conf.task_routes
    app.conf.task_default_queue = queue
    _reroute(app, {"*": {"queue": queue}})
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=str(django_settings.BASE_DIR),
    )
    lines: list[str] = []
    import threading

    def drain():
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + 60
    while not any("ready." in line for line in lines):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("celery worker did not start:\n" + "".join(lines))
        time.sleep(0.2)

    def wait(predicate, timeout: float = 30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.2)
        raise AssertionError("condition not met in time; worker output:\n" + "".join(lines[-40:]))

    def succeeded(*tasks: str) -> int:
        """How many tasks the worker has finished: those named (`sla_sweep`, …) when names are given."""
        return sum("succeeded" in line and (not tasks or any(f".{t}[" in line for t in tasks)) for line in lines)

    wait.output = lines
    wait.succeeded = succeeded
    try:
        yield wait
    finally:
        app.conf.task_default_queue = previous_queue
        _reroute(app, previous_routes)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# --- A real browser ------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright, with a fresh profile."""
    import os

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs it (apt package chromium)")
        pytest.skip("Chromium is not installed (make test installs it)")
    from playwright.sync_api import expect, sync_playwright

    # The same patience for assertions as for actions (page.set_default_timeout below): on a loaded
    # 2-core CI machine a POST, its redirect and the next page can take longer than expect's 5 s.
    expect.set_options(timeout=15000)

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make next
    # to it are still synchronous, so Django's async guard does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    # Playwright gives every launch a fresh temporary profile; contexts are isolated too.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page_for(browser, live_server):
    """`page_for(user, phone=False)` → a logged-in Playwright page on the live server."""
    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    contexts = []

    def make(user=None, phone: bool = False):
        context = browser.new_context(
            viewport=PHONE if phone else {"width": 1366, "height": 900},
            is_mobile=phone, has_touch=phone, locale="zh-CN", timezone_id="Asia/Shanghai",
            base_url=live_server.url,
        )
        contexts.append(context)
        if user is not None:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "portal.auth.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
            context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key,
                                  "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot_dir():
    """Screenshots go to test-artifacts/ (git-ignored) so a person can look at them."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
