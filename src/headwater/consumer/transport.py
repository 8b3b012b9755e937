"""The calls a reader makes, wire dicts in and out: what every reader is written against."""

from __future__ import annotations

from typing import Any, Protocol

Wire = dict[str, Any]


class CallTransport(Protocol):
    """One service's operations by name (DynamoDB Streams' or Kinesis's). Raises `StreamsError` for
    service errors (and for connection failures, code "ConnectionError")."""

    async def call(self, operation: str, request: Wire) -> Wire: ...

    async def close(self) -> None: ...


class StreamsTransport(CallTransport, Protocol):
    """The four DynamoDB Streams calls by name, for readers written against them."""

    async def list_streams(self, request: Wire) -> Wire: ...

    async def describe_stream(self, request: Wire) -> Wire: ...

    async def get_shard_iterator(self, request: Wire) -> Wire: ...

    async def get_records(self, request: Wire) -> Wire: ...
