"""Headwater: a self-hostable database that speaks DynamoDB's API, with DynamoDB Streams at its heart.

Run it with `headwater serve`; embed it with `build_app(Settings(...))` (an HTTP handler and the node to
start before serving it); read streams with `headwater.consumer`. Names are imported on first use, so
that small entry points (the trigger worker, the CLI's client commands) do not pay for loading the whole
server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Clock": "headwater.clock",
    "FakeClock": "headwater.clock",
    "SystemClock": "headwater.clock",
    "Settings": "headwater.config",
    "Database": "headwater.core.database",
    "DynamoDBError": "headwater.errors",
    "Storage": "headwater.storage.base",
    "WriteOperation": "headwater.storage.base",
    "WriteSet": "headwater.storage.base",
    "SqliteStorage": "headwater.storage.sqlite",
    "build_app": "headwater.app",
    "build_database": "headwater.app",
    "StreamReader": "headwater.consumer",
    "HttpTransport": "headwater.consumer",
}

__all__ = [
    "Clock",
    "Database",
    "DynamoDBError",
    "FakeClock",
    "HttpTransport",
    "Settings",
    "SqliteStorage",
    "Storage",
    "StreamReader",
    "SystemClock",
    "WriteOperation",
    "WriteSet",
    "__version__",
    "build_app",
    "build_database",
]

if TYPE_CHECKING:
    from .app import build_app, build_database
    from .clock import Clock, FakeClock, SystemClock
    from .config import Settings
    from .consumer import HttpTransport, StreamReader
    from .core.database import Database
    from .errors import DynamoDBError
    from .storage.base import Storage, WriteOperation, WriteSet
    from .storage.sqlite import SqliteStorage


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'headwater' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
