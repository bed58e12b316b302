"""The page cache (portal/pagecache.py) on real PostgreSQL and Redis: the generation triggers, hits and
misses of real pages, invalidation by every kind of write, scope, CSRF, and what is never stored.

These tests commit (transaction=True): inside a test's atomic block the cache is bypassed by design."""
from __future__ import annotations

import threading
import urllib.request
from importlib import import_module

import psycopg2
import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from activities.models import Activity
from demands.models import Demand
from members.models import Person
from portal import pagecache
from portal.roles import Role
from tests.conftest import PAGE_QUERY_BUDGET, make_user
from tests.factories import PersonFactory
from tests.factories.demands import make_demand

pytestmark = pytest.mark.django_db(transaction=True)


def get(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response, response.content.decode()


def raw_connection():
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
                            host=db["HOST"] or None, port=db["PORT"] or None)
    return conn


# --- the triggers ---------------------------------------------------------------------------------------

def test_every_table_has_both_generation_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, array_agg(t.tgname ORDER BY t.tgname) FILTER (WHERE t.tgenabled = 'A')
               FROM pg_class c LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'portal_generation_%%'
               WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
               GROUP BY c.relname"""
        )
        triggers = dict(cursor.fetchall())
    assert "demands_demand" in triggers and "members_person" in triggers
    missing = {t for t, names in triggers.items()
               if t not in pagecache.UNTRACKED_TABLES and names != [pagecache.TRIGGER_ROW, pagecache.TRIGGER_STATEMENT]}
    assert missing == set()
    assert pagecache.install_triggers() == 0  # idempotent: nothing left to do


def test_generation_moves_once_per_transaction_at_commit_and_not_on_rollback(tree):
    before = pagecache.generations().get("members_person", 0)
    with transaction.atomic():
        PersonFactory(org_unit=tree.branch_a)
        PersonFactory(org_unit=tree.branch_a)
        Person.objects.filter(org_unit=tree.branch_a).update(phone="13800000000")
    assert pagecache.generations()["members_person"] == before + 1
    with pytest.raises(RuntimeError), transaction.atomic():
        PersonFactory(org_unit=tree.branch_a)
        raise RuntimeError
    assert pagecache.generations()["members_person"] == before + 1
    # An UPDATE that changes no row (a task's conditional claim) moves nothing.
    Person.objects.filter(pk=-1).update(phone="1")
    assert pagecache.generations()["members_person"] == before + 1
    with connection.cursor() as cursor:  # raw SQL, like the KPI engine's and the imports'
        cursor.execute("DELETE FROM members_person WHERE org_unit_id = %s", [tree.branch_a.pk])
    assert pagecache.generations()["members_person"] == before + 2


def test_generation_counts_bulk_loads_in_replica_mode(tree):
    """The scale generator loads with session_replication_role = replica and COPY: still counted."""
    before = pagecache.generations().get("members_orgunit", 0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE members_orgunit SET name = name || '·'")
    assert pagecache.generations()["members_orgunit"] == before + 1


def test_writers_do_not_wait_for_each_other_and_readers_see_a_change_only_when_committed(tree):
    """A long transaction (an import) holds its shard; another writer takes another one at once."""
    first, second = PersonFactory(org_unit=tree.branch_a), PersonFactory(org_unit=tree.branch_a)
    long_running, other = raw_connection(), raw_connection()
    try:
        with long_running.cursor() as cursor:
            cursor.execute("UPDATE members_person SET phone = '13900000000' WHERE id = %s", [first.pk])  # left open
        start = pagecache.generations()["members_person"]
        with other.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
            cursor.execute("UPDATE members_person SET phone = '13900000001' WHERE id = %s", [second.pk])
        other.commit()  # did not wait for the open transaction's lock
        assert pagecache.generations()["members_person"] == start + 1
        long_running.commit()
        assert pagecache.generations()["members_person"] == start + 2
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM portal_table_generation WHERE tbl = 'members_person'")
            assert cursor.fetchone()[0] >= 2  # two shards: one per concurrent writer
    finally:
        long_running.close()
        other.close()


# --- pages --------------------------------------------------------------------------------------------------

def test_a_page_asked_again_is_a_hit_until_a_table_it_read_changes(client, owner, tree):
    make_demand(tree.branch_a, by=owner, title="第一条诉求")
    client.force_login(owner)
    url = reverse("demands:demand_list")
    first, html = get(client, url)
    assert first["X-Page-Cache"] == "miss" and "第一条诉求" in html
    again, html_again = get(client, url)
    assert again["X-Page-Cache"] == "hit"
    # The same page, but for the CSRF tokens (fresh on every hit).
    assert html_again.count("csrfmiddlewaretoken") == html.count("csrfmiddlewaretoken") > 0
    # A write to a table the page does not read leaves it cached ...
    Activity.objects.create(org_unit=tree.branch_a, type="branch_committee", title="支委会", held_at="2026-01-05T10:00+08:00")
    assert get(client, url)[0]["X-Page-Cache"] == "hit"
    # ... a new demand (ORM) shows at once ...
    make_demand(tree.branch_a, by=owner, title="第二条诉求")
    response, html = get(client, url)
    assert response["X-Page-Cache"] == "miss" and "第二条诉求" in html
    # ... and so does a change made behind the ORM's back (raw SQL, as the imports and the engine write).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE demands_demand SET title = '改过的标题' WHERE title = '第一条诉求'")
    response, html = get(client, url)
    assert response["X-Page-Cache"] == "miss" and "改过的标题" in html and "第一条诉求" not in html


def test_each_account_has_its_own_pages_and_an_outsider_still_gets_404(client, owner, outsider, tree):
    demand = make_demand(tree.branch_a, by=owner, title="支部A的诉求")
    detail, listing = reverse("demands:demand_detail", args=[demand.pk]), reverse("demands:demand_list")
    client.force_login(owner)
    for _ in range(2):
        assert "支部A的诉求" in get(client, detail)[1] and "支部A的诉求" in get(client, listing)[1]
    assert client.get(detail)["X-Page-Cache"] == "hit"
    client.force_login(outsider)
    assert client.get(detail).status_code == 404
    response, html = get(client, listing)
    assert response["X-Page-Cache"] == "miss" and "支部A的诉求" not in html


def test_a_change_to_the_account_or_the_language_is_another_page(client, owner, tree):
    client.force_login(owner)
    url = reverse("demands:demand_list")
    get(client, url)
    owner.first_name = "新名字"
    owner.save()
    assert get(client, url)[0]["X-Page-Cache"] == "miss"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response, html = get(client, url)
    assert response["X-Page-Cache"] == "miss" and 'lang="en"' in html


def test_a_cached_page_carries_a_token_the_next_post_accepts(owner, tree):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    url = reverse("demands:demand_list")
    get(browser, url)
    response, html = get(browser, url)
    assert response["X-Page-Cache"] == "hit"
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert len(token) == 64 and pagecache.CSRF_PLACEHOLDER.decode() not in html
    answer = browser.post(reverse("set_language"), {"language": "en", "next": url, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302  # 403 if the token did not belong to this browser's cookie


def test_the_api_list_is_cached_for_the_session_and_not_for_a_token(client, owner, tree):
    make_demand(tree.branch_a, by=owner, title="接口里的诉求")
    client.force_login(owner)
    get(client, "/api/demands/")
    response, body = get(client, "/api/demands/")
    assert response["X-Page-Cache"] == "hit" and "接口里的诉求" in body
    assert response["Content-Type"].startswith("application/json")
    token = Token.objects.create(user=owner)
    answer = Client().get("/api/demands/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == 200 and "X-Page-Cache" not in answer


def test_a_hit_costs_one_query_whatever_the_page(client, manager, owner, tree):
    for i in range(5):
        make_demand(tree.branch_a, by=owner, title=f"诉求{i}")
    client.force_login(manager)
    for url in (reverse("home"), reverse("demands:demand_list"), reverse("evaluation:dashboard")):
        get(client, url)  # the first home page creates the KPI definitions (a write: not stored)
        get(client, url)
        with CaptureQueriesContext(connection) as ctx:
            response, _ = get(client, url)
        assert response["X-Page-Cache"] == "hit"
        # The table generations, read once for the account this worker remembers (no query for it
        # while its tables are unchanged) and for the page.
        assert len(ctx.captured_queries) == 1, [q["sql"][:80] for q in ctx.captured_queries]
        assert "portal_table_generation" in ctx.captured_queries[0]["sql"]


def test_a_miss_stays_within_the_page_query_budget(client, manager, owner, tree):
    """A miss adds the one read of the generations to the page's own queries, and saves the account's
    once this worker remembers it; the account's first request pays both."""
    for i in range(5):
        make_demand(tree.branch_a, by=owner, title=f"诉求{i}")
    client.force_login(manager)
    get(client, reverse("home"))  # creates the KPI definitions (a write: not stored)
    for url in (reverse("home"), reverse("demands:demand_list"), reverse("evaluation:dashboard"),
                reverse("evaluation:dashboard") + f"?unit={tree.branch_a.pk}"):
        with CaptureQueriesContext(connection) as ctx:
            response, _ = get(client, url)
        assert response["X-Page-Cache"] == "miss"
        assert len(ctx.captured_queries) <= PAGE_QUERY_BUDGET, (url, len(ctx.captured_queries))


def test_scope_counts_are_shared_by_a_scope_and_counted_again_when_a_person_changes(client, manager, tree):
    """The home page's people counts of a scope (a scan of every person for a manager) are remembered
    by the worker for every account of that scope, until a person or a unit changes."""
    PersonFactory(org_unit=tree.branch_a)
    other_manager = make_user(Role.MANAGER, tree.root, username="manager2")
    client.force_login(manager)
    get(client, reverse("home"))  # creates the KPI definitions (a write: not stored)
    get(client, reverse("home"))
    total = Person.objects.filter(is_active=True).count()

    def home_of_other_manager():
        client.force_login(other_manager)
        with CaptureQueriesContext(connection) as ctx:
            response, html = get(client, reverse("home"))
        assert response["X-Page-Cache"] == "miss"  # another account: its own page, rendered
        counted = any("ARRAY[COUNT" in q["sql"] for q in ctx.captured_queries)
        return counted, html

    counted, html = home_of_other_manager()
    assert not counted and f'fs-3 fw-semibold">{total}<' in html
    PersonFactory(org_unit=tree.branch_b)
    other_manager.refresh_from_db()
    counted, html = home_of_other_manager()
    assert counted and f'fs-3 fw-semibold">{total + 1}<' in html


def test_remembered_figures_count_as_read_by_the_page_being_recorded(tree):
    in_root = Person.objects.filter(org_unit__path__startswith=tree.root.path)
    recorder = pagecache.Recorder()
    pagecache._this_request.recorder = recorder
    try:
        lookup, value = pagecache.remembered(in_root)
    finally:
        pagecache._this_request.recorder = None
    assert set(lookup.tables) == {"members_person", "members_orgunit"} <= recorder.tables
    pagecache.remember(lookup, 7)
    assert pagecache.remembered(in_root)[1] == 7
    PersonFactory(org_unit=tree.branch_a)
    assert pagecache.remembered(in_root)[1] is None
    # A query with an array parameter (a list, as Value(list) passes it) has a key too.
    tags = Value(["退役军人"], output_field=ArrayField(CharField()))
    lookup, value = pagecache.remembered(Person.objects.filter(tags__overlap=tags))
    assert value is None
    hash(lookup.key)  # a list in the key would raise TypeError


def test_pages_that_write_show_messages_or_export_are_not_stored(client, owner, tree):
    make_demand(tree.branch_a, by=owner)
    client.force_login(owner)
    url = reverse("demands:demand_list")
    export = client.get(url + "?export=csv")
    assert export.status_code == 200 and export["X-Page-Cache"].startswith("not stored")  # a file, and an audit entry
    get(client, url)
    session = client.session
    session["_messages"] = '[["__json_message",0,25,"已保存"]]'
    session.save()
    response, _ = get(client, url)
    assert "X-Page-Cache" not in response  # a pending message is shown by a fresh render


def test_the_recorder_sees_tables_and_writes():
    recorder = pagecache.Recorder()

    def run(sql):
        recorder(lambda *a: None, sql, (), False, {})

    run('SELECT "demands_demand"."id" FROM "demands_demand" INNER JOIN members_orgunit u ON (1=1)')
    run('SAVEPOINT "s1"')
    run('SELECT "updated_at", "deleted_flag" FROM "members_person"')
    assert recorder.tables == {"demands_demand", "members_orgunit", "members_person"} and not recorder.wrote
    for sql in ('INSERT INTO "portal_auditlog" ("x") VALUES (1)', 'SELECT 1 FROM "demands_demand" FOR UPDATE',
                'WITH d AS (DELETE FROM x RETURNING 1) SELECT 1'):
        recorder.wrote = False
        run(sql)
        assert recorder.wrote, sql


def test_the_account_is_reloaded_when_it_changes(client, owner, tree):
    """A worker remembers the account between requests, but not past a change to it: a deactivated
    account is logged out on its next request, a new role applies at once."""
    client.force_login(owner)
    url = reverse("demands:demand_list")
    get(client, url)
    get(client, url)
    type(owner).objects.filter(pk=owner.pk).update(is_active=False)  # no save(), no signal: the trigger sees it
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_turned_off_with_zero_seconds(client, owner, tree, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client.force_login(owner)
    url = reverse("demands:demand_list")
    get(client, url)
    assert "X-Page-Cache" not in get(client, url)[0]


def test_many_readers_and_a_writer_never_see_an_old_page(live_server, owner, tree):
    """Readers hammer the list while a writer adds demands one by one: after each commit, every
    reader's next page shows the new demand (no stale hit), over real HTTP and real workers."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(owner.pk), "portal.auth.ModelBackend"
    store[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    store.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
    url = live_server.url + reverse("demands:demand_list")

    def fetch() -> str:
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        return urllib.request.urlopen(request, timeout=30).read().decode()

    stale, stop = [], threading.Event()
    committed: list[str] = []

    def reader():
        while not stop.is_set():
            known = list(committed)  # committed before this request started
            html = fetch()
            stale.extend(title for title in known if title not in html)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for i in range(8):
            title = f"并发诉求{i:02d}"
            make_demand(tree.branch_a, by=owner, title=title)
            committed.append(title)
            assert title in fetch()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert stale == []
    assert Demand.objects.filter(title__startswith="并发诉求").count() == 8
