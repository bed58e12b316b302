"""portal.launcher: how DATABASE_URL / REDIS_URL are chosen.  No Django database is used.

Runs under pytest-django and without it (`-p no:django -o addopts=`).
"""
import sys
from pathlib import Path

import environ
import pytest
import redis
from kombu import Connection
from kombu.utils.url import url_to_parts

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # pytest-django does this when it is active
from portal import launcher  # noqa: E402


class FakeService:
    """Stands in for EmbeddedPostgres / EmbeddedRedis and records what happens to it."""

    events: list = []

    def __init__(self, var_dir, dbname="portal"):
        self.var_dir = var_dir
        self.dbname = dbname

    def start(self):
        self.events.append((self.name, "start"))

    def stop(self):
        self.events.append((self.name, "stop"))

    def alive(self):
        return True


class FakePostgres(FakeService):
    name = "PostgreSQL"

    def env(self, mode):
        return {"DATABASE_URL": launcher.pg_socket_url(self.var_dir / "pg", dbname=self.dbname)}


class FakeRedis(FakeService):
    name = "Redis"

    def env(self, mode):
        redis_url, broker_url = launcher.redis_socket_urls(self.var_dir / "redis" / "redis.sock", 15)
        return {"REDIS_URL": redis_url, "CELERY_BROKER_URL": broker_url}


@pytest.fixture
def fakes(monkeypatch):
    FakeService.events = []
    monkeypatch.setattr(launcher, "EmbeddedPostgres", FakePostgres)
    monkeypatch.setattr(launcher, "EmbeddedRedis", FakeRedis)
    return FakeService.events


def forbid_probes(monkeypatch):
    def probe():
        raise AssertionError("must not probe local servers")

    monkeypatch.setattr(launcher, "local_postgres_ok", probe)
    monkeypatch.setattr(launcher, "local_redis_ok", probe)


@pytest.mark.parametrize("mode", ["run", "test", "services"])
def test_variables_already_set_are_kept(mode, monkeypatch, tmp_path, fakes):
    forbid_probes(monkeypatch)
    given = {"DATABASE_URL": "postgres://app:secret@db.example:5433/portal", "REDIS_URL": "redis://cache:6379/3"}

    result = launcher.resolve_services(mode, environ=given, var_dir=tmp_path)

    assert dict(result) == given  # in particular no CELERY_BROKER_URL: settings fall back to REDIS_URL
    assert result.embedded == [] and fakes == []
    assert list(tmp_path.iterdir()) == []


def test_test_mode_prefers_local_servers(monkeypatch, tmp_path, fakes):
    monkeypatch.setattr(launcher, "local_postgres_ok", lambda dbname: True)
    monkeypatch.setattr(launcher, "local_redis_ok", lambda: True)

    result = launcher.resolve_services("test", environ={}, var_dir=tmp_path)

    assert dict(result) == {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    assert fakes == []


def test_bench_mode_works_in_a_database_of_its_own(monkeypatch, tmp_path, fakes):
    asked = []
    monkeypatch.setattr(launcher, "local_postgres_ok", lambda dbname: asked.append(dbname) or True)
    monkeypatch.setattr(launcher, "local_redis_ok", lambda: True)

    result = launcher.resolve_services("bench", environ={}, var_dir=tmp_path)

    assert asked == ["portal_bench"]
    assert dict(result) == {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
    }

    monkeypatch.setattr(launcher, "local_postgres_ok", lambda dbname: False)
    embedded = launcher.resolve_services("bench", environ={}, var_dir=tmp_path)
    assert embedded["DATABASE_URL"] == launcher.pg_socket_url(tmp_path / "pg", dbname="portal_bench")
    embedded.stop()


def test_test_mode_falls_back_to_embedded(monkeypatch, tmp_path, fakes):
    monkeypatch.setattr(launcher, "local_postgres_ok", lambda dbname: False)
    monkeypatch.setattr(launcher, "local_redis_ok", lambda: True)

    result = launcher.resolve_services("test", environ={}, var_dir=tmp_path)

    assert result["DATABASE_URL"] == launcher.pg_socket_url(tmp_path / "pg")
    assert result["REDIS_URL"] == "redis://127.0.0.1:6379/15"
    assert "CELERY_BROKER_URL" not in result
    assert fakes == [("PostgreSQL", "start")]
    result.stop()
    assert fakes == [("PostgreSQL", "start"), ("PostgreSQL", "stop")]


def test_run_mode_always_embeds_unset_services(monkeypatch, tmp_path, fakes):
    forbid_probes(monkeypatch)

    result = launcher.resolve_services("run", environ={"CELERY_BROKER_URL": "redis://broker/1"}, var_dir=tmp_path)

    assert fakes == [("PostgreSQL", "start"), ("Redis", "start")]
    assert result["REDIS_URL"].startswith("unix://")
    assert result["CELERY_BROKER_URL"] == "redis://broker/1"  # a given broker is kept too
    result.stop()
    assert fakes[2:] == [("Redis", "stop"), ("PostgreSQL", "stop")]


def test_embedded_service_used_by_another_launcher_is_left_running(monkeypatch, tmp_path, fakes):
    forbid_probes(monkeypatch)
    users = launcher._Users(tmp_path)
    users.path.write_text('{"PostgreSQL": [1], "Redis": [999999999]}')  # pid 1 is alive, the other is not

    result = launcher.resolve_services("run", environ={}, var_dir=tmp_path)
    result.stop()

    assert ("PostgreSQL", "stop") not in fakes
    assert ("Redis", "stop") in fakes


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError):
        launcher.resolve_services("deploy", environ={}, var_dir=tmp_path)


@pytest.mark.parametrize("socket_dir", ["/work/main/var/pg", "/tmp/with space+plus/pg"])
def test_embedded_postgres_url_is_understood_by_django_environ(socket_dir):
    url = launcher.pg_socket_url(socket_dir)

    config = environ.Env.db_url_config(url)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["HOST"] == socket_dir
    assert config["NAME"] == "portal"
    assert config["USER"] == "postgres"
    assert config["PORT"] == ""


def test_embedded_postgres_url_keeps_an_unusual_port():
    config = environ.Env.db_url_config(launcher.pg_socket_url("/x/pg", port=5433))

    assert (config["HOST"], config["PORT"], config["NAME"]) == ("/x/pg", 5433, "portal")


def test_embedded_redis_urls_for_redis_py_and_kombu():
    redis_url, broker_url = launcher.redis_socket_urls("/work/main/var/redis/redis.sock", 15)

    pool = redis.Redis.from_url(redis_url).connection_pool
    assert pool.connection_class is redis.UnixDomainSocketConnection
    assert pool.connection_kwargs["path"] == "/work/main/var/redis/redis.sock"
    assert pool.connection_kwargs["db"] == 15

    connection = Connection(broker_url)
    assert connection.transport_cls == "redis"
    parts = url_to_parts(connection.hostname)
    assert (parts.scheme, "/" + parts.path) == ("socket", "/work/main/var/redis/redis.sock")
    assert parts.query == {"virtual_host": "15"}


def test_embedded_redis_keeps_its_data_between_starts(tmp_path):
    first = launcher.EmbeddedRedis(tmp_path)
    first.start()
    try:
        client = redis.Redis.from_url(first.env("run")["REDIS_URL"])
        client.set("launcher-test", "kept")
    finally:
        first.stop()
    assert not first.socket.exists()

    second = launcher.EmbeddedRedis(tmp_path)
    second.start()
    try:
        client = redis.Redis.from_url(second.env("run")["REDIS_URL"])
        assert client.get("launcher-test") == b"kept"
    finally:
        second.stop()


@pytest.mark.parametrize(("asked", "expected"), [(None, "false"), ("true", "true"), ("false", "false")])
def test_run_serves_with_debug_off_unless_asked(monkeypatch, asked, expected):
    if asked is None:
        monkeypatch.delenv("DEBUG", raising=False)
    else:
        monkeypatch.setenv("DEBUG", asked)
    env = launcher.run_env(launcher.Services({"DATABASE_URL": "postgres://x/y"}))
    assert env["DEBUG"] == expected
    assert env["DATABASE_URL"] == "postgres://x/y"
