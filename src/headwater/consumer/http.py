"""Streams (AWS JSON 1.0) or Kinesis (JSON 1.1) over keep-alive HTTP/1.1 connections (plain, or TLS for an
https endpoint), SigV4-signed by botocore."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .errors import StreamsError
from .transport import Wire

log = logging.getLogger(__name__)

TARGET_PREFIX = "DynamoDBStreams_20120810."
# service -> (target prefix, content type, signing name)
SERVICES = {
    "dynamodbstreams": (TARGET_PREFIX, "application/x-amz-json-1.0", "dynamodb"),
    "kinesis": ("Kinesis_20131202.", "application/x-amz-json-1.1", "kinesis"),
    "dynamodb": ("DynamoDB_20120810.", "application/x-amz-json-1.0", "dynamodb"),  # a global table's peer
}


def tls_client(ca: Path | None) -> ssl.SSLContext:
    """What https servers are verified with: `ca` (a file of PEM certificates), or the system's CAs.
    A file that holds none raises ValueError saying so."""
    if ca is None:
        return ssl.create_default_context()
    try:
        pem = ca.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the CA file {ca}: {exc.strerror or exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError(f"the CA file {ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        return ssl.create_default_context(cadata=pem.decode("ascii", "replace"))
    except ssl.SSLError as exc:
        raise ValueError(f"cannot load the CA file {ca} (is it valid PEM?): {exc}") from None


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value.strip())
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            parts: list[bytes] = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            return status, b"".join(parts)
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        self.writer.close()


class HttpTransport:
    """A small pool of keep-alive connections to one endpoint (e.g. http://127.0.0.1:8000)."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str = "us-east-1",
        access_key: str = "headwater",
        secret_key: str = "headwater",
        timeout: float = 30.0,
        service: str = "dynamodbstreams",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls`: what an https endpoint's certificate is verified with (default: the system's CAs)."""
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// endpoint, got {endpoint_url!r}")
        self._host = parts.hostname
        secure = parts.scheme == "https"
        self._port = parts.port or (443 if secure else 80)
        self._tls = (tls or ssl.create_default_context()) if secure else None
        self._url = f"{parts.scheme}://{parts.netloc}/"
        self._netloc = parts.netloc
        self._prefix, self._content_type, signing = SERVICES[service]
        self._signer = SigV4Auth(Credentials(access_key, secret_key), signing, region)
        self._timeout = timeout
        self._idle: list[_Connection] = []

    async def _connection(self) -> _Connection:
        if self._idle:
            return self._idle.pop()
        if self._tls is None:
            reader, writer = await asyncio.open_connection(self._host, self._port)
        else:
            reader, writer = await asyncio.open_connection(
                self._host, self._port, ssl=self._tls, server_hostname=self._host
            )
        return _Connection(reader, writer)

    def _head(self, operation: str, body: bytes) -> bytes:
        request = AWSRequest(
            method="POST",
            url=self._url,
            data=body,
            headers={
                "Content-Type": self._content_type,
                "X-Amz-Target": self._prefix + operation,
                "Host": self._netloc,
            },
        )
        self._signer.add_auth(request)
        lines = [b"POST / HTTP/1.1"]
        lines.extend(f"{name}: {value}".encode("latin-1") for name, value in request.headers.items())
        lines.append(f"Content-Length: {len(body)}".encode())
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def call(self, operation: str, request: Wire) -> Wire:
        body = orjson.dumps(request)
        head = self._head(operation, body)
        for attempt in (1, 2):
            try:
                conn = await self._connection()
            except OSError as exc:  # nobody listening (a server down), or TLS refused: as a lost one
                raise StreamsError("ConnectionError", str(exc), 599) from None
            try:
                status, payload = await asyncio.wait_for(conn.request(head, body), self._timeout)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                conn.close()
                if attempt == 1:
                    continue  # a stale keep-alive connection: retry once on a fresh one
                raise StreamsError("ConnectionError", str(exc), 599) from None
            self._idle.append(conn)
            decoded: Wire = orjson.loads(payload) if payload else {}
            if status >= 300:
                kind = str(decoded.get("__type", "UnknownError")).rpartition("#")[2]
                message = decoded.get("message", decoded.get("Message", ""))
                raise StreamsError(kind, str(message), status)
            return decoded
        raise AssertionError("unreachable")

    async def list_streams(self, request: Wire) -> Wire:
        return await self.call("ListStreams", request)

    async def describe_stream(self, request: Wire) -> Wire:
        return await self.call("DescribeStream", request)

    async def get_shard_iterator(self, request: Wire) -> Wire:
        return await self.call("GetShardIterator", request)

    async def get_records(self, request: Wire) -> Wire:
        return await self.call("GetRecords", request)

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
