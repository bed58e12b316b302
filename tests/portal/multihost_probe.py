"""Scenarios of tests/portal/test_multihost.py, run in a child process whose settings (DATABASE_URL,
DATABASE_REPLICA_URL, …) point at the engines the test started: `python -m tests.portal.multihost_probe
NAME`. Prints one JSON object (the observations) on its last line; the test asserts on them."""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from members.importers import rebuild_org_paths  # noqa: E402
from portal import dbrouting  # noqa: E402
from portal.roles import Role  # noqa: E402
from tests.factories import OrgUnitFactory, PersonFactory, UserFactory  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build_tree():
    root = OrgUnitFactory(code="ROOT", name="测试党委", kind="committee")
    branch_a = OrgUnitFactory(code="A", name="第一党支部", kind="branch", parent=root)
    OrgUnitFactory(code="A1", name="第一党小组", kind="group", parent=branch_a)
    OrgUnitFactory(code="B", name="第二党支部", kind="branch", parent=root)
    rebuild_org_paths()
    root.refresh_from_db()
    branch_a.refresh_from_db()
    return root, branch_a


def user(role, scope, username, person_unit=None):
    person = PersonFactory(org_unit=person_unit, political_status="full_member") if person_unit else None
    return UserFactory(username=username, role=role, scope_org=scope, person=person)


class AliasRecorder:
    """Which database each statement ran on, by alias."""

    def __init__(self):
        self.statements: list[tuple[str, str]] = []

    def wrapper(self, alias):
        def record(execute, sql, params, many, context):
            self.statements.append((alias, sql.lower()))
            return execute(sql, params, many, context)
        return record

    def run(self, call):
        self.statements.clear()
        with connections["default"].execute_wrapper(self.wrapper("default")), \
                connections["replica"].execute_wrapper(self.wrapper("replica")):
            response = call()
            if response.streaming:  # an export's rows are read while it is sent
                response.content_read = b"".join(response.streaming_content)
        return response

    def aliases_reading(self, table: str) -> list[str]:
        return sorted({alias for alias, sql in self.statements if table in sql and sql.lstrip().startswith("select")})


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def replay(paused: bool) -> None:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")


def scenario_replica() -> dict:
    out: dict = {}
    root, branch_a = build_tree()
    admin = user(Role.ADMIN, root, "admin")
    from evaluation.engine import ensure_catalogue

    ensure_catalogue()  # as on a running portal (the first dashboard of a new one writes it)
    assert dbrouting.wait_for_replica(20), "the standby did not catch up"

    # Outside a request: the router sends reads to the primary, or to the standby inside replica_reads().
    from members.models import OrgUnit

    out["router_default"] = in_recovery(OrgUnit.objects.db)
    with dbrouting.replica_reads():
        out["router_replica_alias"] = OrgUnit.objects.db
        out["router_replica_in_recovery"] = in_recovery(OrgUnit.objects.db)
        out["replica_sees_unit"] = OrgUnit.objects.filter(pk=branch_a.pk).exists()

    client = Client()
    client.force_login(admin)
    recorder = AliasRecorder()
    dashboard = f"{reverse('evaluation:dashboard')}?unit={branch_a.pk}"

    response = recorder.run(lambda: client.get(dashboard))
    out["dashboard_status"] = response.status_code
    out["dashboard_unit_reads"] = recorder.aliases_reading("members_orgunit")
    out["dashboard_lag_badge"] = 'data-testid="replica-lag"' in response.content.decode()
    out["dashboard_lag_text"] = "数据延迟" in response.content.decode()
    out["dashboard_pin_cookie"] = dbrouting.PIN_COOKIE in response.cookies

    response = recorder.run(lambda: client.get("/api/orgunits/"))
    out["api_list_status"] = response.status_code
    out["api_list_reads"] = recorder.aliases_reading("members_orgunit")

    response = recorder.run(lambda: client.get(reverse("members:orgunit_list") + "?export=csv"))
    out["export_status"] = response.status_code
    out["export_reads"] = recorder.aliases_reading("members_orgunit")
    response = recorder.run(lambda: client.get(reverse("members:orgunit_list")))
    out["list_reads"] = recorder.aliases_reading("members_orgunit")

    # Read-your-writes: the standby stops replaying, the user renames a unit; their next page reads
    # the primary (the cookie), while a reader without the cookie still gets the standby's old name.
    replay(paused=True)
    try:
        response = recorder.run(lambda: client.post(reverse("members:orgunit_edit", args=[branch_a.pk]), {
            "code": "A", "name": "改名后的支部", "kind": "branch", "parent": root.pk, "sort_order": 0, "is_active": "on",
        }))
        out["post_status"] = response.status_code
        out["post_writes"] = sorted({a for a, sql in recorder.statements if sql.lstrip().startswith("update")})
        out["post_pin_cookie"] = dbrouting.PIN_COOKIE in response.cookies
        out["pin_max_age"] = response.cookies[dbrouting.PIN_COOKIE]["max-age"] if out["post_pin_cookie"] else None

        page = recorder.run(lambda: client.get(dashboard)).content.decode()
        out["pinned_new_name"] = "改名后的支部" in page
        out["pinned_unit_reads"] = recorder.aliases_reading("members_orgunit")

        stranger = Client()
        stranger.force_login(admin)
        page = recorder.run(lambda: stranger.get(dashboard)).content.decode()
        out["unpinned_old_name"] = "第一党支部" in page and "改名后的支部" not in page
        out["unpinned_unit_reads"] = recorder.aliases_reading("members_orgunit")
        out["unpinned_lag_badge"] = 'data-testid="replica-lag"' in page
        # The delay grows while the standby does not replay; a stored page shows the current one.
        delays = []
        for _ in range(2):
            time.sleep(1.2)
            page = stranger.get(dashboard).content.decode()
            delays.append(int(re.search(r"数据延迟 (\d+) 秒", page).group(1)))
        out["unpinned_delays"] = delays
    finally:
        replay(paused=False)
    out["caught_up"] = dbrouting.wait_for_replica(20)
    page = Client()
    page.force_login(admin)
    out["after_catch_up_new_name"] = "改名后的支部" in page.get(dashboard).content.decode()
    return out


def scenario_replica_down() -> dict:
    """The standby is stopped: the pages marked for it read the primary instead of failing."""
    out: dict = {}
    root, branch_a = build_tree()
    admin = user(Role.ADMIN, root, "admin")
    client = Client()
    client.force_login(admin)
    recorder = AliasRecorder()
    response = recorder.run(lambda: client.get(f"{reverse('evaluation:dashboard')}?unit={branch_a.pk}"))
    out["dashboard_status"] = response.status_code
    out["dashboard_unit_reads"] = recorder.aliases_reading("members_orgunit")
    out["dashboard_lag_badge"] = 'data-testid="replica-lag"' in response.content.decode()
    response = recorder.run(lambda: client.get("/api/orgunits/"))
    out["api_list_status"] = response.status_code
    return out


def bench_pages(staff, secretary, manager, demand, person) -> list[tuple[str, object, str]]:
    """The bench's page set (benchmarks/management/commands/bench.py), for the scenario's accounts."""
    return [
        ("home", manager, reverse("home")),
        ("queue", staff, reverse("demands:queue", args=["pending"])),
        ("ledger", staff, reverse("demands:demand_list")),
        ("ledger_filtered", staff, reverse("demands:demand_list") + "?status=in_progress"),
        ("demand", staff, reverse("demands:demand_detail", args=[demand.pk])),
        ("person", secretary, reverse("members:person_detail", args=[person.pk])),
        ("items", secretary, reverse("activities:item_list")),
        ("dashboard", manager, reverse("evaluation:dashboard")),
        ("compliance", secretary, reverse("activities:compliance")),
        ("api", staff, "/api/demands/"),
    ]


def scenario_pgbouncer() -> dict:
    """Everything through PgBouncer (transaction pooling, two server connections for all clients)."""
    from demands.chain import verify_chains
    from evaluation import engine
    from evaluation.periods import Period
    from tests.factories.demands import make_demand

    out: dict = {"server_side_cursors_disabled": connections["default"].settings_dict["DISABLE_SERVER_SIDE_CURSORS"]}
    root, branch_a = build_tree()
    staff = user(Role.STAFF, root, "staff", person_unit=root)
    secretary = user(Role.BRANCH_SECRETARY, branch_a, "secretary", person_unit=branch_a)
    manager = user(Role.MANAGER, root, "manager")
    demands = [make_demand(branch_a, by=staff, title=f"诉求{i}") for i in range(8)]
    person = secretary.person
    pages = bench_pages(staff, secretary, manager, demands[0], person)
    clients = {}
    for account in (staff, secretary, manager):
        clients[account.pk] = Client()
        clients[account.pk].force_login(account)

    # Four threads (four Django connections) over two server connections, each page twice.
    statuses: dict[str, list[int]] = {name: [] for name, _, _ in pages}
    errors: list[str] = []

    def browse():
        client_per_thread = {pk: Client() for pk in clients}
        for pk, c in client_per_thread.items():
            c.cookies = clients[pk].cookies
        try:
            for _ in range(2):
                for name, account, url in pages:
                    statuses[name].append(client_per_thread[account.pk].get(url).status_code)
            out.setdefault("chains_broken", len(verify_chains()))
        except Exception as error:  # reported, not raised: the test shows it
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=browse) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out["statuses"] = {name: sorted(set(codes)) for name, codes in statuses.items()}
    out["errors"] = errors

    # A write through a form, then the KPI engine (temporary tables, an advisory lock, SET LOCAL).
    admin = user(Role.ADMIN, root, "admin")
    client = Client()
    client.force_login(admin)
    response = client.post(reverse("members:orgunit_edit", args=[branch_a.pk]), {
        "code": "A", "name": "改名后的支部", "kind": "branch", "parent": root.pk, "sort_order": 0, "is_active": "on",
    })
    out["post_status"] = response.status_code
    from members.models import OrgUnit

    out["renamed"] = OrgUnit.objects.get(pk=branch_a.pk).name
    result = engine.compute([Period.containing(django.utils.timezone.now(), "month")])
    out["kpi_rows_written"] = result.rows_written
    return out


if __name__ == "__main__":
    import django.utils.timezone  # noqa: F401

    name = sys.argv[1]
    result = {"replica": scenario_replica, "pgbouncer": scenario_pgbouncer, "replica_down": scenario_replica_down}[name]()
    print("\n" + json.dumps(result, ensure_ascii=False, default=str))
