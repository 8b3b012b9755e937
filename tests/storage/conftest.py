"""Backends for the storage contract suite: every test taking `storage` or `backend` runs on each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from headwater.storage.base import Storage
from headwater.storage.sqlite import SqliteStorage
from tests.postgres_server import PostgresServer


@dataclass(frozen=True)
class Backend:
    name: str
    make: Callable[[], Storage]  # a new, unopened handle on the same database each call
    persistent: bool  # survives close + reopen


def _sqlite_file(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    path = tmp_path / "headwater.db"
    return Backend("sqlite-file", lambda: SqliteStorage(path), persistent=True)


def _sqlite_memory(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend("sqlite-memory", lambda: SqliteStorage(None), persistent=False)


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh schema per test on this process's throwaway PostgreSQL server."""
    server: PostgresServer = request.getfixturevalue("postgres_server")
    pytest.importorskip("psycopg")
    from headwater.storage.postgres import PostgresStorage

    schema = server.new_name("t")
    return Backend("postgres", lambda: PostgresStorage(server.url, schema=schema), persistent=True)


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "sqlite-file": _sqlite_file,
    "sqlite-memory": _sqlite_memory,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def storage(backend: Backend) -> Iterator[Storage]:
    store = backend.make()
    store.open()
    try:
        yield store
    finally:
        store.close()
