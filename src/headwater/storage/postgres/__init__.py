"""The PostgreSQL backend: a single writer thread with group commit, a small pool of read connections."""

from __future__ import annotations

from headwater.storage.postgres.schema import SCHEMA_VERSION
from headwater.storage.postgres.storage import PostgresStorage, is_postgres_url
from headwater.storage.postgres.writer import WriterStats

__all__ = ["SCHEMA_VERSION", "PostgresStorage", "WriterStats", "is_postgres_url"]
