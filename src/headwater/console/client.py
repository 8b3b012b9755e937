"""The console's only way into Headwater: its public endpoint over HTTP, each request SigV4-signed with the
signed-in principal's credentials (botocore signs; the request goes out on asyncio, so the server that
runs the console can answer it). What the principal may not do, the API refuses with its own error."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # a Scan page is at most 1 MB of items; metrics and logs are small
MAX_HEADER_BYTES = 64 * 1024
TIMEOUT_SECONDS = 30.0
JSON_10 = "application/x-amz-json-1.0"
JSON_11 = "application/x-amz-json-1.1"


@dataclass(frozen=True, slots=True)
class Principal:
    """Whose credentials sign the console's calls, and the region they speak for."""

    access_key: str
    secret_key: str
    region: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where Headwater's public endpoint listens (a wildcard address is reached on loopback)."""

    host: str
    port: int
    tls: bool = False

    @property
    def connect_host(self) -> str:
        return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)

    @property
    def netloc(self) -> str:
        host = self.connect_host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


class ApiError(Exception):
    """An error answer of the API, as the API gave it: the HTTP status, the error's type, its message."""

    def __init__(self, status: int, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.status = status
        self.type_name = type_name
        self.message = message


def _error_of(status: int, headers: dict[str, str], body: bytes) -> ApiError:
    """DynamoDB's {"__type": "...#Name", "message"} or Lambda's x-amzn-ErrorType + {"Type", "message"}."""
    try:
        doc = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    kind = str(doc.get("__type") or headers.get("x-amzn-errortype", "") or f"HTTP {status}")
    kind = kind.rpartition("#")[2].partition(":")[0]
    message = doc.get("message") or doc.get("Message") or body.decode("utf-8", "replace")[:500]
    return ApiError(status, kind, str(message))


class ApiClient:
    """The public API as one principal sees it."""

    def __init__(self, endpoint: Endpoint, principal: Principal) -> None:
        self.endpoint = endpoint
        self.principal = principal

    async def dynamodb(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        return await self._json_call("DynamoDB_20120810", operation, request)

    async def streams(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        return await self._json_call("DynamoDBStreams_20120810", operation, request)

    async def lambda_api(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A Lambda REST call (`path` under /2015-03-31/...); path parameters are quoted here."""
        data = orjson.dumps(body) if body is not None else b""
        query_string = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in (query or {}).items())
        status, headers, payload = await self._send(
            "lambda", method, path, query_string, {"Content-Type": "application/json"}, data
        )
        if status >= 300:
            raise _error_of(status, headers, payload)
        return _json_object(payload)

    async def invoke(self, function: str, payload: dict[str, Any]) -> str | None:
        """A synchronous Invoke: None when the handler succeeded, else its X-Amz-Function-Error and answer."""
        path = f"/2015-03-31/functions/{quote(function, safe='')}/invocations"
        headers = {"Content-Type": "application/json"}
        status, answer, body = await self._send("lambda", "POST", path, "", headers, orjson.dumps(payload))
        if status >= 300:
            raise _error_of(status, answer, body)
        error = answer.get("x-amz-function-error")
        return None if error is None else f"{error}: {body.decode('utf-8', 'replace')[:2000]}"

    async def metrics(self) -> str:
        """GET /metrics (Prometheus's text format), signed: --auth sigv4 asks for headwater:GetMetrics."""
        status, headers, payload = await self._send("dynamodb", "GET", "/metrics", "", {}, b"")
        if status >= 300:
            raise _error_of(status, headers, payload)
        return payload.decode("utf-8", "replace")

    async def dax(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """A DAX control-plane call (JSON 1.1, AmazonDAXV3.<operation>), signed for `dax`."""
        return await self._json_call("AmazonDAXV3", operation, request, service="dax", content_type=JSON_11)

    async def admin(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        """POST /_headwater/<name> (Headwater's admin calls), signed: each has its headwater:* action."""
        headers = {"Content-Type": "application/json"}
        status, answer_headers, payload = await self._send(
            "dynamodb", "POST", f"/_headwater/{quote(name, safe='/')}", "", headers, orjson.dumps(request)
        )
        if status >= 300:
            raise _error_of(status, answer_headers, payload)
        return _json_object(payload)

    async def _json_call(
        self,
        prefix: str,
        operation: str,
        request: dict[str, Any],
        *,
        service: str = "dynamodb",
        content_type: str = JSON_10,
    ) -> dict[str, Any]:
        headers = {"Content-Type": content_type, "X-Amz-Target": f"{prefix}.{operation}"}
        status, answer_headers, payload = await self._send(
            service, "POST", "/", "", headers, orjson.dumps(request)
        )
        if status >= 300:
            raise _error_of(status, answer_headers, payload)
        return _json_object(payload)

    async def _send(
        self, service: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        endpoint = self.endpoint
        url = f"{'https' if endpoint.tls else 'http'}://{endpoint.netloc}{path}" + (
            f"?{query}" if query else ""
        )
        request = AWSRequest(method=method, url=url, data=body, headers={**headers, "Host": endpoint.netloc})
        principal = self.principal
        credentials = Credentials(principal.access_key, principal.secret_key)
        SigV4Auth(credentials, service, principal.region).add_auth(request)
        head = f"{method} {path}{'?' + query if query else ''} HTTP/1.1\r\n"
        lines = [f"{name}: {value}" for name, value in request.headers.items()]
        if any("\r" in line or "\n" in line for line in lines):  # never a header of the caller's making
            raise ApiError(400, "ValidationException", "a header value holds a line break")
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        raw = (head + "\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        return await asyncio.wait_for(self._exchange(raw), TIMEOUT_SECONDS)

    async def _exchange(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        endpoint = self.endpoint
        context = None
        if endpoint.tls:  # this server's own certificate, reached on its own address
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        reader, writer = await asyncio.open_connection(
            endpoint.connect_host, endpoint.port, ssl=context, limit=MAX_HEADER_BYTES
        )
        try:
            writer.write(raw)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            headers: dict[str, str] = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                return status, headers, await _read_chunked(reader)
            length = int(headers.get("content-length", "0"))
            if length > MAX_RESPONSE_BYTES:
                raise ApiError(502, "ResponseTooLarge", f"the API answered {length} bytes")
            return status, headers, await reader.readexactly(length)
        finally:
            writer.close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return bytes(body)
        if len(body) + size > MAX_RESPONSE_BYTES:
            raise ApiError(502, "ResponseTooLarge", "the API's answer is too large")
        body += await reader.readexactly(size)
        await reader.readline()


def _json_object(payload: bytes) -> dict[str, Any]:
    if not payload.strip():
        return {}
    doc = orjson.loads(payload)
    return doc if isinstance(doc, dict) else {"value": doc}
