"""Beyond one machine, against the real engines (docs/operations.md): a PostgreSQL primary with a
streaming hot standby and PgBouncer in transaction mode, started by the tests in temporary
directories on spare ports (tests/portal/engines.py). The portal runs in a child process whose
settings point at them (tests/portal/multihost_probe.py). Skipped only where the binaries are absent.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from tests.portal import engines

# The portal under test runs in a child process on the pair's own databases: these tests need the
# migrated test database only as the pair's starting copy (the marker has it set up), no flush after.
pytestmark = pytest.mark.django_db
POOLED = "portal_pooled"
SPARE = "portal_spare"


def _url(settings_dict) -> str:
    host = settings_dict["HOST"] or "127.0.0.1"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    return f"postgres://{settings_dict['USER']}{password}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"


@pytest.fixture(scope="module")
def pair(django_db_setup):
    """Primary + standby holding a copy of the (migrated, empty) test database."""
    try:
        engines.postgres_bindir()
    except engines.Missing as missing:
        pytest.skip(str(missing))
    source = _url(connection.settings_dict)
    started = engines.start_postgres_pair(load_from_url=source)
    # Copies for the PgBouncer test and the failed standby's, whatever the other tests left in the first.
    for copy in (POOLED, SPARE):
        started.psql(started.primary_port, f"CREATE DATABASE {copy} TEMPLATE {started.database}", database="postgres")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def redis_server():
    try:
        server = engines.start_redis()
    except engines.Missing as missing:
        pytest.skip(str(missing))
    yield server
    server.stop()


def run_probe(name: str, **env) -> dict:
    # The child's settings are the pair's and the Redis's (and no replica unless given).
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_REPLICA_URL"}
    environment.update(CONN_MAX_AGE="60", CELERY_TASK_ALWAYS_EAGER="true", EMAIL_URL="consolemail://", DEBUG="false",
                       STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage", **env)
    result = subprocess.run([sys.executable, "-m", "tests.portal.multihost_probe", name], env=environment,
                            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dashboard_reads_the_standby_and_a_writer_reads_the_primary(pair, redis_server):
    seen = run_probe("replica", DATABASE_URL=pair.primary_url, DATABASE_REPLICA_URL=pair.standby_url,
                     REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/0",
                     CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_server.port}/0")
    # The router: the primary by default, the standby (in recovery) inside replica_reads().
    assert seen["router_default"] is False
    assert seen["router_replica_alias"] == "replica" and seen["router_replica_in_recovery"] is True
    assert seen["replica_sees_unit"] is True
    # The dashboard, the API's list and an export read the standby; a plain list the primary.
    assert seen["dashboard_status"] == 200 and seen["dashboard_unit_reads"] == ["replica"]
    assert seen["dashboard_lag_badge"] is True and seen["dashboard_lag_text"] is True
    assert seen["dashboard_pin_cookie"] is False
    assert seen["api_list_status"] == 200 and seen["api_list_reads"] == ["replica"]
    assert seen["export_status"] == 200 and seen["export_reads"] == ["replica"]
    assert seen["list_reads"] == ["default"]
    # The write goes to the primary and pins the browser to it for a short time.
    assert seen["post_status"] == 302 and seen["post_writes"] == ["default"]
    assert seen["post_pin_cookie"] is True and seen["pin_max_age"] == settings.DATABASE_REPLICA_PIN_SECONDS
    # With the standby's replay paused: the writer sees the new name (primary), another browser the
    # standby's old one, marked with the delay; once the standby catches up, everybody sees it.
    assert seen["pinned_new_name"] is True and seen["pinned_unit_reads"] == ["default"]
    assert seen["unpinned_old_name"] is True and seen["unpinned_unit_reads"] == ["replica"]
    assert seen["unpinned_lag_badge"] is True
    assert 1 <= seen["unpinned_delays"][0] < seen["unpinned_delays"][1]
    assert seen["caught_up"] is True and seen["after_catch_up_new_name"] is True


def test_portal_works_through_pgbouncer_in_transaction_mode(pair, redis_server):
    try:
        bouncer = engines.start_pgbouncer("127.0.0.1", pair.primary_port, POOLED, pool_size=2)
    except engines.Missing as missing:
        pytest.skip(str(missing))
    try:
        seen = run_probe("pgbouncer", DATABASE_URL=f"postgres://postgres@127.0.0.1:{bouncer.port}/{POOLED}",
                         DISABLE_SERVER_SIDE_CURSORS="true",
                         REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/1",
                         CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_server.port}/1")
    finally:
        bouncer.stop()
    assert seen["server_side_cursors_disabled"] is True
    assert seen["errors"] == []
    assert seen["statuses"] == {name: [200] for name in seen["statuses"]}, seen["statuses"]
    assert set(seen["statuses"]) == {"home", "queue", "ledger", "ledger_filtered", "demand", "person", "items",
                                     "dashboard", "compliance", "api"}
    assert seen["chains_broken"] == 0
    assert seen["post_status"] == 302 and seen["renamed"] == "改名后的支部"
    assert seen["kpi_rows_written"] > 0


def test_a_standby_that_is_down_sends_the_reads_to_the_primary(pair, redis_server):
    """Last in this module: it stops the standby."""
    pair.stop_standby()
    seen = run_probe("replica_down", DATABASE_URL=pair.url(database=SPARE),
                     DATABASE_REPLICA_URL=pair.url(pair.standby_port, SPARE) + "?connect_timeout=2",
                     REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/2",
                     CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_server.port}/2")
    assert seen["dashboard_status"] == 200 and seen["dashboard_unit_reads"] == ["default"]
    assert seen["dashboard_lag_badge"] is False
    assert seen["api_list_status"] == 200
