"""A throwaway PostgreSQL server for the tests: one per test process (pytest-xdist worker).

It listens only on a unix socket in its own temporary directory. PostgreSQL refuses to run as root, so
when the tests run as root, initdb and pg_ctl run as the `postgres` system user. When no server can be
started the tests that need it skip, or fail when the CI environment variable is set.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
        import psycopg

        name = self.new_name("hw")
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *args]
    return args


def _run(args: list[str], timeout: float = 60) -> None:
    done = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")


def start_postgres(*, fsync: bool = False, settings: Sequence[str] = ()) -> PostgresServer:
    """initdb + pg_ctl start in a new temporary directory. `fsync=False` (tests only) trades crash
    safety of the *PostgreSQL server* for speed; Headwater's own guarantees do not depend on it.
    `settings`: more server settings (`name=value`), e.g. for the benchmark."""
    if not (PG_BIN / "pg_ctl").exists():
        raise RuntimeError(f"no PostgreSQL binaries in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="hwpg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(root, PG_USER, PG_USER)
        data = root / "data"
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust", "-E", "UTF8"]
        _run([*initdb, "--locale=C", "--no-sync", "--no-instructions"])
        options = f"-k {root} -c listen_addresses='' -c max_connections=200 -c shared_buffers=32MB"
        if not fsync:
            options += " -c fsync=off -c full_page_writes=off"
        options += "".join(f" -c {setting}" for setting in settings)
        _run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return PostgresServer(root)


def restart_postgres(server: PostgresServer) -> None:
    """pg_ctl restart -m fast: every session is ended (in-flight transactions are aborted)."""
    data, log = str(server.root / "data"), str(server.root / "log")
    _run([str(PG_BIN / "pg_ctl"), "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"])


def crash_postgres(server: PostgresServer) -> None:
    """pg_ctl stop -m immediate: the server is gone at once, as in a crash (`restart_postgres` starts it)."""
    _run([str(PG_BIN / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "-w", "stop"])


def stop_postgres(server: PostgresServer) -> None:
    try:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        reason = f"cannot start a throwaway PostgreSQL server: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield server
    finally:
        stop_postgres(server)
