"""The control routes: the Lambda REST API and Headwater's admin calls, answered where the trigger service
and the background work live (the core process)."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from ..errors import DynamoDBError
from ..metrics.requests import UNKNOWN, RequestCounts
from ..protocol.wire import RequestIds, crc32_header, error_body, error_type_of
from .admin_routes import AdminRoutes
from .control_auth import ControlAuth, admin_action, lambda_action
from .lambda_routes import PREFIXES as LAMBDA_PREFIXES
from .lambda_routes import NamespacedLambdaRoutes, route_of
from .messages import Request, Response

CONTENT_TYPE = b"application/x-amz-json-1.0"
METRICS_PATH = "/metrics"  # Prometheus's (GET), answered here: the core's numbers cover every process
METRICS_TYPE = b"text/plain; version=0.0.4; charset=utf-8"  # Prometheus's text exposition format


class ControlRoutes:
    def __init__(
        self,
        lambda_routes: NamespacedLambdaRoutes | None,
        admin_routes: AdminRoutes,
        auth: ControlAuth | None = None,
        metrics: Callable[[], bytes] | None = None,
        *,
        metrics_public: bool = False,
        counts: RequestCounts | None = None,
    ) -> None:
        self.lambda_routes = lambda_routes
        self.admin_routes = admin_routes
        self.auth = auth  # --auth sigv4: verified and authorized as the DynamoDB API is (control_auth.py)
        self.request_ids = RequestIds()
        self.metrics = metrics  # renders /metrics
        self.metrics_public = metrics_public  # --metrics-public: no signature asked even with --auth sigv4
        self.counts = counts or RequestCounts()  # the Lambda and admin calls answered, for /metrics

    async def __call__(self, request: Request) -> Response:
        request_id = self.request_ids.next().encode()
        if request.path == METRICS_PATH and request.method == "GET":
            return self._metrics(request, request_id)
        started = perf_counter()
        response = await self._answer(request, request_id)
        self._count(request, response, perf_counter() - started)
        return response

    def _count(self, request: Request, response: Response, seconds: float) -> None:
        """Counted as API calls are: service `lambda` (the route's IAM action) or `headwater` (admin)."""
        path = request.path
        if path.startswith(LAMBDA_PREFIXES):
            service, route = "lambda", route_of(request.method, path)
            operation = UNKNOWN if route is None else lambda_action(route[0])
            error = None
            if response.status >= 300:
                found = next((v for k, v in response.headers if k == b"x-amzn-errortype"), None)
                error = found.decode("latin-1").partition(":")[0] if found else UNKNOWN
        else:
            service, operation = "headwater", admin_action(path) or UNKNOWN
            error = None if response.status < 300 else error_type_of(response.body) or UNKNOWN
        self.counts.observe(service, operation, seconds, error)

    async def _answer(self, request: Request, request_id: bytes) -> Response:
        if self.lambda_routes is not None and request.path.startswith(LAMBDA_PREFIXES):
            namespace = None  # --auth off: the region the request claims (http/identity.py)
            if self.auth is not None:
                caller = self.auth.lambda_caller(request)
                if isinstance(caller, Response):
                    caller.headers.append((b"x-amzn-requestid", request_id))
                    return caller
                namespace = caller.namespace  # the verified principal's account, the signed region
            reply = await self.lambda_routes.handle(
                request.method, request.path, request.query, request.headers, request.body, namespace
            )
            headers = list(reply.headers)
            if not any(name == b"x-amzn-requestid" for name, _ in headers):
                headers.append((b"x-amzn-requestid", request_id))
            return Response(reply.status, reply.body, headers)
        try:
            status, payload = await self._admin(request)
        except DynamoDBError as err:
            status, payload = err.status, error_body(err)
        headers = [
            (b"content-type", CONTENT_TYPE),
            (b"x-amzn-requestid", request_id),
            (b"x-amz-crc32", crc32_header(payload).encode()),
        ]
        return Response(status, payload, headers)

    def _metrics(self, request: Request, request_id: bytes) -> Response:
        """Prometheus's text format; under --auth sigv4 a request signed by a principal allowed
        headwater:GetMetrics (unless --metrics-public)."""
        if self.auth is not None and not self.metrics_public:
            refused = self.auth.metrics_refusal(request)
            if refused is not None:
                status, payload = refused
                headers = [(b"content-type", CONTENT_TYPE), (b"x-amzn-requestid", request_id)]
                return Response(status, payload, headers)
        if self.metrics is None:
            return Response(404, b'{"message":"Not found"}', [(b"x-amzn-requestid", request_id)])
        return Response(
            200, self.metrics(), [(b"content-type", METRICS_TYPE), (b"x-amzn-requestid", request_id)]
        )

    async def _admin(self, request: Request) -> tuple[int, bytes]:
        account = None  # --auth off: the server's default account
        if self.auth is not None:
            caller = self.auth.admin_caller(request)
            if isinstance(caller, tuple):
                return caller  # refused
            account = caller.namespace.account  # the verified principal's
        return await self.admin_routes.handle(request.method, request.path, request.body, account)
