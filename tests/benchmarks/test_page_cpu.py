"""`make bench` measures the CPU of one request of each hot page in its own process (the render
budget), and reports it against the budget. Nothing here asserts a duration."""
import pytest
from django.core.management.base import CommandError

from benchmarks import bench
from benchmarks.management.commands.bench import PAGES, page_cpu, read_targets


@pytest.mark.django_db
def test_every_page_of_the_workload_gets_its_cpu_and_queries(tree, staff, owner, outsider, manager, handler, member,
                                                             person_a):
    from tests.factories.demands import make_demand

    make_demand(tree.branch_a, submitter=person_a)
    targets = read_targets(2)
    labels = {page: label for page, (label, _weight) in PAGES.items()}
    figures = page_cpu(targets, labels, requests=1)
    assert [f.page for f in figures] == list(dict.fromkeys(t.page for t in targets))
    by_page = {f.page: f for f in figures}
    assert by_page["ledger"].label == labels["ledger"]
    assert by_page["home"].accounts == len({t.cookie for t in targets if t.page == "home"})
    assert all(f.median_ms > 0 and f.p90_ms >= f.median_ms and f.queries > 0 for f in figures)


@pytest.mark.django_db
def test_a_page_that_does_not_answer_with_itself_stops_the_measure(staff):
    from benchmarks.management.commands.bench import session_cookie

    with pytest.raises(CommandError, match="answered 404"):
        page_cpu([bench.Target("ledger", "/no-such-page/", session_cookie(staff))], {"ledger": "诉求台账"})


def test_the_report_gives_each_page_s_cpu_against_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    report = bench.Report(
        started="2026-12-08 10:00 CST", commit="abc1234", machine={"cpus": 2, "reference_ms": 14.0},
        settings={"workers": 4, "threads": 1, "connections": 10, "seconds": 10, "write_rate": 5},
        page_cpu=[bench.PageCpu("ledger", "诉求台账", 20, 14.2, 16.0, 5),
                  bench.PageCpu("dashboard", "KPI 看板", 11, 24.9, 27.5, 14)],
        cpu_requests=3,
    )
    doc = tmp_path / "performance.md"
    bench.write_performance_doc(report, doc)
    text = doc.read_text(encoding="utf-8")
    assert "| page | accounts | CPU ms, median | CPU ms, 90th percentile | queries | ≤ 15 ms |" in text
    assert "| 诉求台账 | 20 | 14.2 | 16.0 | 5 | ✓ |" in text
    assert "| KPI 看板 | 11 | 24.9 | 27.5 | 14 | ✗ |" in text
    assert "**1 of 2**" in text and "3 requests of each account" in text
    assert bench.save_json(report).exists()
