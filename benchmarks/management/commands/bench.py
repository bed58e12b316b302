"""manage.py bench — the load benchmark of benchmarks/bench.py (normally run through `make bench`).

It fills the CURRENT database with the scale data when that is missing: run it on a database of its
own (`make bench` uses `portal_bench`).
"""
from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from importlib import import_module
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from benchmarks import bench
from benchmarks.scale import texts
from benchmarks.urls import ADMIN_CHANGELIST
from portal.roles import Role
from portal.scope import visible

KPI_RUNS = 3  # the KPI figures are medians: a single run varies by ±30 % on this machine
WRITING_ACCOUNTS = 5

# The mixed read workload: page → (label, share of the requests). Each page is asked as --accounts
# different accounts (fewer when the data has fewer of the role).
PAGES = {
    "ledger": ("诉求台账 demand ledger", 3),
    "queue": ("工作台待受理 staff work queue", 3),
    "demand": ("诉求详情 demand detail", 3),
    "person": ("一人一档 person page", 2),
    "home": ("首页 home (manager, staff, secretary, handler, employee)", 2),
    "dashboard": ("KPI 看板 dashboard", 2),
    "compliance": ("三会一课矩阵 三会一课 matrix", 1),
    "api": ("API 诉求列表 API demand list", 2),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(user) -> str:
    """A logged-in session of `user`, as the login page would make it."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "portal.auth.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(24 * 3600)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _accounts(role: str, limit: int) -> list:
    return list(get_user_model().objects.filter(role=role, is_active=True, scope_org__isnull=False)
                .select_related("scope_org").order_by("id")[:limit])


def _spread(accounts: list, n: int) -> list:
    """`n` accounts, repeating the available ones when there are fewer."""
    return [accounts[i % len(accounts)] for i in range(n)] if accounts else []


def page_cpu(targets: list[bench.Target], labels: dict[str, str], requests: int = 3) -> list[bench.PageCpu]:
    """The CPU of one request of each page in this process: Django's test client through every
    middleware, view and template, against the same database, with nothing else running — the
    render budget, apart from the machine's load. Each target is asked once to warm up (compiled
    templates, URL and model caches), then once with its queries counted, then `requests` times."""
    clients: dict[str, Client] = {}

    def get(target: bench.Target):
        if target.cookie not in clients:
            # The host the server is asked at: ALLOWED_HOSTS holds it for the load run anyway.
            clients[target.cookie] = Client(HTTP_HOST="127.0.0.1")
            name, _, value = target.cookie.partition("=")
            if name:
                clients[target.cookie].cookies[name] = value
        answer = clients[target.cookie].get(target.path)
        if answer.status_code != 200:
            raise CommandError(f"{target.path} answered {answer.status_code}, not the page")
        return answer

    for target in targets:
        get(target)
    # As a web process does once warm (portal/wsgi.py): what it keeps is out of the collector's reach.
    gc.collect()
    gc.freeze()
    queries: dict[str, int] = defaultdict(int)
    times: dict[str, list[float]] = defaultdict(list)
    try:
        for target in targets:
            with CaptureQueriesContext(connection) as captured:
                get(target)
            queries[target.page] = max(queries[target.page], len(captured))
        for _ in range(requests):
            for target in targets:
                started = time.process_time()
                get(target)
                times[target.page].append((time.process_time() - started) * 1000)
    finally:
        # The KPI recompute and the imports timed later in this process run with the collector as usual.
        gc.unfreeze()
    result = []
    for page in dict.fromkeys(t.page for t in targets):
        ms = sorted(times[page])
        result.append(bench.PageCpu(
            page, labels.get(page, page), accounts=len({t.cookie for t in targets if t.page == page}),
            median_ms=round(ms[len(ms) // 2], 1), p90_ms=round(ms[min(len(ms) - 1, int(len(ms) * 0.9))], 1),
            queries=queries[page],
        ))
    return result


def writer_plan(base: str, *, accounts: int = WRITING_ACCOUNTS, rate: float = bench.WRITES_PER_SECOND,
                seconds: float = 60) -> dict:
    """What benchmarks/writer.py needs: staff accounts (logged in, with a CSRF token) and, per
    account, a category, its scope unit and a person in its scope to write for."""
    from demands.models import DemandCategory
    from members.models import Person

    category = DemandCategory.objects.filter(is_active=True).order_by("id").first()
    if category is None:
        raise CommandError("No active demand category: the writer has nothing to file demands under.")
    staff = [u for u in _accounts(Role.STAFF, 50) if u.scope_org_id][: accounts * 3]
    plan_accounts = []
    for user in staff:
        person = visible(Person.objects.filter(org_unit__is_active=True), user, "demands.submit").order_by("id").first()
        if person is None:
            continue
        csrf = get_random_string(32, string.ascii_letters + string.digits)
        plan_accounts.append({
            "cookie": session_cookie(user), "csrf": csrf, "user_id": user.pk,
            "category_id": category.pk, "category_code": category.code,
            "unit_id": user.scope_org_id, "unit_code": user.scope_org.code,
            "person_id": person.pk, "person_no": person.employee_no,
        })
        if len(plan_accounts) == accounts:
            break
    if not plan_accounts:
        raise CommandError("No staff account with a person in its scope: the writer has no one to write as.")
    return {
        "base": base, "rate": rate, "seconds": seconds, "accounts": plan_accounts,
        "texts": {"titles": texts.DEMAND_TITLES.get(category.code, texts.GENERIC_TITLES), "contents": texts.DEMAND_CONTENT},
        "paths": {"api_demands": "/api/demands/", "demand_create": reverse("demands:demand_create"),
                  "demand_action": reverse("demands:demand_action", args=[0, "ACTION"])
                  .replace("/0/", "/{pk}/").replace("ACTION", "{action}"),
                  "visit_create": reverse("demands:visit_create"), "login": reverse("login")},
    }


def read_targets(n: int) -> list[bench.Target]:
    """The mixed read workload: every page of PAGES as `n` accounts each (see the module's PAGES)."""
    from demands.models import Demand
    from members.models import Person

    staff = _accounts(Role.STAFF, n)
    secretaries = _accounts(Role.BRANCH_SECRETARY, n)
    managers = _accounts(Role.MANAGER, n)
    handlers = _accounts(Role.HANDLER, n)
    employees = _accounts(Role.EMPLOYEE, n)
    if not staff or not secretaries or not managers:
        raise CommandError("The data lacks staff, branch secretaries or managers: generate the scale data.")
    cookies: dict[int, str] = {}

    def cookie(user) -> str:
        if user.pk not in cookies:
            cookies[user.pk] = session_cookie(user)
        return cookies[user.pk]

    targets: list[bench.Target] = []

    def add(page: str, users: list, path_of) -> None:
        weight = PAGES[page][1]
        for user in _spread(users, n):
            path = path_of(user)
            if path:
                targets.append(bench.Target(page, path, cookie(user), weight))
        if not any(t.page == page for t in targets):
            raise CommandError(f"No account of the data can be asked for the page {page!r}.")

    def demand_of(user):
        demand = visible(Demand.objects.all(), user, "demands.view").order_by("-received_at").first()
        return reverse("demands:demand_detail", args=[demand.pk]) if demand else None

    def person_of(user):
        person = visible(Person.objects.all(), user, "people.view").order_by("id").first()
        return reverse("members:person_detail", args=[person.pk]) if person else None

    add("ledger", staff, lambda u: reverse("demands:demand_list"))
    add("queue", staff, lambda u: reverse("demands:queue", args=["pending"]))
    add("demand", staff, demand_of)
    add("person", secretaries, person_of)
    mixed_roles = [u for group in zip(*[g for g in (managers * n, staff, secretaries, handlers, employees) if g]) for u in group]
    add("home", mixed_roles, lambda u: reverse("home"))
    add("dashboard", [u for pair in zip(managers * n, staff) for u in pair], lambda u: reverse("evaluation:dashboard"))
    add("compliance", secretaries, lambda u: reverse("activities:compliance"))
    add("api", staff, lambda u: "/api/demands/")
    return targets


class Command(BaseCommand):
    help = ("Load benchmark: the mixed read workload under gunicorn with wrk at 10 connections while a writer "
            "posts 5 writes per second through the forms and the API; the ledger against Django admin's changelist.")

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=60, help="the read window, writes included (default 60)")
        parser.add_argument("--connections", type=int, default=10)
        parser.add_argument("--accounts", type=int, default=20, help="accounts per page (default 20)")
        parser.add_argument("--write-rate", type=float, default=bench.WRITES_PER_SECOND, help="writes per second (default 5)")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
        parser.add_argument("--cpu-requests", type=int, default=3,
                            help="requests of each account per page for the CPU per page in-process (0: skip it)")
        parser.add_argument("--compare-seconds", type=int, default=10,
                            help="wrk duration of the ledger and of the admin changelist each (0: skip the comparison)")
        parser.add_argument("--scale", type=float, default=1.0,
                            help="generate_scale_data --scale when the database has no scale data yet (default 1)")
        parser.add_argument("--kpis", action="store_true", help="also time a KPI recompute of one year (bench_kpis)")
        parser.add_argument("--imports", action="store_true",
                            help="also time the imports of 100,000 people and 1,000,000 demands (scratch database)")
        parser.add_argument("--no-doc", action="store_true", help="do not write docs/performance.md")

    def handle(self, *args, **o):
        if not shutil.which("wrk"):
            raise CommandError("wrk is not installed (apt-get install wrk; `make bench` does it as root).")
        report = bench.Report(
            started=timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
            commit=bench.git_commit(),
            machine=bench.machine_facts(connection),
            settings={"workers": o["workers"], "threads": o["threads"], "connections": o["connections"],
                      "seconds": o["seconds"], "write_rate": o["write_rate"]},
        )
        self.ensure_data(o["scale"])
        self.vacuum()
        report.data = self.data_counts()
        targets = read_targets(o["accounts"])
        labels = {page: label for page, (label, _) in PAGES.items()}
        report.settings.update(targets=len(targets), accounts=len({t.cookie for t in targets}))
        call_command("collectstatic", interactive=False, verbosity=0)
        if o["cpu_requests"]:
            report.page_cpu, report.cpu_requests = page_cpu(targets, labels, o["cpu_requests"]), o["cpu_requests"]
            for item in report.page_cpu:
                self.stdout.write(f"  {item.label:<48} CPU {item.median_ms:5.1f} ms median, {item.p90_ms:5.1f} ms p90, "
                                  f"{item.queries} queries (target ≤ {bench.CPU_TARGET_MS} ms)")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        # Queues of this run only: what an earlier run left in the broker is not this run's work.
        queue = f"bench-{os.getpid()}"
        queues = {"CELERY_INTERACTIVE_QUEUE": f"{queue}-interactive", "CELERY_HEAVY_QUEUE": f"{queue}-heavy"}
        processes = []
        try:
            processes.append(self.start_gunicorn(port, o["workers"], o["threads"], queues))
            processes.append(self.start_worker(queues))
            self.preflight(base, targets)
            warm = bench.run_wrk(base, targets, labels, key="warmup", seconds=5, connections=o["connections"])
            self.stdout.write(f"warm-up (5 s, no writes): {warm.rps:.1f} req/s")
            report.mixed, report.writes = self.mixed(base, targets, labels, o)
            report.load_after = bench.load_average()
            if o["compare_seconds"]:
                report.ledger, report.admin = self.compare_with_admin(base, o)
        finally:
            for process in processes:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        # Once the portal's processes are gone: beside them the figure would measure their load too.
        report.reference_after_ms = bench.cpu_reference_ms()
        # The KPI recompute before the imports: a million-row import leaves gigabytes of WAL and
        # dirty buffers behind, and the checkpoint that writes them out would be timed with the engine.
        if o["kpis"]:
            report.kpis = self.time_kpis()
        if o["imports"]:
            report.imports = self.time_imports()
        path = bench.save_json(report)
        self.stdout.write(f"figures: {path}")
        if not o["no_doc"]:
            bench.write_performance_doc(report)
            self.stdout.write(f"tables written to {bench.PERFORMANCE_DOC}")

    # --- the measurements ----------------------------------------------------------------------------
    def mixed(self, base: str, targets, labels, o) -> tuple[bench.Run, bench.Writes]:
        """The read window with the writer running from just before it to its end."""
        bench.BENCH_DIR.mkdir(parents=True, exist_ok=True)
        plan_path, out_path = bench.BENCH_DIR / "writer-plan.json", bench.BENCH_DIR / "writer-result.json"
        out_path.unlink(missing_ok=True)
        plan = writer_plan(base, rate=o["write_rate"], seconds=o["seconds"] + 30)
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
        writer = subprocess.Popen([sys.executable, "-m", "benchmarks.writer", str(plan_path), str(out_path)],
                                  cwd=settings.BASE_DIR)
        try:
            time.sleep(1)  # the first writes are in flight when the read window opens
            if writer.poll() is not None:
                raise CommandError(f"the writer exited at once (code {writer.returncode})")
            self.stdout.write(f"mixed read workload for {o['seconds']} s, {len(plan['accounts'])} accounts writing "
                              f"{o['write_rate']:g} per second")
            run = bench.run_wrk(base, targets, labels, key="mixed", seconds=o["seconds"], connections=o["connections"])
        finally:
            writer.terminate()
            writer.wait(timeout=60)
        if not out_path.exists():
            raise CommandError("the writer wrote no result")
        writes = bench.Writes(**json.loads(out_path.read_text(encoding="utf-8")))
        for page in run.pages:
            self.stdout.write(f"  {page.label:<48} {page.rps:7.1f} req/s  p50 {page.p50_ms:7.1f} ms  "
                              f"p95 {page.p95_ms:7.1f} ms  non-200 {page.non_200}")
        self.stdout.write(f"  {'all pages':<48} {run.rps:7.1f} req/s  (target ≥ {bench.TOTAL_RPS_TARGET})")
        self.stdout.write("  " + bench.writes_line(writes).replace("**", ""))
        for example in writes.examples:
            self.stdout.write(f"    {example}")
        return run, writes

    def compare_with_admin(self, base: str, o) -> tuple[bench.Run, bench.Run]:
        """The demand ledger and Django admin's changelist of the same rows, each alone, as the administrator."""
        admin = get_user_model().objects.filter(is_superuser=True, is_active=True, is_staff=True).order_by("id").first()
        if admin is None:
            raise CommandError("No active superuser to compare the ledger with Django admin's changelist.")
        cookie = session_cookie(admin)
        ledger_target = bench.Target("ledger", reverse("demands:demand_list"), cookie)
        admin_target = bench.Target("admin", ADMIN_CHANGELIST, cookie)
        self.preflight(base, [ledger_target, admin_target])
        runs = []
        for target, label in ((ledger_target, "ledger"), (admin_target, "Django admin changelist")):
            run = bench.run_wrk(base, [target], {target.page: label}, key=f"compare-{target.page}",
                                seconds=o["compare_seconds"], connections=o["connections"])
            self.stdout.write(f"  {label:<48} {run.rps:7.1f} req/s  p50 {run.p50_ms:7.1f} ms  p95 {run.p95_ms:7.1f} ms")
            runs.append(run)
        return runs[0], runs[1]

    # --- data ------------------------------------------------------------------------------------------
    def ensure_data(self, scale: float):
        if not get_user_model().objects.filter(username="bench_staff").exists():
            self.stdout.write(f"No scale data here yet: generating it (generate_scale_data --scale {scale:g}; once).")
            call_command("generate_scale_data", scale=scale)

    def vacuum(self):
        """VACUUM ANALYZE after the writes of earlier runs, as autovacuum keeps a live database (a
        machine may run PostgreSQL with it off): otherwise each run reads more dead rows and older
        statistics than the one before, and runs do not compare."""
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    def data_counts(self) -> dict[str, int]:
        """Row counts from the planner's statistics (exact enough, and instant)."""
        tables = {"org units": "members_orgunit", "people": "members_person", "demands": "demands_demand",
                  "demand events": "demands_demandevent", "activities": "activities_activity",
                  "attendance rows": "activities_attendance", "responsibility items": "activities_responsibilityitem",
                  "mediation cases": "demands_mediationcase"}
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)", [list(tables.values())])
            by_table = dict(cursor.fetchall())
        return {label: max(0, by_table.get(table, 0)) for label, table in tables.items()}

    # --- the server --------------------------------------------------------------------------------------
    def start_gunicorn(self, port: int, workers: int, threads: int, queues: dict) -> subprocess.Popen:
        # The benchmark's settings: the deployed ones plus the admin changelist it compares with.
        env = dict(os.environ, **queues, DEBUG="false", PYTHONUNBUFFERED="1",
                   DJANGO_SETTINGS_MODULE="benchmarks.settings")
        argv = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--threads", str(threads), "--log-level", "warning",
                "--no-control-socket"]
        server = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited (code {server.returncode})")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{reverse('login')}", timeout=5).read()
                return server
            except OSError:
                time.sleep(0.3)
        server.kill()
        raise CommandError("gunicorn did not answer within 180 s")

    def start_worker(self, queues: dict) -> subprocess.Popen:
        """The Celery worker of a deployment (`make run` starts it with two processes) on this run's
        queues: the work the writes queue (KPI recomputes of what they touched, notification
        e-mails) is done on the same machine while pages are read."""
        env = dict(os.environ, **queues, PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="benchmarks.settings")
        # Its output (the e-mails of the console backend among it) goes to a file beside the figures.
        bench.BENCH_DIR.mkdir(parents=True, exist_ok=True)
        with open(bench.BENCH_DIR / "worker.log", "w", encoding="utf-8") as log:
            return subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--concurrency", "2",
                                     "-Q", ",".join(queues.values()), "-l", "warning", "--without-gossip", "--without-mingle"],
                                    cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)

    def preflight(self, base: str, targets: list[bench.Target]) -> None:
        """Every URL answers 200 with the page itself (no redirect to the login page)."""
        opener = urllib.request.build_opener(_NoRedirect())
        seen = set()
        for target in targets:
            if (target.path, target.cookie) in seen:
                continue
            seen.add((target.path, target.cookie))
            request = urllib.request.Request(base + target.path, headers={"Cookie": target.cookie} if target.cookie else {})
            try:
                response = opener.open(request, timeout=120)
            except urllib.error.HTTPError as error:
                raise CommandError(f"{target.page}: {target.path} answered {error.code}") from None
            body = response.read()
            if response.status != 200 or b'name="password"' in body:
                raise CommandError(f"{target.page}: {target.path} did not give the page (status {response.status})")
        self.stdout.write(f"  {len(seen)} URLs answer 200 with their page")

    # --- batch jobs ----------------------------------------------------------------------------------------
    def time_imports(self) -> dict:
        """100,000 people from xlsx and 1,000,000 demands from CSV (benchmarks.importfiles), each through
        `manage.py import_data` into a scratch database created empty and migrated for the purpose."""
        from benchmarks import importfiles

        scratch_url = self.scratch_database()
        env = dict(os.environ, DATABASE_URL=scratch_url)
        manage = [sys.executable, "manage.py"]
        self.stdout.write("imports: migrating an empty scratch database")
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)
        refs = subprocess.run(
            [*manage, "shell", "-c", "import json; from dataclasses import asdict; from benchmarks import importfiles; "
                                     "print(json.dumps(asdict(importfiles.ensure_references())))"],
            cwd=settings.BASE_DIR, env=env, check=True, capture_output=True, text=True,
        )
        references = json.loads(refs.stdout.strip().splitlines()[-1])
        people_file = bench.BENCH_DIR / "people-100000.xlsx"
        demands_file = bench.BENCH_DIR / "demands-1000000.csv"
        if not people_file.exists():
            importfiles.write_people_xlsx(people_file, 100_000, references["org_codes"])
        if not demands_file.exists():
            importfiles.write_demands_csv(demands_file, 1_000_000, references["org_codes"],
                                          references["category_codes"], references["person_nos"])
        results = {}
        for key, label, kind, path, target in (
            ("people", "100,000 people from xlsx (import_data)", "people", people_file, 60),
            ("demands", "1,000,000 demands from CSV (import_data, all-or-nothing)", "demands", demands_file, 300),
        ):
            clock = time.perf_counter()
            done = subprocess.run([*manage, "import_data", kind, str(path)], cwd=settings.BASE_DIR, env=env,
                                  capture_output=True, text=True)
            seconds = time.perf_counter() - clock
            ok = done.returncode == 0
            results[key] = {"label": label, "seconds": seconds if ok else None, "target_s": target,
                            "output": (done.stdout + done.stderr)[-2000:]}
            self.stdout.write(f"{label:<58} {seconds:7.1f} s" + ("" if ok else f"  FAILED: {done.stderr[-500:]}"))
        return results

    def scratch_database(self) -> str:
        """DATABASE_URL of `<this database>_import`, dropped and created empty."""
        import psycopg2

        db = settings.DATABASES["default"]
        name = f"{db['NAME']}_import"
        conn = psycopg2.connect(dbname="postgres", user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                                host=db.get("HOST") or None, port=db.get("PORT") or None)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        # Without DATABASE_URL the settings' default (a TCP server) is in use.
        url = os.environ.get("DATABASE_URL") or f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        return f"{url.rpartition('/')[0]}/{quote(name)}"

    def time_kpis(self) -> dict:
        year = timezone.localdate().year - 1
        out = bench.BENCH_DIR / "kpis.json"
        call_command("bench_kpis", reuse=True, runs=KPI_RUNS, year=year, json=str(out))
        data = json.loads(out.read_text())
        return {"year": year, "periods": data["periods"], "runs": KPI_RUNS, **data["median"]}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
