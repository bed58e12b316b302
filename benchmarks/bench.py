"""The load benchmark (`make bench`): real use of the portal on the scale data.

Run through `make bench` (portal.launcher picks the database `portal_bench` on the local or the
embedded PostgreSQL, installs wrk, migrates, then calls `manage.py bench` with
benchmarks.settings). The command (benchmarks/management/commands/bench.py):

1. generates the scale data (`generate_scale_data`) unless the database holds it already;
2. logs many accounts in (server-side sessions: staff, secretaries, managers, handlers, employees)
   and picks, per account, the records its pages show, so no two clients ask for the same page as
   the same person; then measures the CPU of one request of each page in its own process (Django's
   test client, no server, nothing else running): the render budget of a hot page;
3. starts gunicorn (DEBUG off) and checks every URL answers 200 with a real page — a redirect to
   the login page would be a fast, false figure;
4. starts the writer (benchmarks/writer.py, a process of its own) at 5 writes per second through the
   real forms and the API, and for the whole read window drives the mixed read workload with wrk
   at 10 connections; the Lua script below records the page, status and latency of every answer;
5. compares the demand ledger with Django admin's changelist of the same rows (benchmarks/urls.py);
6. writes var/bench/latest.json and, in docs/performance.md, the latest tables (replaced) and one row
   per date and commit in the history table.

The pure parts (the Lua script, reading wrk's output and the latency files, the Markdown) are unit
tested without timing anything.
"""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
DOC_START = "<!-- make bench: start (written by benchmarks/bench.py; do not edit by hand) -->"
DOC_END = "<!-- make bench: end -->"
HISTORY_START = "<!-- make bench history: start (one row per date and commit, written by benchmarks/bench.py) -->"
HISTORY_END = "<!-- make bench history: end -->"
HISTORY_HEADER = [
    "| date | commit | total req/s | slowest p50 ms | slowest p95 ms | writes/s (errors) | ledger ÷ admin | load average | cores | reference ms |",
    "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
]

# The targets on the 2-core machine.
P50_TARGET_MS = 100
P95_TARGET_MS = 300
TOTAL_RPS_TARGET = 150
WRITES_PER_SECOND = 5
ADMIN_RATIO_TARGET = 3
# The render budget of a hot page: CPU of one request in-process.
CPU_TARGET_MS = 15


@dataclass
class Target:
    """One URL of the workload, asked as one account."""

    page: str  # the page it belongs to (the report groups by it)
    path: str
    cookie: str = ""  # "sessionid=…" for a logged-in user, "" for anonymous pages
    weight: int = 1  # how many times it appears in the rotation


@dataclass
class PageResult:
    page: str
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_200: int
    accounts: int = 1

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def meets_targets(self) -> bool:
        """Within the targets, every answer a page; a page nobody got an answer of in the window is not."""
        return (self.requests > 0 and self.p50_ms <= P50_TARGET_MS and self.p95_ms <= P95_TARGET_MS
                and self.non_200 == 0)


@dataclass
class PageCpu:
    """The CPU of one request of a page in-process, over its accounts' requests: the median and the
    90th percentile, and the most queries one request made."""

    page: str
    label: str
    accounts: int
    median_ms: float
    p90_ms: float
    queries: int

    def meets_target(self) -> bool:
        return self.median_ms <= CPU_TARGET_MS


@dataclass
class Run:
    """One wrk run: its summary and the answers per page."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_200: int
    socket_errors: int
    pages: list[PageResult] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Writes:
    """What the writer achieved (benchmarks/writer.py's result)."""

    seconds: float = 0.0
    target_per_second: float = WRITES_PER_SECOND
    done: dict = field(default_factory=dict)  # kind → successful writes
    errors: dict = field(default_factory=dict)  # kind → failed writes
    examples: list = field(default_factory=list)  # a few failures, for the log
    p50_ms: dict = field(default_factory=dict)  # kind → median answer time

    @property
    def ok(self) -> int:
        return sum(self.done.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


@dataclass
class Report:
    started: str
    commit: str
    machine: dict
    settings: dict
    mixed: Run | None = None
    writes: Writes | None = None
    ledger: Run | None = None  # the ledger alone, as the administrator
    admin: Run | None = None  # Django admin's changelist of the same rows, as the administrator
    load_after: list = field(default_factory=list)
    reference_after_ms: float | None = None  # cpu_reference_ms() after the run
    imports: dict = field(default_factory=dict)
    kpis: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    page_cpu: list[PageCpu] = field(default_factory=list)
    cpu_requests: int = 0  # requests of each account per page behind page_cpu

    @property
    def admin_ratio(self) -> float | None:
        if not self.ledger or not self.admin or not self.admin.rps:
            return None
        return self.ledger.rps / self.admin.rps


# --- wrk ---------------------------------------------------------------------------------------------

def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rotation(targets: list[Target]) -> list[Target]:
    """The order the clients ask for `targets`: page by page in turn (each page's accounts in turn),
    a page `weight` times per round, so neighbouring requests are of other pages and accounts."""
    pages: dict[str, list[Target]] = {}
    for t in targets:
        pages.setdefault(t.page, []).append(t)
    order = []
    for i in range(max((len(ts) for ts in pages.values()), default=0)):
        for r in range(max((t.weight for t in targets), default=0)):
            order += [ts[i] for ts in pages.values() if i < len(ts) and ts[i].weight > r]
    return order


def wrk_script(targets: list[Target], latency_dir: Path, threads: int = 1) -> str:
    """A wrk Lua script that cycles over `targets` and writes, per answer, the target's index, the
    status and the latency in µs into a file per wrk thread. Run it with as many threads as
    connections: each thread then has one request in flight, so an answer is the last request's."""
    rows = ["{path=%s, cookie=%s}" % (_lua_string(t.path), _lua_string(t.cookie)) for t in targets]
    return """
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *); ]]
local clock = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local targets = {%s}
local dir = %s
local nthreads = %d
local made = 0

function setup(thread)
  thread:set("id", made)
  made = made + 1
end

function init(args)
  counter = math.floor(id * #targets / nthreads)  -- the clients start at different places
  current = 1
  started = 0
  out = io.open(dir .. "/latency-" .. id .. ".txt", "w")
end

function request()
  counter = counter + 1
  current = (counter %% #targets) + 1
  local t = targets[current]
  local headers = {["Accept-Encoding"] = "gzip"}
  if t.cookie ~= "" then headers["Cookie"] = t.cookie end
  started = now_us()
  return wrk.format("GET", t.path, headers)
end

function response(status, headers, body)
  out:write(current - 1, " ", status, " ", math.floor(now_us() - started), "\\n")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "socket_errors": %%d, "status_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
""" % (",\n  ".join(rows), _lua_string(str(latency_dir)), threads)


def parse_summary(output: str) -> dict:
    """The BENCH line the script's `done` hook printed."""
    match = re.search(r"^BENCH (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    return json.loads(match.group(1))


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * share // 1))  # ceil
    return sorted_values[int(rank) - 1]


def read_latencies(latency_dir: Path, targets: list[Target]) -> dict[str, list[tuple[int, float]]]:
    """(status, ms) of every answer, by page, from the files the Lua script wrote."""
    by_page: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(latency_dir.glob("latency-*.txt")):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue
            index, status, micros = int(parts[0]), int(parts[1]), float(parts[2])
            by_page.setdefault(targets[index].page, []).append((status, micros / 1000))
    return by_page


def summarise(summary: dict, by_page: dict[str, list[tuple[int, float]]], labels: dict[str, str],
              accounts: dict[str, int] | None = None) -> Run:
    seconds = summary["duration_us"] / 1e6
    pages = []
    for page, label in labels.items():
        answers = by_page.get(page, [])
        latencies = sorted(ms for _, ms in answers)
        pages.append(PageResult(
            page=page, label=label, requests=len(answers), seconds=seconds,
            p50_ms=percentile(latencies, 0.50), p95_ms=percentile(latencies, 0.95), p99_ms=percentile(latencies, 0.99),
            non_200=sum(1 for status, _ in answers if status != 200), accounts=(accounts or {}).get(page, 1),
        ))
    return Run(
        requests=summary["requests"], seconds=seconds, p50_ms=summary["p50_us"] / 1000, p95_ms=summary["p95_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000, non_200=sum(p.non_200 for p in pages), socket_errors=summary["socket_errors"],
        pages=pages,
    )


def run_wrk(base_url: str, targets: list[Target], labels: dict[str, str], *, key: str, seconds: int,
            connections: int = 10) -> Run:
    """wrk with one thread per connection against the rotation of `targets`."""
    order = rotation(targets)
    latency_dir = BENCH_DIR / f"latency-{key}"
    latency_dir.mkdir(parents=True, exist_ok=True)
    for old in latency_dir.glob("latency-*.txt"):
        old.unlink()
    script = BENCH_DIR / f"wrk-{key}.lua"
    script.write_text(wrk_script(order, latency_dir, threads=connections))
    done = subprocess.run(
        ["wrk", f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), base_url],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({key}): {done.stderr or done.stdout}")
    accounts: dict[str, set] = {}
    for t in targets:
        accounts.setdefault(t.page, set()).add(t.cookie)
    return summarise(parse_summary(done.stdout), read_latencies(latency_dir, order), labels,
                     {page: len(cookies) for page, cookies in accounts.items()})


# --- the machine ---------------------------------------------------------------------------------------

def machine_facts(connection=None) -> dict:
    facts = {
        "cpus": os.cpu_count(),
        "cpu_model": "",
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average": load_average(),
        "reference_ms": cpu_reference_ms(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if connection is not None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            facts["postgresql"] = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            facts["shared_buffers"] = cursor.fetchone()[0]
    return facts


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_reference_ms(rounds: int = 5) -> float:
    """The machine's speed as one figure: the CPU time of a fixed piece of pure Python (dictionary
    lookups and string building, as rendering a page does), the least of `rounds` runs. A shared
    machine's speed changes from hour to hour, unseen by its load average (the ledger alone was
    served at 75 and, an hour later on the same idle machine, at 42 req/s): figures of two runs
    compare only beside this one."""
    names = {str(i): i for i in range(1000)}

    def work() -> int:
        return sum(len("".join(f"<td>{names[str(i)]}</td>" for i in range(1000))) for _ in range(100))

    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


def git_commit(root: Path = ROOT) -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    commit = done.stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                           text=True, check=False).stdout.strip()
    return f"{commit}+changes" if dirty else commit


# --- the report ------------------------------------------------------------------------------------------

def _ok(flag: bool) -> str:
    return "✓" if flag else "✗"


def page_table(run: Run) -> list[str]:
    lines = [
        f"| page | accounts | req/s | p50 ms | p95 ms | p99 ms | non-200 | p50 ≤ {P50_TARGET_MS}, p95 ≤ {P95_TARGET_MS} |",
        "|---|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in run.pages:
        if not r.requests:
            lines.append(f"| {r.label} | {r.accounts} | 0 | no answer in the window | | | | ✗ |")
            continue
        lines.append(f"| {r.label} | {r.accounts} | {r.rps:.1f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | "
                     f"{r.non_200} | {_ok(r.meets_targets())} |")
    lines.append(f"| **all pages** | | **{run.rps:.1f}** | {run.p50_ms:.1f} | {run.p95_ms:.1f} | {run.p99_ms:.1f} | "
                 f"{run.non_200 + run.socket_errors} | ≥ {TOTAL_RPS_TARGET} req/s {_ok(run.rps >= TOTAL_RPS_TARGET)} |")
    return lines


def cpu_table(report: Report) -> list[str]:
    if not report.page_cpu:
        return []
    lines = [
        "", f"CPU of one request, in the benchmark's own process before the server starts (Django's test client "
        f"against the same database, {report.cpu_requests} requests of each account; the machine's reference "
        f"figure beside it):", "",
        f"| page | accounts | CPU ms, median | CPU ms, 90th percentile | queries | ≤ {CPU_TARGET_MS} ms |",
        "|---|---:|---:|---:|---:|:-:|",
    ]
    for item in report.page_cpu:
        lines.append(f"| {item.label} | {item.accounts} | {item.median_ms:.1f} | {item.p90_ms:.1f} | {item.queries} | "
                     f"{_ok(item.meets_target())} |")
    met = sum(item.meets_target() for item in report.page_cpu)
    lines.append(f"| **pages within the budget** | | | | | **{met} of {len(report.page_cpu)}** |")
    return lines


def writes_line(writes: Writes) -> str:
    kinds = ", ".join(f"{kind} {n}" + (f" ({writes.errors[kind]} failed)" if writes.errors.get(kind) else "")
                      + (f" (p50 {writes.p50_ms[kind]:.0f} ms)" if kind in writes.p50_ms else "")
                      for kind, n in sorted(writes.done.items()))
    extra = {k: v for k, v in writes.errors.items() if k not in writes.done}
    if extra:
        kinds += ", " + ", ".join(f"{kind} 0 ({n} failed)" for kind, n in sorted(extra.items()))
    return (f"**Writes during the read window:** {writes.per_second:.2f} per second achieved "
            f"(target {writes.target_per_second:g}), {writes.ok} in {writes.seconds:.0f} s, {writes.failed} errors — {kinds}.")


def admin_lines(report: Report) -> list[str]:
    if not report.ledger or not report.admin:
        return []
    ratio = report.admin_ratio or 0.0
    return [
        "",
        "| the same rows (every demand, as the administrator), alone | req/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|",
        f"| 诉求台账 the demand ledger | {report.ledger.rps:.1f} | {report.ledger.p50_ms:.1f} | {report.ledger.p95_ms:.1f} |",
        f"| Django admin's changelist | {report.admin.rps:.1f} | {report.admin.p50_ms:.1f} | {report.admin.p95_ms:.1f} |",
        f"| **ledger ÷ admin** | **{ratio:.1f}×** | ≥ {ADMIN_RATIO_TARGET}× {_ok(ratio >= ADMIN_RATIO_TARGET)} | |",
    ]


def markdown(report: Report) -> str:
    m, s = report.machine, report.settings
    lines = [
        DOC_START,
        f"### Latest `make bench` — {report.started}, commit {report.commit}",
        "",
        f"**Machine:** {m.get('cpus')} cores ({m.get('cpu_model') or 'unknown model'}), {m.get('memory_gib')} GiB, "
        f"Python {m.get('python')}, PostgreSQL {m.get('postgresql', '?')} (shared_buffers {m.get('shared_buffers', '?')}); "
        f"load average {', '.join(str(x) for x in m.get('load_average', []))} before the run, "
        f"{', '.join(str(x) for x in report.load_after) or '?'} after it; a fixed piece of Python "
        f"(benchmarks.bench.cpu_reference_ms) took {m.get('reference_ms', '?')} ms of CPU before the run, "
        f"{report.reference_after_ms or '?'} ms after it.",
        f"**Server:** gunicorn, {s.get('workers')} workers × {s.get('threads')} threads, DEBUG off, and a Celery "
        f"worker (2 processes) doing what the writes queue; "
        f"wrk at {s.get('connections')} connections for {s.get('seconds')} s over {s.get('targets')} URLs "
        f"of {s.get('accounts')} accounts, while the writer posts {s.get('write_rate'):g} writes per second.",
    ]
    if report.data:
        lines.append("**Data:** " + ", ".join(f"{v:,} {k}" for k, v in report.data.items()) + ".")
    if report.writes:
        lines.append(writes_line(report.writes))
    if report.mixed:
        lines += ["", "Mixed read workload while the writes arrive:", ""] + page_table(report.mixed)
    lines += cpu_table(report)
    lines += admin_lines(report)
    if report.imports or report.kpis:
        lines += ["", "| batch job | seconds | target | |", "|---|---:|---:|:-:|"]
        for name, item in report.imports.items():
            target = item.get("target_s")
            ok = "" if item.get("seconds") is None else _ok(target is None or item["seconds"] <= target)
            seconds = "failed" if item.get("seconds") is None else f"{item['seconds']:.1f}"
            lines.append(f"| {item.get('label', name)} | {seconds} | {target or ''} | {ok} |")
        if report.kpis:
            k = report.kpis
            runs = f", median of {k['runs']} runs" if k.get("runs", 1) > 1 else ""
            raw = k.get("raw") or 0
            lines.append(f"| KPI recompute of one year ({k.get('periods')} periods{runs}), first computation | "
                         f"{k.get('cold', 0):.1f} | 10 | {_ok(k.get('cold', 99) <= 10)} |")
            lines.append(f"| KPI recompute of one year, again on the same data | {k.get('warm', 0):.1f} | 10 | "
                         f"{_ok(k.get('warm', 99) <= 10)} |")
            if raw:
                lines.append(f"| the engine's aggregate SQL alone: the recompute takes {k.get('warm', 0) / raw:.2f}× it, "
                             f"the first computation {k.get('cold', 0) / raw:.2f}× | {raw:.1f} | 2× | "
                             f"{_ok(k.get('warm', 0) <= 2 * raw)} |")
    lines += ["", DOC_END]
    return "\n".join(lines)


def history_row(report: Report) -> str:
    run, writes = report.mixed, report.writes
    slowest_p50 = max((p.p50_ms for p in run.pages), default=0.0) if run else 0.0
    slowest_p95 = max((p.p95_ms for p in run.pages), default=0.0) if run else 0.0
    ratio = report.admin_ratio
    return (f"| {report.started[:10]} | {report.commit} | {run.rps if run else 0:.1f} | {slowest_p50:.1f} | "
            f"{slowest_p95:.1f} | {writes.per_second if writes else 0:.2f} ({writes.failed if writes else 0}) | "
            f"{f'{ratio:.1f}×' if ratio else '–'} | {', '.join(str(x) for x in report.machine.get('load_average', []))} | "
            f"{report.machine.get('cpus')} | {report.machine.get('reference_ms', '–')} |")


def _replace_between(text: str, start: str, end: str, block: str, heading: str) -> str:
    if start in text and end in text:
        before, rest = text.split(start, 1)
        return before + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + f"\n\n{heading}\n\n" + block + "\n"


def write_performance_doc(report: Report, path: Path = PERFORMANCE_DOC) -> None:
    """Replace the latest tables and add (or, for the same date and commit, replace) the run's row
    in the history table."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    rows: list[str] = []
    if HISTORY_START in text and HISTORY_END in text:
        inside = text.split(HISTORY_START, 1)[1].split(HISTORY_END, 1)[0]
        # Rows only: a header of an earlier layout is replaced by this one.
        rows = [line for line in inside.strip().splitlines() if line.startswith("| ") and not line.startswith("| date |")]
    row = history_row(report)
    key = row.split("|")[1:3]
    rows = [r for r in rows if r.split("|")[1:3] != key] + [row]
    history = "\n".join([HISTORY_START, *HISTORY_HEADER, *rows, HISTORY_END])
    text = _replace_between(text, HISTORY_START, HISTORY_END, history, "### `make bench` by date and commit")
    text = _replace_between(text, DOC_START, DOC_END, markdown(report), "## Load benchmark (`make bench`)")
    path.write_text(text, encoding="utf-8")


def save_json(report: Report) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    data = asdict(report)
    data["admin_ratio"] = report.admin_ratio
    if report.writes:
        data["writes"]["per_second"] = report.writes.per_second
    for run in ("mixed", "ledger", "admin"):
        item = data.get(run)
        if item:
            item["rps"] = item["requests"] / item["seconds"] if item["seconds"] else 0.0
    path = BENCH_DIR / "latest.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    (BENCH_DIR / f"run-{datetime.now():%Y%m%d-%H%M%S}.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return path
