"""DynamoDB Streams: records, shards, sequence numbers, iterators and retention over the storage interface."""

from __future__ import annotations

from .service import StreamService

__all__ = ["StreamService"]
