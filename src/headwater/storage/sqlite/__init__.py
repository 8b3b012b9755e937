"""The SQLite backend: WAL, a single writer thread with group commit, one read connection per thread."""

from __future__ import annotations

from headwater.storage.sqlite.schema import DB_FILENAME, SCHEMA_VERSION, Synchronous
from headwater.storage.sqlite.storage import SqliteStorage
from headwater.storage.sqlite.writer import WriterStats

__all__ = ["DB_FILENAME", "SCHEMA_VERSION", "SqliteStorage", "Synchronous", "WriterStats"]
