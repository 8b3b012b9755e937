"""A throwaway PostgreSQL server for the tests: one per test process (pytest-xdist worker).

It listens only on a unix socket in its own temporary directory. PostgreSQL refuses to run as root, so
when the tests run as root, initdb and pg_ctl run as the `postgres` system user. When no server can be
started the tests that need it skip, or fail when the CI environment variable is set.

A server can have a streaming standby (`start_standby`, pg_basebackup -R), its postmaster can be killed
(`kill_postmaster`) and the standby promoted (`promote`): a failover.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

PG_BIN = Path(os.environ.get("HEADWATER_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"


@dataclass
class PostgresServer:
    root: Path  # socket directory; the cluster is in root/data
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://{PG_USER}@/{database}?host={self.root}"

    def new_name(self, prefix: str) -> str:
        return f"{prefix}_{os.getpid()}_{next(self._names)}"

    def create_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        return self.url_for(self.new_database())

    def new_database(self) -> str:
        """A fresh, empty database; returns its name."""
        import psycopg

        name = self.new_name("hw")
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *args]
    return args


def _run(args: list[str], timeout: float = 60) -> None:
    done = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")


def _new_root() -> Path:
    if not (PG_BIN / "pg_ctl").exists():
        raise RuntimeError(f"no PostgreSQL binaries in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="hwpg-"))
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER, PG_USER)
    return root


def _pg_ctl_start(root: Path, fsync: bool, settings: Sequence[str]) -> None:
    options = f"-k {root} -c listen_addresses='' -c max_connections=200 -c shared_buffers=32MB"
    if not fsync:
        options += " -c fsync=off -c full_page_writes=off"
    options += "".join(f" -c {setting}" for setting in settings)
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-o", options]
    _run([*pg_ctl, "-w", "-t", "60", "start"])


def start_postgres(*, fsync: bool = False, settings: Sequence[str] = ()) -> PostgresServer:
    """initdb + pg_ctl start in a new temporary directory. `fsync=False` (tests only) trades crash
    safety of the *PostgreSQL server* for speed; Headwater's own guarantees do not depend on it.
    `settings`: more server settings (`name=value`), e.g. for the benchmark."""
    root = _new_root()
    try:
        initdb = [
            str(PG_BIN / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            PG_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
        ]
        _run([*initdb, "--locale=C", "--no-sync", "--no-instructions"])
        _pg_ctl_start(root, fsync, settings)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return PostgresServer(root)


def start_standby(
    primary: PostgresServer, *, fsync: bool = False, settings: Sequence[str] = ()
) -> PostgresServer:
    """A hot standby streaming from `primary` (pg_basebackup -R: it follows the primary's unix socket),
    in a new temporary directory; returns once the primary sees it streaming. Settings given to the
    primary's `start_postgres` (e.g. synchronous_standby_names) are not copied: a promoted standby does
    not wait for a standby of its own."""
    root = _new_root()
    try:
        backup = [str(PG_BIN / "pg_basebackup"), "-D", str(root / "data"), "-h", str(primary.root)]
        _run([*backup, "-U", PG_USER, "-R", "-X", "stream", "-c", "fast", "--no-sync"])
        _pg_ctl_start(root, fsync, settings)
        _wait_streaming(primary)
    except BaseException:
        stop_postgres(PostgresServer(root))
        raise
    return PostgresServer(root)


def _wait_streaming(primary: PostgresServer, timeout: float = 60.0) -> None:
    import time

    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(primary.url, autocommit=True) as conn:
        while conn.execute("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'").fetchone() is None:
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not start streaming")
            time.sleep(0.05)


def postmaster_pid(server: PostgresServer) -> int | None:
    """The running postmaster's process id (None when it is not running)."""
    try:
        pid = int((server.root / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return None
    return None if state in ("Z", "X") else pid  # a killed one nobody reaped is a zombie


def kill_postmaster(server: PostgresServer) -> None:
    """`kill -9` of the postmaster: its sessions end as they notice (their clients see the connection
    drop), nothing is shut down cleanly."""
    pid = postmaster_pid(server)
    if pid is None:
        raise RuntimeError("the postmaster is not running")
    os.kill(pid, signal.SIGKILL)


def promote(standby: PostgresServer) -> None:
    """pg_ctl promote: the standby ends recovery (on a new timeline) and takes writes."""
    _run([str(PG_BIN / "pg_ctl"), "-D", str(standby.root / "data"), "-w", "-t", "60", "promote"])


def restart_postgres(server: PostgresServer) -> None:
    """pg_ctl restart -m fast: every session is ended (in-flight transactions are aborted)."""
    data, log = str(server.root / "data"), str(server.root / "log")
    _run([str(PG_BIN / "pg_ctl"), "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"])


def crash_postgres(server: PostgresServer) -> None:
    """pg_ctl stop -m immediate: the server is gone at once, as in a crash (`restart_postgres` starts it)."""
    _run([str(PG_BIN / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "-w", "stop"])


def stop_postgres(server: PostgresServer) -> None:
    try:
        if postmaster_pid(server) is not None:  # not a killed one
            _run([str(PG_BIN / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(server.root, ignore_errors=True)


def unavailable(exc: BaseException) -> NoReturn:
    """A test that needs a PostgreSQL server it could not start: skipped, or failed under CI."""
    reason = f"cannot start a throwaway PostgreSQL server: {exc}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        unavailable(exc)
    try:
        yield server
    finally:
        stop_postgres(server)


@dataclass(frozen=True)
class PostgresPair:
    """A primary whose commits wait for its streaming standby (synchronous_standby_names = '*' and
    synchronous_commit on, PostgreSQL's default)."""

    primary: PostgresServer
    standby: PostgresServer

    def url(self, database: str = "postgres") -> str:
        """Both servers in libpq's multi-host syntax (unix sockets: one directory each), the primary first."""
        hosts = f"{self.primary.root},{self.standby.root}"
        return f"postgresql://{PG_USER}@/{database}?host={hosts}&target_session_attrs=read-write"


@pytest.fixture
def postgres_pair() -> Iterator[PostgresPair]:
    """A pair of the test's own: it is failed over under the test."""
    try:
        primary = start_postgres(settings=("synchronous_standby_names='*'",))
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        unavailable(exc)
    try:
        try:
            standby = start_standby(primary)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            unavailable(exc)
        try:
            yield PostgresPair(primary, standby)
        finally:
            stop_postgres(standby)
    finally:
        stop_postgres(primary)
