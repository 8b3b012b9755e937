"""The HTTP application on one port: DynamoDB's (and Streams') JSON endpoint, the Lambda REST API and
Headwater's admin calls. A plain `Request -> Response` coroutine (http/server.py runs it), no framework:
this path runs for every request and stays small.

Who carries out an API call is not this module's business: `Calls` runs it in this process, or sends it
to the core process that owns the writer (process/front.py). Likewise the Lambda and admin routes
(`control`), which live where the trigger service lives.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any, Protocol

from ..core.namespace import Namespace
from ..errors import DynamoDBError, InternalServerError, RequestEntityTooLarge
from ..metrics.requests import UNKNOWN, RequestCounts
from ..protocol.targets import content_type, parse_target
from ..protocol.validate import validate_request
from ..protocol.wire import RequestIds, crc32_header, error_body, error_type_of, inflate, parse_json
from . import compression
from .admin_routes import ADMIN_PREFIX
from .control import METRICS_PATH
from .cors import cors_headers, is_preflight
from .cross_site import CrossSiteGuard
from .gate import Caller, Gate, OpenGate, signing_name
from .lambda_routes import PREFIXES as LAMBDA_PREFIXES
from .messages import Handler, Headers, Request, Response

log = logging.getLogger(__name__)

CONTENT_TYPE = b"application/x-amz-json-1.0"
SERVER = (b"server", b"Server")  # what DynamoDB calls itself
CONTROL_PREFIXES = (*LAMBDA_PREFIXES, ADMIN_PREFIX)
CONSOLE_PATH = "/console"  # the web console (headwater/console/), a client of this same endpoint

Route = Callable[[Request], Awaitable[Response]]


def is_console(path: str) -> bool:
    return path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")


def with_console(control: Route, console: Route) -> Handler:
    """The core's route for whole requests its fronts forward: the console's, or the control routes'."""

    async def route(request: Request) -> Response:
        return await (console if is_console(request.path) else control)(request)

    return route


class Calls(Protocol):
    """Carries out one validated API call; the answer is (HTTP status, JSON body), errors included."""

    async def run(
        self, namespace: Namespace, service: str, operation: str, request: dict[str, Any], body: bytes
    ) -> tuple[int, bytes]:
        """`body` is the request's JSON text (decompressed), `request` the same parsed; `namespace` the
        account and region the request speaks for."""
        ...


class Authorization(Protocol):
    def check(self, caller: Caller, service: str, operation: str, request: dict[str, Any]) -> None:
        """Raise the error that refuses the call (AccessDeniedException), or return."""
        ...


class HeadwaterApp:
    def __init__(
        self,
        calls: Calls,
        control: Route | None,
        health: bytes,
        namespace: Namespace,
        guard: CrossSiteGuard | None = None,
        *,
        gate: Gate | None = None,
        authorization: Authorization | None = None,
        counts: RequestCounts | None = None,
        console: Route | None = None,
    ) -> None:
        self.calls = calls
        self.namespace = namespace  # the server's default account and region
        self.gate = gate or OpenGate(namespace)  # who is asking (--auth sigv4 | off)
        self.authorization = authorization  # may they (None: nothing is checked)
        self.control = control
        self.health = health
        self.guard = guard or CrossSiteGuard(loopback_only=False)
        self.request_ids = RequestIds()
        self.counts = counts or RequestCounts()  # this process's requests, for /metrics
        self.console = console  # /console/...: the web console (None: not served)

    async def __call__(self, request: Request) -> Response:
        """The server's handler. Nothing escapes it: an unexpected error is a logged 500 with DynamoDB's
        InternalServerError body, never a dropped connection."""
        try:
            return await self._route(request)
        except Exception:
            log.exception("unexpected error answering %s %s", request.method, request.path)
            return self._json(500, error_body(InternalServerError()), self.request_ids.next(), [])

    async def _route(self, request: Request) -> Response:
        path = request.path
        metrics = path == METRICS_PATH and request.method == "GET"
        if metrics or path.startswith(CONTROL_PREFIXES):
            if self.control is None:
                return self._json(404, b'{"message":"Not found"}', self.request_ids.next(), [])
            # /metrics only reads, and a scraper sends it unsigned unless --auth sigv4 asks for more
            refused = self.guard.check_read(request) if metrics else self.guard.check(request)
            if refused is not None:  # before the request goes anywhere (a front forwards the rest)
                response = refused.response()
                response.headers.append((b"x-amzn-requestid", self.request_ids.next().encode()))
                return response
            return await self.control(request)
        if self.console is not None and is_console(path):
            return await self.console(request)  # it checks its own requests (console/app.py)
        # the DynamoDB and Streams endpoint: every method and path but the health check and a CORS
        # preflight is an API call (DynamoDB Local answers GET /foo as it answers POST /)
        request_id = self.request_ids.next()
        headers = request.headers
        method = request.method
        if b"origin" in headers:
            preflight = is_preflight(method, headers)
            extra = [SERVER, *cors_headers(headers, preflight)]
            if preflight:
                return Response(200, b"", [(b"x-amzn-requestid", request_id.encode()), *extra])
        else:
            extra = [SERVER]
        if path == "/" and method in ("GET", "HEAD"):
            return Response(200, self.health, [(b"content-type", b"text/plain"), *extra])
        try:
            status, payload = await self._dispatch(request)
        except DynamoDBError as err:
            status, payload = err.status, error_body(err)
        coding = compression.choose(headers.get(b"accept-encoding"))
        if coding is not None and len(payload) >= compression.THRESHOLD:
            payload = await compression.compress(payload, coding)
            extra.append((b"content-encoding", coding.encode()))
        return self._json(status, payload, request_id, extra, content_type(headers.get(b"x-amz-target")))

    async def _dispatch(self, request: Request) -> tuple[int, bytes]:
        """The call's answer, counted (service, operation, error type, seconds) for /metrics."""
        started = perf_counter()
        service = operation = UNKNOWN
        try:
            headers = request.headers
            target = headers.get(b"x-amz-target")
            caller = self.gate.caller(request, signing_name(target))  # before anything reads the body
            service, operation = parse_target(target.decode("latin-1") if target is not None else None)
            encoding = headers.get(b"content-encoding")
            body = inflate(request.body, encoding.decode("latin-1") if encoding is not None else None)
            parsed = parse_json(body)
            validate_request(service, operation, parsed)
            if self.authorization is not None:
                self.authorization.check(caller, service, operation, parsed)
            status, payload = await self.calls.run(caller.namespace, service, operation, parsed, body)
        except DynamoDBError as err:
            self.counts.observe(service, operation, perf_counter() - started, err.type_name)
            raise
        error = None if status < 300 else error_type_of(payload) or UNKNOWN
        self.counts.observe(service, operation, perf_counter() - started, error)
        return status, payload

    def refusal(self, status: int, text: str) -> Response:
        """The answer to a request the HTTP server refuses before the app sees it (too large, malformed,
        too slow): DynamoDB's error for a body over 16 MB, plain text otherwise."""
        if status == 413:
            return self._json(413, error_body(RequestEntityTooLarge()), self.request_ids.next(), [SERVER])
        return Response(status, text.encode(), [(b"content-type", b"text/plain"), SERVER])

    @staticmethod
    def _json(
        status: int, payload: bytes, request_id: str, extra: Headers, kind: bytes = CONTENT_TYPE
    ) -> Response:
        headers = [
            (b"content-type", kind),
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-amz-crc32", crc32_header(payload).encode()),  # of the bytes on the wire
            *extra,
        ]
        return Response(status, payload, headers)
