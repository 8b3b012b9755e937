"""Backends for the storage contract suite. A new backend (PostgreSQL) adds a parameter here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from headwater.storage.base import Storage
from headwater.storage.sqlite import SqliteStorage


@dataclass(frozen=True)
class Backend:
    name: str
    make: Callable[[], Storage]  # a new, unopened handle on the same database each call
    persistent: bool  # survives close + reopen


def _sqlite_file(tmp_path: Path) -> Backend:
    path = tmp_path / "headwater.db"
    return Backend("sqlite-file", lambda: SqliteStorage(path), persistent=True)


def _sqlite_memory(tmp_path: Path) -> Backend:
    return Backend("sqlite-memory", lambda: SqliteStorage(None), persistent=False)


BACKENDS: dict[str, Callable[[Path], Backend]] = {
    "sqlite-file": _sqlite_file,
    "sqlite-memory": _sqlite_memory,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
def storage(backend: Backend) -> Iterator[Storage]:
    store = backend.make()
    store.open()
    try:
        yield store
    finally:
        store.close()
