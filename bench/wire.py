"""Minimal keep-alive HTTP/1.1 client speaking DynamoDB's JSON protocol.

One `Connection` carries one request at a time (no pipelining), which is how the AWS SDKs use a
connection.  Requests are pre-rendered bytes so the generator spends its time waiting, not encoding.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from typing import Any, cast

import orjson

from bench.signing import Credentials, Signer

DYNAMODB = "DynamoDB_20120810."
STREAMS = "DynamoDBStreams_20120810."
# unsigned (a server with --auth off): the region is read from the credential scope all the same
AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=x/20260101/{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=x"
)
UNKNOWN_OPERATION = "UnknownOperationException"

now = time.monotonic  # CLOCK_MONOTONIC: comparable across forked generator processes on Linux


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    credentials: Credentials | None = None  # sign for real (a server with --auth sigv4); else a dummy header
    region: str = "us-east-1"  # the region requests are signed for: a namespace of the server

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        rest = url.split("://", 1)[-1].rstrip("/")
        host, _, port = rest.rpartition(":")
        if not host:
            return cls(rest, 80)
        return cls(host.strip("[]"), int(port))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def in_region(self, region: str) -> Endpoint:
        """The same server, its `region` namespace (another region of it, or the region it serves)."""
        return dataclasses.replace(self, region=region)


class RequestBuilder:
    """Renders complete HTTP requests; the header block of each operation is built once (signed ones per
    request: their signature covers the body)."""

    def __init__(self, endpoint: Endpoint) -> None:
        host = f"{endpoint.host}:{endpoint.port}"
        content_type = "application/x-amz-json-1.0"
        authorization = AUTHORIZATION.format(region=endpoint.region)
        self._base = (
            f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"X-Amz-Date: 20260101T000000Z\r\nAuthorization: {authorization}\r\n"
        ).encode()
        self._signed_base = f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n".encode()
        credentials = endpoint.credentials
        self._signer = Signer(credentials, host, content_type, endpoint.region) if credentials else None
        self._heads: dict[str, bytes] = {}

    def render(self, target: str, body: bytes) -> bytes:
        if self._signer is not None:
            date, authorization = self._signer.headers(target, body)
            return (
                b"%sX-Amz-Date: %s\r\nAuthorization: %s\r\nX-Amz-Target: %s\r\nContent-Length: %d\r\n\r\n%s"
                % (
                    self._signed_base,
                    date.encode(),
                    authorization.encode(),
                    target.encode(),
                    len(body),
                    body,
                )
            )
        head = self._heads.get(target)
        if head is None:
            head = self._base + f"X-Amz-Target: {target}\r\nContent-Length: ".encode()
            self._heads[target] = head
        return b"%s%d\r\n\r\n%s" % (head, len(body), body)

    def op(self, op: str, payload: dict[str, Any]) -> bytes:
        return self.render(DYNAMODB + op, orjson.dumps(payload))


class _HttpProtocol(asyncio.Protocol):
    """Parses one response at a time (Content-Length or chunked bodies)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.must_close = False
        self._status = 0
        self._length = -1
        self._chunked = False
        self._body_at = -1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self._body_at < 0 and not self._parse_head():
            return
        if self._chunked:
            done = _dechunk(self.buf, self._body_at)
            if done is not None:
                self._finish(*done)
        elif len(self.buf) >= self._body_at + self._length:
            end = self._body_at + self._length
            self._finish(bytes(self.buf[self._body_at : end]), end)

    def _parse_head(self) -> bool:
        i = self.buf.find(b"\r\n\r\n")
        if i < 0:
            return False
        head = bytes(self.buf[:i]).lower()
        self._status = int(head[9:12])
        self._length = 0
        self._chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name == b"content-length":
                self._length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                self._chunked = True
            elif name == b"connection" and b"close" in value:
                self.must_close = True
        self._body_at = i + 4
        return True

    def _finish(self, body: bytes, end: int) -> None:
        del self.buf[:end]
        self._body_at = -1
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"connection lost: {exc!r}"))


def _dechunk(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    out = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)  # no trailers expected; skip any
            return None if end < 0 else (bytes(out), end + 4)
        if len(buf) < pos + size + 2:
            return None
        out += buf[pos : pos + size]
        pos += size + 2


class Connection:
    """A lazily (re)connected keep-alive connection."""

    __slots__ = ("connects", "endpoint", "proto")

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.proto: _HttpProtocol | None = None
        self.connects = 0

    async def send(self, request: bytes) -> tuple[int, bytes]:
        proto = self.proto
        if proto is None or proto.closed:
            loop = asyncio.get_running_loop()
            _, proto = await loop.create_connection(_HttpProtocol, self.endpoint.host, self.endpoint.port)
            self.proto = proto
            self.connects += 1
        waiter: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        proto.waiter = waiter
        if proto.transport is None:
            raise ConnectionError("transport missing after connect")
        proto.transport.write(request)
        try:
            result = await waiter
        except BaseException:
            self.close()
            raise
        if proto.must_close:
            self.close()
        return result

    def close(self) -> None:
        if self.proto is not None and self.proto.transport is not None:
            self.proto.transport.close()
        self.proto = None


def error_type(status: int, body: bytes) -> str:
    """The short `__type` of an error response (`ValidationException`), or `HTTP <status>`."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"HTTP {status}"
    kind = doc.get("__type") if isinstance(doc, dict) else None
    return str(kind).rpartition("#")[2] if kind else f"HTTP {status}"


class ApiError(Exception):
    def __init__(self, op: str, status: int, body: bytes) -> None:
        self.op = op
        self.kind = error_type(status, body)
        message = ""
        try:
            doc = orjson.loads(body)
            message = str(doc.get("Message") or doc.get("message") or "")
        except (orjson.JSONDecodeError, AttributeError):
            message = body[:200].decode("utf-8", "replace")
        super().__init__(f"{op}: {self.kind}: {message}")

    @property
    def unsupported(self) -> bool:
        return self.kind == UNKNOWN_OPERATION


class Client:
    """Sequential JSON calls for setup, verification and stream draining."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.builder = RequestBuilder(endpoint)
        self.conn = Connection(endpoint)

    async def call(self, op: str, payload: dict[str, Any], *, streams: bool = False) -> dict[str, Any]:
        target = (STREAMS if streams else DYNAMODB) + op
        status, body = await self.conn.send(self.builder.render(target, orjson.dumps(payload)))
        if status != 200:
            raise ApiError(op, status, body)
        result: dict[str, Any] = orjson.loads(body)
        return result

    def close(self) -> None:
        self.conn.close()


async def http_get_root(endpoint: Endpoint) -> int:
    """Status of `GET /` (any answer means the server is up)."""
    conn = Connection(endpoint)
    try:
        request = f"GET / HTTP/1.1\r\nHost: {endpoint.host}:{endpoint.port}\r\n\r\n".encode()
        status, _ = await conn.send(request)
        return status
    finally:
        conn.close()
