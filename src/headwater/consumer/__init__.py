"""The public stream reader library: a transport (HTTP or in-process) and a shard-lineage-aware reader."""

from __future__ import annotations

from .checkpoints import CheckpointStore, MemoryCheckpoints, ShardCheckpoint
from .dialects import KINESIS, STREAMS, Dialect, dialect_of
from .errors import StreamsError
from .http import HttpTransport, tls_client
from .inprocess import InProcessTransport
from .reader import Shard, ShardCursor, StreamReader, list_shards, ready_shards, resolve_latest
from .transport import CallTransport, StreamsTransport

__all__ = [
    "KINESIS",
    "STREAMS",
    "CallTransport",
    "CheckpointStore",
    "Dialect",
    "HttpTransport",
    "InProcessTransport",
    "MemoryCheckpoints",
    "Shard",
    "ShardCheckpoint",
    "ShardCursor",
    "StreamReader",
    "StreamsError",
    "StreamsTransport",
    "dialect_of",
    "list_shards",
    "ready_shards",
    "resolve_latest",
    "tls_client",
]
