"""The DynamoDB Streams operations (target prefix `DynamoDBStreams_20120810`)."""

from __future__ import annotations

from ._service import stream_service

__all__ = ["stream_service"]
