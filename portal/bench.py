"""The load benchmark (`make bench`): the portal under gunicorn on the scale data, measured with wrk.

Run through `make bench` (portal.launcher picks the database `portal_bench` on the local or the
embedded PostgreSQL, installs wrk, migrates, then calls `manage.py bench`). The command:

1. generates the scale data (`generate_scale_data`) unless the database holds it already;
2. logs the benchmark users in (server-side sessions, one per role) and picks the records the pages
   show (a recent demand of the staff member's scope, a person of the secretary's branch, …);
3. starts gunicorn (DEBUG off, the production settings) and checks every URL answers 200 with a
   real page — a redirect to the login page would be a fast, false figure;
4. runs wrk (10 connections) against each page and then against the mixed read workload, reading
   p50 / p95 / p99 and throughput from wrk's own latency histogram (the Lua `done` hook below);
5. times the imports (100,000 people from xlsx, 1,000,000 demands from CSV, each into an empty
   scratch database) and a full KPI recompute of one year;
6. writes everything to var/bench/latest.json and the table, the machine and the date into
   docs/performance.md (between the `make bench` markers).

The pure parts (the Lua script, parsing wrk's output, the Markdown table) are unit tested.
"""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
DOC_START = "<!-- make bench: start (written by portal/bench.py; do not edit by hand) -->"
DOC_END = "<!-- make bench: end -->"

# The targets on the 2-core machine.
P50_TARGET_MS = 100
P95_TARGET_MS = 300
MIXED_RPS_TARGET = 150


@dataclass
class Target:
    """One page of the benchmark: who asks for it and where."""

    key: str
    label: str
    path: str
    cookie: str = ""  # "sessionid=…" for a logged-in user, "" for anonymous pages
    weight: int = 1  # share in the mixed workload


@dataclass
class Result:
    key: str
    label: str
    path: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_200: int
    socket_errors: int
    cache_hits: int = 0  # answers the page cache served (X-Page-Cache: hit)

    @property
    def hit_share(self) -> float:
        return self.cache_hits / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def meets_targets(self) -> bool:
        return (self.p50_ms <= P50_TARGET_MS and self.p95_ms <= P95_TARGET_MS
                and self.non_200 == 0 and self.socket_errors == 0)


@dataclass
class Report:
    started: str
    machine: dict
    settings: dict
    pages: list[Result] = field(default_factory=list)
    mixed: Result | None = None
    # The same pages without the page cache (every request renders): a first visit after a change.
    uncached_pages: list[Result] = field(default_factory=list)
    uncached_mixed: Result | None = None
    imports: dict = field(default_factory=dict)
    kpis: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


# --- wrk ---------------------------------------------------------------------------------------------

def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(targets: list[Target]) -> str:
    """A wrk Lua script that cycles over `targets` (repeated `weight` times), counts every answer
    that is not 200 (wrk itself only counts >= 400) and prints one JSON line from the histogram."""
    rows = []
    for target in targets:
        entry = "{path=%s, cookie=%s}" % (_lua_string(target.path), _lua_string(target.cookie))
        rows.extend([entry] * max(1, target.weight))
    return """
local targets = {%s}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  hits = 0
  counter = offset or 0
end

function request()
  counter = counter + 1
  local t = targets[(counter %% #targets) + 1]
  local headers = {["Accept-Encoding"] = "gzip"}
  if t.cookie ~= "" then headers["Cookie"] = t.cookie end
  return wrk.format("GET", t.path, headers)
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
  if headers["X-Page-Cache"] == "hit" then hits = hits + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  local hits = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
    hits = hits + thread:get("hits")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, "non_200": %%d, "socket_errors": %%d, "cache_hits": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad, e.connect + e.read + e.write + e.timeout, hits))
end
""" % ",\n  ".join(rows)


def parse_wrk(output: str, key: str, label: str, path: str) -> Result:
    """The BENCH line the script's `done` hook printed."""
    match = re.search(r"^BENCH (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result for {label}:\n{output}")
    data = json.loads(match.group(1))
    return Result(
        key=key, label=label, path=path, requests=data["requests"], seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000, p95_ms=data["p95_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000, non_200=data["non_200"], socket_errors=data["socket_errors"],
        cache_hits=data.get("cache_hits", 0),
    )


def run_wrk(base_url: str, targets: list[Target], *, key: str, label: str, seconds: int,
            connections: int = 10, threads: int = 2) -> Result:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    script = BENCH_DIR / f"wrk-{key}.lua"
    script.write_text(wrk_script(targets))
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), base_url],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed for {label}: {done.stderr or done.stdout}")
    path = targets[0].path if len(targets) == 1 else "(mixed)"
    return parse_wrk(done.stdout, key, label, path)


# --- the machine ---------------------------------------------------------------------------------------

def machine_facts(connection=None) -> dict:
    facts = {
        "cpus": os.cpu_count(),
        "cpu_model": "",
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
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


# --- the report ------------------------------------------------------------------------------------------

def _ok(flag: bool) -> str:
    return "✓" if flag else "✗"


def page_table(pages: list[Result], mixed: Result | None) -> list[str]:
    lines = [
        f"| page | p50 ms | p95 ms | p99 ms | req/s | from the cache | non-200 | p50 ≤ {P50_TARGET_MS} and p95 ≤ {P95_TARGET_MS} |",
        "|---|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in pages:
        lines.append(f"| {r.label} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.rps:.1f} | {r.hit_share:.0%} | "
                     f"{r.non_200 + r.socket_errors} | {_ok(r.meets_targets())} |")
    if mixed:
        r = mixed
        lines.append(f"| **mixed read workload** (all pages above, weighted) | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
                     f"{r.p99_ms:.1f} | **{r.rps:.1f}** | {r.hit_share:.0%} | {r.non_200 + r.socket_errors} | "
                     f"{_ok(r.meets_targets())}, ≥ {MIXED_RPS_TARGET} req/s {_ok(r.rps >= MIXED_RPS_TARGET)} |")
    return lines


def markdown(report: Report) -> str:
    m = report.machine
    lines = [
        DOC_START,
        f"### Latest `make bench` — {report.started}",
        "",
        f"**Machine:** {m.get('cpus')} CPUs ({m.get('cpu_model') or 'unknown model'}), {m.get('memory_gib')} GiB, "
        f"Python {m.get('python')}, PostgreSQL {m.get('postgresql', '?')} (shared_buffers {m.get('shared_buffers', '?')}), "
        f"load average before the run {', '.join(str(x) for x in m.get('load_average', []))}.",
        f"**Server:** gunicorn, {report.settings.get('workers')} workers × {report.settings.get('threads')} threads, "
        f"DEBUG off; wrk with {report.settings.get('connections')} connections, "
        f"{report.settings.get('seconds')} s per page after a warm-up.",
    ]
    if report.data:
        lines.append("**Data:** " + ", ".join(f"{v:,} {k}" for k, v in report.data.items()) + ".")
    seconds = report.settings.get("page_cache_seconds")
    if report.pages:
        heading = (f"With the page cache (`PAGE_CACHE_SECONDS={seconds}`, the configuration a deployment runs):"
                   if seconds else "Without the page cache (`PAGE_CACHE_SECONDS=0`):")
        lines += ["", heading, ""] + page_table(report.pages, report.mixed)
    if report.uncached_pages:
        lines += ["", "Without the page cache (`PAGE_CACHE_SECONDS=0`: every request renders its page, as the first "
                      "visit after a change does):", ""] + page_table(report.uncached_pages, report.uncached_mixed)
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


def write_performance_doc(report: Report, path: Path = PERFORMANCE_DOC) -> None:
    """Replace the block between the markers (or append it under a heading of its own)."""
    block = markdown(report)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if DOC_START in text and DOC_END in text:
        before, rest = text.split(DOC_START, 1)
        after = rest.split(DOC_END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n## Load benchmark (`make bench`)\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def save_json(report: Report) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    data = asdict(report)
    for item in [*data["pages"], data["mixed"], *data["uncached_pages"], data["uncached_mixed"]]:
        if item:
            item["rps"] = item["requests"] / item["seconds"] if item["seconds"] else 0.0
    path = BENCH_DIR / "latest.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    (BENCH_DIR / f"run-{datetime.now():%Y%m%d-%H%M%S}.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return path
