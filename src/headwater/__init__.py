"""Headwater: a self-hostable database that speaks DynamoDB's API, with DynamoDB Streams at its heart.

Run it with `headwater serve`; embed it with `build_app(Settings(...))` (an ASGI application).
"""

from __future__ import annotations

from .app import build_app, build_database
from .clock import Clock, FakeClock, SystemClock
from .config import Settings
from .core.database import Database
from .errors import DynamoDBError
from .storage.base import Storage, WriteOperation, WriteSet
from .storage.sqlite import SqliteStorage

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "Database",
    "DynamoDBError",
    "FakeClock",
    "Settings",
    "SqliteStorage",
    "Storage",
    "SystemClock",
    "WriteOperation",
    "WriteSet",
    "__version__",
    "build_app",
    "build_database",
]
