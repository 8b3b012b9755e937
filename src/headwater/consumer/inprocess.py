"""A transport that calls the server's own handlers (Streams' or Kinesis's): no HTTP hop (the trigger
runner and the sinks use it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from ..errors import DynamoDBError
from .errors import StreamsError
from .transport import Wire

Operation = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any] | bytes]]


class InProcessTransport:
    """`operations` maps operation names to handlers called as `handler(db, request)`."""

    def __init__(self, db: object, operations: Mapping[str, Operation]) -> None:
        self._db = db
        self._operations = operations

    async def call(self, name: str, request: Wire) -> Wire:
        handler = self._operations.get(name)
        if handler is None:
            raise StreamsError("UnknownOperationException", f"{name} is not available")
        try:
            response = await handler(self._db, request)
        except DynamoDBError as err:
            raise StreamsError(err.type_name, err.message or "", err.status) from None
        if isinstance(response, bytes):
            decoded: Wire = orjson.loads(response)
            return decoded
        return response

    async def list_streams(self, request: Wire) -> Wire:
        return await self.call("ListStreams", request)

    async def describe_stream(self, request: Wire) -> Wire:
        return await self.call("DescribeStream", request)

    async def get_shard_iterator(self, request: Wire) -> Wire:
        return await self.call("GetShardIterator", request)

    async def get_records(self, request: Wire) -> Wire:
        return await self.call("GetRecords", request)

    async def close(self) -> None:
        return None
