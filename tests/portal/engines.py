"""Real engines for the multi-host tests, started in temporary directories on spare ports of
127.0.0.1 and stopped afterwards: a PostgreSQL primary with a streaming hot standby (its own
initdb, never the machine's cluster), PgBouncer in transaction mode in front of the primary, and
Redis. As root (CI), PostgreSQL and PgBouncer run as the `postgres` OS user, since both refuse root.

Each `start_*` returns an object with `.stop()`; missing binaries raise `Missing` with the reason,
which the tests turn into a skip.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


class Missing(RuntimeError):
    """An engine's binaries are not installed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as(user_cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    cmd = ["runuser", "-u", "postgres", "--", *user_cmd] if _as_root() else user_cmd
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


def _popen_as(user_cmd: list[str], **kwargs) -> subprocess.Popen:
    cmd = ["runuser", "-u", "postgres", "--", *user_cmd] if _as_root() else user_cmd
    return subprocess.Popen(cmd, **kwargs)


def _own_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if _as_root():
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)
    return path


def postgres_bindir() -> Path:
    """The newest PostgreSQL server installation with everything the pair needs."""
    needed = ("initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_dump", "psql")
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).parent))
    for folder in candidates:
        if all((Path(folder) / name).exists() for name in needed):
            return Path(folder)
    raise Missing("PostgreSQL server binaries (initdb, postgres, pg_basebackup) are not installed "
                  "(Debian: apt-get install postgresql)")


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


def _accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


@dataclass
class PostgresPair:
    """A primary and its streaming hot standby; the database `portal` on both."""

    bindir: Path
    root: Path
    primary_port: int
    standby_port: int
    database: str = "portal"
    running: list[Path] = field(default_factory=list)

    def url(self, port: int | None = None, database: str | None = None) -> str:
        return f"postgres://postgres@127.0.0.1:{port or self.primary_port}/{database or self.database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    def psql(self, port: int, sql: str, database: str | None = None) -> str:
        result = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(port, database), "-c", sql],
            check=True, capture_output=True, text=True,
        )
        return result.stdout.strip()

    def start(self, datadir: Path, port: int) -> None:
        _run_as([str(self.bindir / "pg_ctl"), "-D", str(datadir), "-w", "-t", "60", "-l", str(datadir / "server.log"),
                 "-o", f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1", "start"])
        self.running.append(datadir)

    def stop_standby(self) -> None:
        standby = self.root / "standby"
        _run_as([str(self.bindir / "pg_ctl"), "-D", str(standby), "-m", "immediate", "-w", "stop"])
        self.running.remove(standby)

    def stop(self) -> None:
        for datadir in reversed(self.running):
            try:
                _run_as([str(self.bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"])
            except subprocess.CalledProcessError:
                pass
        self.running.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres_pair(load_from_url: str | None = None) -> PostgresPair:
    """initdb a primary, create `portal` (a copy of `load_from_url`'s database when given: the
    migrated test database, instead of a minute of migrations), then pg_basebackup -R a standby."""
    bindir = postgres_bindir()
    root = _own_dir("portal-pg-")
    pair = PostgresPair(bindir, root, free_port(), free_port())
    try:
        primary, standby = root / "primary", root / "standby"
        _run_as([str(bindir / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync"])
        with open(primary / "postgresql.conf", "a") as conf:
            # A throwaway pair: no durability, small; replication for the standby.
            conf.write("\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\n"
                       "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nmax_connections = 60\n")
        pair.start(primary, pair.primary_port)
        pair.psql(pair.primary_port, f"CREATE DATABASE {pair.database}", database="postgres")
        if load_from_url:
            dump = subprocess.run([str(bindir / "pg_dump"), "--no-owner", "--no-privileges", "-d", load_from_url],
                                  check=True, capture_output=True)
            subprocess.run([str(bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pair.primary_url],
                           input=dump.stdout, check=True, capture_output=True)
        _run_as([str(bindir / "pg_basebackup"), "-D", str(standby), "-R", "-X", "stream", "-c", "fast",
                 "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres"])
        pair.start(standby, pair.standby_port)
        wait_until(lambda: pair.psql(pair.standby_port, "SELECT pg_is_in_recovery()") == "t", 30, "the standby")
        return pair
    except BaseException:
        pair.stop()
        raise


@dataclass
class Process:
    """A server process with its temporary directory."""

    process: subprocess.Popen
    root: Path
    port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_pgbouncer(db_host: str, db_port: int, database: str, *, pool_size: int = 2) -> Process:
    """PgBouncer in transaction mode for `database` (trust authentication, like the pair)."""
    binary = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if not binary:
        raise Missing("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    root = _own_dir("portal-pgbouncer-")
    port = free_port()
    (root / "users.txt").write_text('"postgres" ""\n')
    (root / "pgbouncer.ini").write_text(
        f"[databases]\n{database} = host={db_host} port={db_port} dbname={database}\n\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {root / 'users.txt'}\n"
        # Few server connections for the clients: transactions of different clients share them.
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 100\n"
        f"ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {root / 'server.log'}\n"
    )
    if _as_root():
        entry = pwd.getpwnam("postgres")
        for path in root.iterdir():
            os.chown(path, entry.pw_uid, entry.pw_gid)
    process = _popen_as([binary, str(root / "pgbouncer.ini")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    bouncer = Process(process, root, port)
    try:
        wait_until(lambda: process.poll() is None and _accepts(port), 20, "pgbouncer")
    except BaseException:
        bouncer.stop()
        raise
    return bouncer


def start_redis() -> Process:
    binary = shutil.which("redis-server")
    if not binary:
        raise Missing("redis-server is not installed (Debian: apt-get install redis-server)")
    root = Path(tempfile.mkdtemp(prefix="portal-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root), "--save", "", "--appendonly", "no",
         "--logfile", str(root / "server.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = Process(process, root, port)
    try:
        wait_until(lambda: process.poll() is None and _accepts(port), 20, "redis-server")
    except BaseException:
        server.stop()
        raise
    return server
