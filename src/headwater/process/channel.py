"""Request/response frames between a front process and the core process, over a Unix socket.

A frame is `<length:u32><id:u32><code:u16>` and `length` bytes of fields; a field is `<size:u32>` and
its bytes. A call sends (id, kind, fields) and gets back (id, status, fields); answers may come in any
order. Writes are gathered and flushed once per loop pass on both sides, so a burst of requests costs
one system call each way, and the core sees them in one read: the group of one commit.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from ..http.server import drive

log = logging.getLogger(__name__)

_HEAD = struct.Struct("<IIH")
_SIZE = struct.Struct("<I")
MAX_FRAME = 64 * 1024 * 1024  # a 16 MB request with room for its context; anything bigger is a bug

Fields = list[bytes]
# kind, fields -> status, fields
CallHandler = Callable[[int, Fields], Coroutine[Any, Any, tuple[int, Sequence[bytes]]]]


class ChannelClosed(ConnectionError):
    pass


def pack(fields: Sequence[bytes]) -> bytes:
    parts: list[bytes] = []
    for field in fields:
        parts.append(_SIZE.pack(len(field)))
        parts.append(field)
    return b"".join(parts)


def unpack(data: bytes | memoryview) -> Fields:
    view = memoryview(data)
    fields: Fields = []
    at = 0
    end = len(view)
    while at < end:
        (size,) = _SIZE.unpack_from(view, at)
        at += 4
        fields.append(bytes(view[at : at + size]))
        at += size
    return fields


class _FrameProtocol(asyncio.Protocol):
    """Frames in, frames out; the subclass says what a frame means."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        at = 0
        end = len(buffer)
        while end - at >= _HEAD.size:
            length, ident, code = _HEAD.unpack_from(buffer, at)
            if length > MAX_FRAME:
                log.error("frame of %d bytes on the process channel: closing it", length)
                if self._transport is not None:
                    self._transport.close()
                return
            if end - at - _HEAD.size < length:
                break
            start = at + _HEAD.size
            self._frame(ident, code, unpack(memoryview(buffer)[start : start + length]))
            at = start + length
        if at:
            del buffer[:at]

    def _frame(self, ident: int, code: int, fields: Fields) -> None:
        raise NotImplementedError

    def _send(self, ident: int, code: int, fields: Sequence[bytes]) -> None:
        body = pack(fields)
        self._out.append(_HEAD.pack(len(body), ident, code))
        self._out.append(body)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        out, self._out = self._out, []
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(out))


class ChannelClient(_FrameProtocol):
    """The front's end: `call` sends a frame and waits for its answer."""

    def __init__(self) -> None:
        super().__init__()
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future[tuple[int, Fields]]] = {}
        self.closed: asyncio.Future[None] = self._loop.create_future()

    def call(self, kind: int, fields: Sequence[bytes]) -> asyncio.Future[tuple[int, Fields]]:
        if self._transport is None or self._transport.is_closing():
            raise ChannelClosed("the core process is gone")
        self._next_id = ident = (self._next_id + 1) & 0xFFFFFFFF
        future: asyncio.Future[tuple[int, Fields]] = self._loop.create_future()
        self._waiting[ident] = future
        self._send(ident, kind, fields)
        return future

    def _frame(self, ident: int, code: int, fields: Fields) -> None:
        future = self._waiting.pop(ident, None)
        if future is not None and not future.done():
            future.set_result((code, fields))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(ChannelClosed("the core process is gone"))
        if not self.closed.done():
            self.closed.set_result(None)


class ChannelServer(_FrameProtocol):
    """The core's end of one front's channel: each frame runs `handler` and its answer goes back."""

    def __init__(self, handler: CallHandler) -> None:
        super().__init__()
        self._handler = handler

    def _frame(self, ident: int, code: int, fields: Fields) -> None:
        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                log.error("process channel call failed", exc_info=error)
                self._send(ident, 500, [b"Internal server error"])
            else:
                status, out = result
                self._send(ident, status, out)

        drive(self._handler(code, fields), done)


async def connect(path: str) -> ChannelClient:
    _, protocol = await asyncio.get_running_loop().create_unix_connection(ChannelClient, path)
    return protocol


async def serve(path: str, handler: CallHandler) -> asyncio.AbstractServer:
    return await asyncio.get_running_loop().create_unix_server(lambda: ChannelServer(handler), path)
