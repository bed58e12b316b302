"""manage.py bench — the load benchmark of portal/bench.py (normally run through `make bench`).

It fills the CURRENT database with the scale data when that is missing: run it on a database of its
own (`make bench` uses `portal_bench`).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib import import_module
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portal import bench
from portal.generic import keyset_fields, keyset_token
from portal.scope import visible

BENCH_USERS = ("bench_staff", "bench_secretary", "bench_manager")  # the accounts the pages are asked as
KPI_RUNS = 3  # the KPI figures are medians: a single run varies by ±30 % on this machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Load benchmark: gunicorn on the scale data, wrk at 10 connections, imports and KPI recompute timed."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page (default 10)")
        parser.add_argument("--mixed-seconds", type=int, default=20, help="wrk duration of the mixed workload")
        parser.add_argument("--connections", type=int, default=10)
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
        parser.add_argument("--only", nargs="*", default=None, help="only these page keys (see the list printed)")
        parser.add_argument("--skip-imports", action="store_true")
        parser.add_argument("--skip-kpis", action="store_true")
        parser.add_argument("--no-doc", action="store_true", help="do not write docs/performance.md")
        parser.add_argument("--page-cache", choices=("both", "on", "off"), default="both",
                            help="measure the pages with the page cache, without it (every request renders), or both")

    def handle(self, *args, **o):
        if not shutil.which("wrk"):
            raise CommandError("wrk is not installed (apt-get install wrk; `make bench` does it as root).")
        report = bench.Report(
            started=timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
            machine=bench.machine_facts(connection),
            settings={"workers": o["workers"], "threads": o["threads"], "connections": o["connections"],
                      "seconds": o["seconds"]},
        )
        self.ensure_data()
        report.data = self.data_counts()
        targets = self.targets()
        if o["only"]:
            targets = [t for t in targets if t.key in o["only"]]
        call_command("collectstatic", interactive=False, verbosity=0)
        report.settings["page_cache_seconds"] = 0  # the page cache is gone
        if o["page_cache"] in ("both", "on"):
            report.pages, report.mixed = self.measure(targets, o, page_cache=True)
        if o["page_cache"] in ("both", "off"):
            self.stdout.write("without the page cache (PAGE_CACHE_SECONDS=0): every request renders its page")
            pages, mixed = self.measure(targets, o, page_cache=False)
            if o["page_cache"] == "off":
                report.pages, report.mixed = pages, mixed
            else:
                report.uncached_pages, report.uncached_mixed = pages, mixed
        # The KPI recompute before the imports: a million-row import leaves gigabytes of WAL and
        # dirty buffers behind, and the checkpoint that writes them out would be timed with the engine.
        if not o["skip_kpis"]:
            report.kpis = self.time_kpis()
        if not o["skip_imports"]:
            report.imports = self.time_imports()
        path = bench.save_json(report)
        self.stdout.write(f"figures: {path}")
        if not o["no_doc"]:
            bench.write_performance_doc(report)
            self.stdout.write(f"table written to {bench.PERFORMANCE_DOC}")

    def measure(self, targets, o, *, page_cache: bool):
        """Each page alone, then the mixed workload (unless --only), against a gunicorn of its own."""
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        cache.clear()  # pages stored by an earlier pass or run were made by other code or data: start empty
        server = self.start_gunicorn(port, o["workers"], o["threads"], page_cache=page_cache)
        pages, mixed = [], None
        try:
            self.preflight(base, targets)
            bench.run_wrk(base, targets, key="warmup", label="warm-up", seconds=5, connections=o["connections"])
            for target in targets:
                result = bench.run_wrk(base, [target], key=target.key, label=target.label, seconds=o["seconds"],
                                       connections=o["connections"])
                pages.append(result)
                self.report_line(target.label, result)
            if not o["only"]:
                mixed = bench.run_wrk(base, targets, key="mixed", label="mixed", seconds=o["mixed_seconds"],
                                      connections=o["connections"])
                self.report_line("mixed read workload", mixed)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        return pages, mixed

    def report_line(self, label: str, r: bench.Result) -> None:
        self.stdout.write(f"{label:<40} p50 {r.p50_ms:7.1f} ms  p95 {r.p95_ms:7.1f} ms  {r.rps:7.1f} req/s  "
                          f"non-200 {r.non_200}  cached {r.hit_share:4.0%}")

    # --- data ------------------------------------------------------------------------------------------
    def ensure_data(self):
        if get_user_model().objects.filter(username="bench_staff").exists():
            return
        self.stdout.write("No scale data here yet: generating it (generate_scale_data; a few minutes, once).")
        call_command("generate_scale_data")

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

    def session_cookie(self, user) -> str:
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "portal.auth.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.set_expiry(24 * 3600)
        session.save()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def targets(self) -> list[bench.Target]:
        from activities.models import ResponsibilityItem
        from demands.models import Demand
        from members.models import Person

        users = {u.username: u for u in get_user_model().objects.filter(username__in=BENCH_USERS)}
        missing = set(BENCH_USERS) - set(users)
        if missing:
            raise CommandError(f"The scale data lacks the benchmark users {sorted(missing)}: regenerate it.")
        cookie = {name: self.session_cookie(user) for name, user in users.items()}
        staff, secretary = users["bench_staff"], users["bench_secretary"]

        demands = visible(Demand.objects.all(), staff, "demands.view")
        demand = demands.filter(status="visited").order_by("-received_at").first() or demands.order_by("-received_at").first()
        person = (visible(Person.objects.all(), secretary, "people.view")
                  .filter(political_status="full_member").order_by("id").first())
        category_id = demands.values_list("category_id", flat=True).first()
        if demand is None or person is None:
            raise CommandError("The scale data has no demand in bench_staff's scope or no person in bench_secretary's.")
        if not visible(ResponsibilityItem.objects.all(), secretary, "tasks.view").exists():
            raise CommandError("The scale data has no responsibility item in bench_secretary's scope.")
        # Page 2,001 of the ledger, reached the way its "next" links reach it (a keyset cursor 50,000 rows in).
        deep_page = 2001
        fields = keyset_fields(demands)
        deep_row = demands.order_by(*fields)[(deep_page - 1) * 25 - 1]
        deep_query = urlencode({"after": keyset_token(deep_row, fields), "pn": deep_page})
        T = bench.Target
        return [
            T("login", "登录页 login page", reverse("login"), weight=1),
            T("home", "首页 home (manager, the landing page)", reverse("home"), cookie["bench_manager"], 1),
            T("queue", "工作台待受理 staff work queue", reverse("demands:queue", args=["pending"]), cookie["bench_staff"], 3),
            T("demands", "诉求列表 demand list, unfiltered", reverse("demands:demand_list"), cookie["bench_staff"], 3),
            T("demands_filtered", "诉求列表 filtered (status + category)",
              f"{reverse('demands:demand_list')}?status=in_progress&category={category_id}", cookie["bench_staff"], 2),
            T("demands_deep", f"诉求列表 deep page ({deep_page})", f"{reverse('demands:demand_list')}?{deep_query}",
              cookie["bench_staff"], 1),
            T("demand", "诉求详情 demand detail", reverse("demands:demand_detail", args=[demand.pk]), cookie["bench_staff"], 3),
            T("person", "一人一档 person page", reverse("members:person_detail", args=[person.pk]), cookie["bench_secretary"], 2),
            T("items", "支部责任清单 branch responsibility list", reverse("activities:item_list"), cookie["bench_secretary"], 2),
            T("dashboard", "KPI 看板 manager dashboard", reverse("evaluation:dashboard"), cookie["bench_manager"], 2),
            T("compliance", "三会一课矩阵 三会一课 matrix", reverse("activities:compliance"), cookie["bench_secretary"], 1),
            T("api", "API 诉求列表 API list", "/api/demands/", cookie["bench_staff"], 2),
        ]

    # --- the server --------------------------------------------------------------------------------------
    def start_gunicorn(self, port: int, workers: int, threads: int, *, page_cache: bool = True) -> subprocess.Popen:
        env = dict(os.environ, DEBUG="false", PYTHONUNBUFFERED="1")
        if not page_cache:
            env["PAGE_CACHE_SECONDS"] = "0"
        argv = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--threads", str(threads), "--log-level", "warning",
                "--no-control-socket"]
        server = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited (code {server.returncode})")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{reverse('login')}", timeout=5).read()
                return server
            except OSError:
                time.sleep(0.3)
        server.kill()
        raise CommandError("gunicorn did not answer within 60 s")

    def preflight(self, base: str, targets: list[bench.Target]) -> None:
        """Every URL answers 200 with the page itself (no redirect to the login page), once per worker."""
        opener = urllib.request.build_opener(_NoRedirect())
        for target in targets:
            request = urllib.request.Request(base + target.path, headers={"Cookie": target.cookie} if target.cookie else {})
            try:
                response = opener.open(request, timeout=60)
            except urllib.error.HTTPError as error:
                raise CommandError(f"{target.label}: {target.path} answered {error.code}") from None
            body = response.read()
            if response.status != 200 or (target.key != "login" and b'name="password"' in body):
                raise CommandError(f"{target.label}: {target.path} did not give the page (status {response.status})")
            self.stdout.write(f"  {target.key:<18} {target.path}  ({len(body):,} bytes)")

    # --- batch jobs ----------------------------------------------------------------------------------------
    def time_imports(self) -> dict:
        """100,000 people from xlsx and 1,000,000 demands from CSV (portal.benchfiles), each through
        `manage.py import_data` into a scratch database created empty and migrated for the purpose."""
        from portal import benchfiles

        scratch_url = self.scratch_database()
        env = dict(os.environ, DATABASE_URL=scratch_url)
        manage = [sys.executable, "manage.py"]
        self.stdout.write("imports: migrating an empty scratch database")
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)
        refs = subprocess.run(
            [*manage, "shell", "-c", "import json; from dataclasses import asdict; from portal import benchfiles; "
                                     "print(json.dumps(asdict(benchfiles.ensure_references())))"],
            cwd=settings.BASE_DIR, env=env, check=True, capture_output=True, text=True,
        )
        references = json.loads(refs.stdout.strip().splitlines()[-1])
        people_file = bench.BENCH_DIR / "people-100000.xlsx"
        demands_file = bench.BENCH_DIR / "demands-1000000.csv"
        if not people_file.exists():
            benchfiles.write_people_xlsx(people_file, 100_000, references["org_codes"])
        if not demands_file.exists():
            benchfiles.write_demands_csv(demands_file, 1_000_000, references["org_codes"],
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

