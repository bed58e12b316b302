"""The load benchmark's own parts: the wrk script against a real server, the report, the doc block."""
import os
import shutil

import pytest
from django.urls import reverse

from portal import bench

pytestmark = pytest.mark.django_db(transaction=True)

needs_wrk = pytest.mark.skipif(not shutil.which("wrk") and not os.environ.get("CI"),
                               reason="wrk is not installed (make test installs it)")


@needs_wrk
def test_wrk_measures_pages_and_counts_what_is_not_200(live_server, client_for_session):
    cookie = client_for_session()
    login = bench.Target("login", "login", reverse("login"))
    home = bench.Target("home", "home", reverse("home"), cookie=cookie)
    anonymous_home = bench.Target("anon", "home, not logged in", reverse("home"))

    result = bench.run_wrk(live_server.url, [login, home], key="t1", label="two pages", seconds=1, connections=2)
    assert result.requests > 0
    assert result.non_200 == 0 and result.socket_errors == 0
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms <= result.max_ms
    assert result.path == "(mixed)"
    # There is no page cache: every answer is rendered.
    assert result.cache_hits == 0

    # A redirect to the login page is fast but is not the page: it must show up as non-200.
    redirected = bench.run_wrk(live_server.url, [anonymous_home], key="t2", label="redirect", seconds=1, connections=2)
    assert redirected.requests > 0
    assert redirected.non_200 == redirected.requests
    assert not redirected.meets_targets()


@pytest.fixture
def client_for_session(owner):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    def make():
        user = owner
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "portal.auth.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    return make


def test_parse_reads_the_line_of_the_done_hook():
    output = ("Running 1s test @ http://x\n  2 threads and 10 connections\n"
              'BENCH {"requests": 300, "duration_us": 2000000, "p50_us": 12000, "p95_us": 250000, "p99_us": 400000, '
              '"max_us": 500000, "non_200": 0, "socket_errors": 0}\n')
    result = bench.parse_wrk(output, "k", "label", "/p/")
    assert (result.requests, result.rps, result.p50_ms, result.p95_ms) == (300, 150.0, 12.0, 250.0)
    assert result.meets_targets()
    slow = bench.parse_wrk(output.replace('"p50_us": 12000', '"p50_us": 120000'), "k", "label", "/p/")
    assert not slow.meets_targets()
    with pytest.raises(RuntimeError):
        bench.parse_wrk("wrk: connection refused", "k", "label", "/p/")


def _report(rps: float) -> bench.Report:
    page = bench.Result("demands", "诉求列表", "/demands/", 1000, 10.0, 20.0, 90.0, 150.0, 300.0, 0, 0, cache_hits=990)
    mixed = bench.Result("mixed", "mixed", "(mixed)", int(rps * 20), 20.0, 30.0, 120.0, 200.0, 400.0, 0, 0)
    return bench.Report(started="2026-11-22 10:00 CST", machine={"cpus": 2, "load_average": [0.1, 0.2, 0.3]},
                        settings={"workers": 4, "threads": 1, "connections": 10, "seconds": 10, "page_cache_seconds": 60},
                        pages=[page], mixed=mixed, data={"demands": 1_000_000},
                        uncached_pages=[bench.Result("demands", "诉求列表", "/demands/", 300, 10.0, 180.0, 290.0, 350.0, 400.0, 0, 0)],
                        uncached_mixed=bench.Result("mixed", "mixed", "(mixed)", 800, 20.0, 210.0, 390.0, 450.0, 600.0, 0, 0),
                        imports={"people": {"label": "100,000 people from xlsx", "seconds": 41.5, "target_s": 60}},
                        kpis={"periods": 17, "runs": 3, "cold": 12.0, "warm": 8.0, "raw": 5.0})


def test_the_doc_block_is_replaced_not_appended(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nOther sections stay.\n", encoding="utf-8")
    bench.write_performance_doc(_report(160.0), doc)
    first = doc.read_text(encoding="utf-8")
    assert "Other sections stay." in first
    assert "With the page cache (`PAGE_CACHE_SECONDS=60`" in first
    assert "| 诉求列表 | 20.0 | 90.0 | 150.0 | 100.0 | 99% | 0 | ✓ |" in first
    # The same pages without the cache, in a table of their own: the figures of a first visit.
    assert "Without the page cache (`PAGE_CACHE_SECONDS=0`" in first
    assert "| 诉求列表 | 180.0 | 290.0 | 350.0 | 30.0 | 0% | 0 | ✗ |" in first
    assert "| **mixed read workload** (all pages above, weighted) | 210.0 | 390.0 | 450.0 | **40.0** | 0% | 0 | ✗, ≥ 150 req/s ✗ |" in first
    assert "**160.0**" in first and "1,000,000 demands" in first
    assert "| 100,000 people from xlsx | 41.5 | 60 | ✓ |" in first
    assert "median of 3 runs), first computation | 12.0 | 10 | ✗ |" in first
    assert "again on the same data | 8.0 | 10 | ✓ |" in first
    assert "the recompute takes 1.60× it, the first computation 2.40× | 5.0 | 2× | ✓ |" in first

    bench.write_performance_doc(_report(120.0), doc)
    second = doc.read_text(encoding="utf-8")
    assert second.count(bench.DOC_START) == 1 and second.count(bench.DOC_END) == 1
    assert "**120.0**" in second and "**160.0**" not in second
    assert "≥ 150 req/s ✗" in second
