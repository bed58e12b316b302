"""The load benchmark's pieces, on tiny data and without timing anything: the writer's writes are
real records made through the forms and the API, the Lua script records every answer by page, the
report and the history table of docs/performance.md."""
import json
import os
import shutil

import pytest
from django.urls import reverse

from benchmarks import bench
from benchmarks.management.commands.bench import PAGES, read_targets, session_cookie, writer_plan
from benchmarks.writer import KINDS, Writer
from demands.models import Demand, DemandEvent, Visit
from tests.factories.demands import category, policy

needs_wrk = pytest.mark.skipif(not shutil.which("wrk") and not os.environ.get("CI"),
                               reason="wrk is not installed (make test installs it)")


@pytest.fixture
def writer(live_server, staff, person_a):
    policy(category("canteen", "食堂"))
    return Writer(writer_plan(live_server.url, accounts=1))


@pytest.mark.django_db(transaction=True)
def test_the_writer_writes_through_the_api_and_the_forms(writer, staff, person_a):
    for _ in range(2):
        for kind in KINDS:
            assert writer.write(kind, writer.accounts[0]) == (kind, True), writer.examples

    assert writer.done == {kind: 2 for kind in KINDS} and not writer.errors
    created = Demand.objects.filter(pk__in=writer.created)
    assert created.count() == 4
    assert sorted(created.values_list("channel", flat=True)) == ["staff_entry"] * 4
    assert {d.submitter_id for d in created} == {writer.accounts[0].person_id}
    # Two of them accepted (受理) through the workflow form, assigned to the writing account; the
    # first accepted one got both replies (it goes back in the queue after each).
    worked = created.filter(handler=staff)
    assert worked.count() == 2
    assert sorted(worked.values_list("status", flat=True)) == ["accepted", "in_progress"]
    assert DemandEvent.objects.filter(demand__in=worked, action="accept", actor=staff).count() == 2
    assert DemandEvent.objects.filter(demand__in=worked, action="reply", actor=staff).count() == 2
    assert Visit.objects.filter(person_id=writer.accounts[0].person_id, kind="routine").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_step_with_nothing_waiting_files_a_demand_and_refusals_are_errors(writer):
    account = writer.accounts[0]
    assert writer.write("reply", account) == ("form_demand", True)
    account.cookie = "sessionid=expired"  # the form redirects to the login page, the API refuses
    assert writer.write("visit", account) == ("visit", False)
    assert writer.write("api_demand", account) == ("api_demand", False)
    assert writer.errors == {"visit": 1, "api_demand": 1}
    assert "HTTP 302 /login/" in writer.examples[0] and "HTTP 403" in writer.examples[1]
    assert Visit.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_writer_stops_at_the_end_of_its_window(writer):
    """The schedule asks for rate × seconds writes (the clock is not asserted)."""
    result = writer.run(rate=20, seconds=0.25)
    assert sum(result["done"].values()) + sum(result["errors"].values()) == 5
    assert not result["errors"], result["examples"]


def test_the_workload_asks_every_page_as_many_accounts(tree, staff, owner, outsider, manager, handler, member, person_a):
    from tests.factories.demands import make_demand

    make_demand(tree.branch_a, submitter=person_a)
    targets = read_targets(3)
    assert {t.page for t in targets} == set(PAGES)
    by_page = {page: [t for t in targets if t.page == page] for page in PAGES}
    assert all(len(ts) == 3 for ts in by_page.values())
    assert len({t.cookie for t in by_page["person"]}) == 2  # the two secretaries
    assert len({t.cookie for t in by_page["home"]}) == 3  # manager, staff, a secretary
    assert by_page["ledger"][0].path == reverse("demands:demand_list") and by_page["ledger"][0].weight == PAGES["ledger"][1]


def test_the_rotation_interleaves_pages_and_accounts_by_weight():
    a1, a2 = bench.Target("a", "/a/", "c1", weight=2), bench.Target("a", "/a/", "c2", weight=2)
    b1, b2 = bench.Target("b", "/b/", "c1", weight=1), bench.Target("b", "/b/", "c2", weight=1)
    assert bench.rotation([a1, a2, b1, b2]) == [a1, b1, a1, a2, b2, a2]


def test_latency_files_give_figures_per_page(tmp_path):
    targets = [bench.Target("ledger", "/d/", "c1"), bench.Target("ledger", "/d/", "c2"), bench.Target("home", "/")]
    (tmp_path / "latency-0.txt").write_text("0 200 10000\n1 200 30000\n2 302 5000\n")
    (tmp_path / "latency-1.txt").write_text("1 200 20000\n2 200 7000\nbroken\n")
    by_page = bench.read_latencies(tmp_path, targets)
    assert sorted(by_page["ledger"]) == [(200, 10.0), (200, 20.0), (200, 30.0)]
    summary = {"requests": 5, "duration_us": 2_000_000, "p50_us": 10000, "p95_us": 30000, "p99_us": 30000,
               "socket_errors": 0, "status_errors": 0}
    run = bench.summarise(summary, by_page, {"ledger": "台账", "home": "首页"}, {"ledger": 2})
    ledger, home = run.pages
    assert (ledger.requests, ledger.rps, ledger.p50_ms, ledger.p95_ms, ledger.accounts) == (3, 1.5, 20.0, 30.0, 2)
    assert (home.requests, home.non_200) == (2, 1) and not home.meets_targets()
    assert run.rps == 2.5 and run.non_200 == 1


def test_the_lua_script_names_every_target_and_the_latency_dir(tmp_path):
    script = bench.wrk_script([bench.Target("p", '/a/?q="x"', "sessionid=1")], tmp_path, threads=10)
    assert '{path="/a/?q=\\"x\\"", cookie="sessionid=1"}' in script
    assert f'local dir = "{tmp_path}"' in script
    assert "local nthreads = 10" in script and "clock_gettime" in script and 'BENCH {"requests"' in script


def test_parse_reads_the_line_of_the_done_hook():
    output = ('Running 1s test @ http://x\nBENCH {"requests": 300, "duration_us": 2000000, "p50_us": 12000, '
              '"p95_us": 250000, "p99_us": 400000, "socket_errors": 0, "status_errors": 0}\n')
    assert bench.parse_summary(output)["requests"] == 300
    with pytest.raises(RuntimeError):
        bench.parse_summary("wrk: connection refused")


@needs_wrk
@pytest.mark.django_db(transaction=True)
def test_wrk_records_each_page_and_counts_what_is_not_200(live_server, owner, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    cookie = session_cookie(owner)
    targets = [bench.Target("login", reverse("login")), bench.Target("home", reverse("home"), cookie),
               bench.Target("anonymous", reverse("home"))]  # a redirect to the login page is not the page
    run = bench.run_wrk(live_server.url, targets, {"login": "login", "home": "home", "anonymous": "anon"},
                        key="t", seconds=1, connections=2)
    login, home, anonymous = run.pages
    assert login.requests > 0 and home.requests > 0 and anonymous.requests > 0
    assert login.non_200 == home.non_200 == 0
    assert anonymous.non_200 == anonymous.requests and not anonymous.meets_targets()
    assert sum(p.requests for p in run.pages) >= run.requests - 2  # answers in flight when wrk stopped


def _report(rps: float, commit: str = "abc1234") -> bench.Report:
    page = bench.PageResult("ledger", "诉求台账", 1000, 10.0, 20.0, 90.0, 150.0, 0, accounts=20)
    slow = bench.PageResult("home", "首页", 300, 10.0, 180.0, 290.0, 350.0, 0, accounts=20)
    unanswered = bench.PageResult("api", "API", 0, 10.0, 0.0, 0.0, 0.0, 0, accounts=20)
    mixed = bench.Run(int(rps * 10), 10.0, 30.0, 120.0, 200.0, 0, 0, pages=[page, slow, unanswered])
    return bench.Report(
        started="2026-12-06 10:00 CST", commit=commit,
        machine={"cpus": 2, "load_average": [1.1, 1.2, 1.3], "reference_ms": 31.5},
        settings={"workers": 4, "threads": 1, "connections": 10, "seconds": 10, "write_rate": 5, "targets": 160, "accounts": 80},
        mixed=mixed, writes=bench.Writes(seconds=10, done={"api_demand": 10, "visit": 9}, errors={"visit": 1, "reply": 2}),
        ledger=bench.Run(500, 10.0, 15.0, 30.0, 40.0, 0, 0), admin=bench.Run(100, 10.0, 90.0, 150.0, 200.0, 0, 0),
        load_after=[3.5, 2.0, 1.5], reference_after_ms=47.0, data={"demands": 1_000_000},
        kpis={"periods": 17, "runs": 3, "cold": 12.0, "warm": 8.0, "raw": 5.0},
    )


def test_the_report_gives_each_page_the_writes_the_machine_and_the_admin_ratio(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nOther sections stay.\n", encoding="utf-8")
    bench.write_performance_doc(_report(160.0), doc)
    text = doc.read_text(encoding="utf-8")
    assert "Other sections stay." in text
    assert "commit abc1234" in text and "2 cores" in text
    assert "load average 1.1, 1.2, 1.3 before the run, 3.5, 2.0, 1.5 after it" in text
    assert "took 31.5 ms of CPU before the run, 47.0 ms after it" in text
    assert "| 诉求台账 | 20 | 100.0 | 20.0 | 90.0 | 150.0 | 0 | ✓ |" in text
    assert "| 首页 | 20 | 30.0 | 180.0 | 290.0 | 350.0 | 0 | ✗ |" in text
    assert "| API | 20 | 0 | no answer in the window | | | | ✗ |" in text
    assert "| **all pages** | | **160.0** |" in text and "≥ 150 req/s ✓" in text
    assert "1.90 per second achieved (target 5), 19 in 10 s, 3 errors" in text
    assert "api_demand 10, visit 9 (1 failed), reply 0 (2 failed)" in text
    assert "| **ledger ÷ admin** | **5.0×** | ≥ 3× ✓ | |" in text
    assert "again on the same data | 8.0 | 10 | ✓ |" in text
    assert "X-Page-Cache" not in text and "cache" not in text.lower().replace("caches", "")


def test_the_history_keeps_one_row_per_date_and_commit(tmp_path):
    doc = tmp_path / "performance.md"
    bench.write_performance_doc(_report(160.0), doc)
    bench.write_performance_doc(_report(120.0), doc)  # the same commit again: its row is replaced
    bench.write_performance_doc(_report(170.0, commit="def5678"), doc)
    text = doc.read_text(encoding="utf-8")
    assert text.count(bench.DOC_START) == 1 and text.count(bench.HISTORY_START) == 1
    rows = [line for line in text.split(bench.HISTORY_START)[1].split(bench.HISTORY_END)[0].splitlines()
            if line.startswith("| 2026")]
    assert rows == [
        "| 2026-12-06 | abc1234 | 120.0 | 180.0 | 290.0 | 1.90 (3) | 5.0× | 1.1, 1.2, 1.3 | 2 | 31.5 |",
        "| 2026-12-06 | def5678 | 170.0 | 180.0 | 290.0 | 1.90 (3) | 5.0× | 1.1, 1.2, 1.3 | 2 | 31.5 |",
    ]
    assert "**170.0**" in text and "**120.0**" not in text  # the latest tables are the last run's


def test_rows_of_the_history_s_earlier_layout_stay_under_the_new_header(tmp_path):
    """The machine's speed joined the history as a column: the rows written before it stay, their
    old header does not."""
    doc = tmp_path / "performance.md"
    doc.write_text("\n".join([
        bench.HISTORY_START,
        "| date | commit | total req/s | slowest p50 ms | slowest p95 ms | writes/s (errors) | ledger ÷ admin | load average | cores |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
        "| 2026-12-05 | 0aa0aa0 | 42.5 | 272.1 | 687.0 | 5.02 (0) | 8.9× | 3.55, 2.66, 1.92 | 2 |",
        bench.HISTORY_END, ""]), encoding="utf-8")
    bench.write_performance_doc(_report(160.0), doc)
    history = doc.read_text(encoding="utf-8").split(bench.HISTORY_START)[1].split(bench.HISTORY_END)[0]
    assert history.count("| date |") == 1 and bench.HISTORY_HEADER[0] in history
    assert "| 2026-12-05 | 0aa0aa0 | 42.5 |" in history and "| 2026-12-06 | abc1234 | 160.0 |" in history


def test_the_machine_s_speed_is_one_positive_figure():
    assert bench.cpu_reference_ms(rounds=2) > 0


def test_the_saved_figures_are_json(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    data = json.loads(bench.save_json(_report(160.0)).read_text(encoding="utf-8"))
    assert data["mixed"]["rps"] == 160.0 and data["admin_ratio"] == 5.0 and data["writes"]["per_second"] == 1.9
