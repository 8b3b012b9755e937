"""A throwaway PostgreSQL cluster for `--storage postgres`: started the way the tests start theirs
(tests/postgres_server.py), but durable (fsync on, synchronous_commit on: PostgreSQL's defaults), and
removed at the end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from tests.postgres_server import PG_BIN, PostgresServer, start_postgres, stop_postgres

# PostgreSQL's own defaults where the tests' cluster differs (they run with 32 MB of shared buffers);
# pg_stat_statements is loaded so that a run can be profiled (`SELECT ... FROM pg_stat_statements`).
DEFAULT_SETTINGS = ("shared_buffers=128MB", "shared_preload_libraries=pg_stat_statements")


@contextlib.contextmanager
def postgres_cluster(settings: Sequence[str] = ()) -> Iterator[PostgresServer]:
    """A new cluster (unix socket only) with `settings` (`name=value`) on top of DEFAULT_SETTINGS."""
    server = start_postgres(fsync=True, settings=(*DEFAULT_SETTINGS, *settings))
    try:
        yield server
    finally:
        stop_postgres(server)


def describe(settings: Sequence[str]) -> str:
    extra = ", ".join(settings)
    return f"PostgreSQL from {PG_BIN}, fsync and synchronous_commit on" + (f", {extra}" if extra else "")
