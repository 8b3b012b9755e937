"""The ASGI application: one POST endpoint dispatching on X-Amz-Target, DynamoDB's error JSON, the
Lambda REST API and Headwater's admin calls beside it.

Written against raw ASGI (no framework): this path runs for every request and stays small.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ..api.context import Handler
from ..core.database import Database
from ..errors import (
    DynamoDBError,
    InternalServerError,
    MissingAuthenticationTokenException,
    RequestEntityTooLarge,
    UnknownOperationException,
)
from ..protocol.targets import content_type, parse_target
from ..protocol.validate import validate_request
from ..protocol.wire import (
    MAX_BODY_BYTES,
    RequestIds,
    crc32_header,
    encode_response,
    error_body,
    parse_body,
)
from . import compression
from .admin_routes import ADMIN_PREFIX, AdminRoutes
from .asgi import Receive, Scope, Send
from .cors import cors_headers, is_preflight
from .lambda_routes import PREFIXES as LAMBDA_PREFIXES
from .lambda_routes import LambdaRoutes

log = logging.getLogger(__name__)

Headers = list[tuple[bytes, bytes]]

CONTENT_TYPE = b"application/x-amz-json-1.0"
SERVER = (b"server", b"Server")  # what DynamoDB calls itself


class HeadwaterApp:
    def __init__(
        self,
        db: Database,
        operations: dict[tuple[str, str], Handler],
        *,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
        lambda_routes: LambdaRoutes | None = None,
        admin_routes: AdminRoutes | None = None,
    ) -> None:
        self.db = db
        self.lambda_routes = lambda_routes
        self.admin_routes = admin_routes or AdminRoutes(db)
        self.request_ids = RequestIds()
        self.operations = operations
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.on_startup is not None:
                        await self.on_startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = self.request_ids.next()
        path = scope["path"]
        if self.lambda_routes is not None and path.startswith(LAMBDA_PREFIXES):
            await self._lambda(self.lambda_routes, scope, receive, send, request_id)
            return
        if path.startswith(ADMIN_PREFIX):
            await self._admin(scope, receive, send, request_id)
            return
        # the DynamoDB and Streams endpoint: every method and path but the health check and a CORS
        # preflight is an API call (DynamoDB Local answers GET /foo as it answers POST /)
        headers = dict(scope["headers"])
        method = scope["method"]
        preflight = is_preflight(method, headers)
        extra = [SERVER, *cors_headers(headers, preflight)]
        if preflight:
            ids = (b"x-amzn-requestid", request_id.encode())
            await _send(send, 200, b"", [(b"content-length", b"0"), ids, *extra])
            return
        if path == "/" and method in ("GET", "HEAD"):
            text = f"healthy: {self.db.settings.endpoint_address} ".encode()
            await _respond(send, 200, text, request_id, b"text/plain", extra)
            return
        try:
            body = await self._read_body(headers, receive)
            status, payload = await self._dispatch(headers, body)
        except DynamoDBError as err:
            status, payload = err.status, error_body(err)
        coding = compression.choose(headers.get(b"accept-encoding"))
        kind = content_type(headers.get(b"x-amz-target"))
        await _respond(send, status, payload, request_id, kind, extra, coding)

    async def _admin(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        try:
            body = await self._read_body(dict(scope["headers"]), receive)
            status, payload = await self.admin_routes.handle(scope["method"], scope["path"], body)
        except DynamoDBError as err:
            status, payload = err.status, error_body(err)
        await _respond(send, status, payload, request_id, CONTENT_TYPE)

    async def _lambda(
        self, routes: LambdaRoutes, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> None:
        """The Lambda REST API (its own paths, error shapes and headers)."""
        headers = dict(scope["headers"])
        try:
            body = await self._read_body(headers, receive)
        except DynamoDBError as err:
            await _respond(send, err.status, error_body(err), request_id, CONTENT_TYPE)
            return
        reply = await routes.handle(scope["method"], scope["path"], scope["query_string"], headers, body)
        out = list(reply.headers)
        if not any(name == b"x-amzn-requestid" for name, _ in out):
            out.append((b"x-amzn-requestid", request_id.encode()))
        out.append((b"content-length", str(len(reply.body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": out})
        await send({"type": "http.response.body", "body": reply.body})

    async def _dispatch(self, headers: dict[bytes, bytes], body: bytes) -> tuple[int, bytes]:
        if b"authorization" not in headers:
            raise MissingAuthenticationTokenException()
        target = headers.get(b"x-amz-target")
        service, operation = parse_target(target.decode("latin-1") if target is not None else None)
        encoding = headers.get(b"content-encoding")
        request = parse_body(body, encoding.decode("latin-1") if encoding is not None else None)
        validate_request(service, operation, request)
        handler = self.operations.get((service, operation))
        if handler is None:
            raise UnknownOperationException()
        try:
            response = await handler(self.db, request)
        except DynamoDBError:
            raise
        except Exception:
            log.exception("%s failed", operation)
            raise InternalServerError() from None
        return 200, encode_response(response)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise RequestEntityTooLarge()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise RequestEntityTooLarge()
                chunks.append(chunk)
            if not message.get("more_body"):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _respond(
    send: Send,
    status: int,
    payload: bytes,
    request_id: str,
    content_type: bytes,
    extra: Headers | None = None,
    coding: str | None = None,
) -> None:
    headers = [(b"content-type", content_type)]
    if coding is not None and len(payload) >= compression.THRESHOLD:
        payload = await compression.compress(payload, coding)
        headers.append((b"content-encoding", coding.encode()))
    headers += [
        (b"content-length", str(len(payload)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
        (b"x-amz-crc32", crc32_header(payload).encode()),  # of the bytes on the wire
    ]
    await _send(send, status, payload, headers + (extra or []))


async def _send(send: Send, status: int, payload: bytes, headers: Headers) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
