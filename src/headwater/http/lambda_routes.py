"""The Lambda REST API subset on the DynamoDB endpoint (paths under /2015-03-31/; /2018-10-31/ for
layers; /2017-10-31/, /2019-09-30/ and /2016-08-19/ for concurrency and account settings), answering with
Lambda's error shapes: an `x-amzn-ErrorType` header and a {"Type", "message"} body. A request is answered
in its namespace (`NamespacedLambdaRoutes`): the functions, layers and mappings of the account and region
it speaks for."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

import orjson

from ..core.namespace import Namespace
from ..triggers import params
from ..triggers.errors import InvalidRequestContentException, LambdaError, ServiceException
from ..triggers.model import FunctionConfig, MappingConfig
from ..triggers.namespaces import TriggerServices
from ..triggers.service import TriggerService
from .identity import namespace_of

log = logging.getLogger(__name__)

FUNCTIONS = "/2015-03-31/"
LAYERS = "/2018-10-31/"
CONCURRENCY = "/2017-10-31/"  # Put/DeleteFunctionConcurrency
CONCURRENCY_READ = "/2019-09-30/"  # GetFunctionConcurrency
ACCOUNT = "/2016-08-19/"  # GetAccountSettings
PREFIXES = (FUNCTIONS, LAYERS, CONCURRENCY, CONCURRENCY_READ, ACCOUNT)
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: Headers


def _json(status: int, doc: Any, headers: Headers | None = None) -> Reply:
    return Reply(status, orjson.dumps(doc), [(b"content-type", b"application/json"), *(headers or [])])


class UnknownRoute(LambdaError):
    status = 404


Route = Callable[["LambdaRoutes", "Call"], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Call:
    params: tuple[str, ...]
    query: dict[str, str]
    headers: dict[bytes, bytes]
    body: bytes

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            doc = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise InvalidRequestContentException("Could not parse request body into json") from None
        if not isinstance(doc, dict):
            raise InvalidRequestContentException("Could not parse request body into json")
        return doc

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else None


class LambdaRoutes:
    def __init__(self, service: TriggerService) -> None:
        self.service = service

    @property
    def region(self) -> str:
        return self.service.settings.region

    @property
    def account(self) -> str:
        return self.service.settings.account_id

    def fn_wire(self, fn: FunctionConfig) -> dict[str, Any]:
        return fn.to_wire(self.region, self.account)

    def esm_wire(self, mapping: MappingConfig, state: str | None = None) -> dict[str, Any]:
        return self.service.last_result(mapping).to_wire(self.region, self.account, state)

    async def handle(
        self, method: str, path: str, query_string: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> Reply:
        try:
            route, params = _match(method, path)
            query = {k: v[0] for k, v in parse_qs(query_string.decode("latin-1")).items()}
            return await route(self, Call(params, query, headers, body))
        except LambdaError as err:
            return error_reply(err)
        except Exception:
            log.exception("%s %s failed", method, path)
            internal = ServiceException("An internal error occurred.")
            return _json(internal.status, internal.to_wire(), [(b"x-amzn-errortype", b"ServiceException")])

    # functions ----------------------------------------------------------------------------------

    async def create_function(self, call: Call) -> Reply:
        return _json(201, self.fn_wire(await self.service.create_function(call.json())))

    async def list_functions(self, call: Call) -> Reply:
        items = [self.fn_wire(fn) for fn in self.service.list_functions()]
        return _json(200, _page(items, call.query, "Functions", 50))

    async def get_function(self, call: Call) -> Reply:
        fn = self.service.require_function(call.params[0])
        # no Location: Lambda's is a presigned URL to download the package, and the package here is a
        # directory on the server's host, whose path is nobody else's business
        answer: dict[str, Any] = {"Configuration": self.fn_wire(fn), "Code": {"RepositoryType": "S3"}}
        if fn.reserved_concurrency is not None:
            answer["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved_concurrency}
        return _json(200, answer)

    async def get_configuration(self, call: Call) -> Reply:
        return _json(200, self.fn_wire(self.service.require_function(call.params[0])))

    async def update_configuration(self, call: Call) -> Reply:
        return _json(200, self.fn_wire(await self.service.update_configuration(call.params[0], call.json())))

    async def update_code(self, call: Call) -> Reply:
        return _json(200, self.fn_wire(await self.service.update_code(call.params[0], call.json())))

    async def delete_function(self, call: Call) -> Reply:
        await self.service.delete_function(call.params[0])
        return Reply(204, b"", [])

    async def invoke(self, call: Call) -> Reply:
        kind = call.header(b"x-amz-invocation-type") or "RequestResponse"
        name = call.params[0]
        if kind == "DryRun":
            self.service.require_function(name)
            return Reply(204, b"", [])
        if kind == "Event":
            request_id = self.service.invoke_event(name, call.body)
            return Reply(202, b"", [(b"x-amzn-requestid", request_id.encode())])
        if kind != "RequestResponse":
            from ..triggers.errors import ValidationException

            raise ValidationException(
                f"1 validation error detected: Value '{kind}' at 'invocationType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )
        tail = (call.header(b"x-amz-log-type") or "None") == "Tail"
        result = await self.service.invoke(name, call.body, tail=tail)
        headers: Headers = [
            (b"content-type", b"application/json"),
            (b"x-amz-executed-version", b"$LATEST"),
            (b"x-amzn-requestid", result.request_id.encode()),
        ]
        if result.function_error:
            headers.append((b"x-amz-function-error", result.function_error.encode()))
        if tail:
            text = (result.log_tail or "").encode()[-4096:]
            headers.append((b"x-amz-log-result", base64.b64encode(text)))
        return Reply(200, result.payload, headers)

    # concurrency --------------------------------------------------------------------------------

    async def put_concurrency(self, call: Call) -> Reply:
        value = await self.service.put_concurrency(call.params[0], call.json())
        return _json(200, {"ReservedConcurrentExecutions": value})

    async def get_concurrency(self, call: Call) -> Reply:
        value = self.service.require_function(call.params[0]).reserved_concurrency
        return _json(200, {"ReservedConcurrentExecutions": value} if value is not None else {})

    async def delete_concurrency(self, call: Call) -> Reply:
        await self.service.delete_concurrency(call.params[0])
        return Reply(204, b"", [])

    async def account_settings(self, call: Call) -> Reply:
        return _json(200, self.service.account_settings())

    async def function_logs(self, call: Call) -> Reply:
        data, offset = self.service.read_log(call.params[0], int(call.query.get("offset", "0") or 0))
        return _json(200, {"data": data.decode("utf-8", "replace"), "offset": offset})

    # event source mappings ----------------------------------------------------------------------

    async def create_mapping(self, call: Call) -> Reply:
        return _json(202, self.esm_wire(await self.service.create_mapping(call.json()), "Creating"))

    async def list_mappings(self, call: Call) -> Reply:
        found = self.service.list_mappings(call.query.get("FunctionName"), call.query.get("EventSourceArn"))
        items = [self.esm_wire(m) for m in found]
        return _json(200, _page(items, call.query, "EventSourceMappings", 100))

    async def get_mapping(self, call: Call) -> Reply:
        return _json(200, self.esm_wire(self.service.require_mapping(call.params[0])))

    async def update_mapping(self, call: Call) -> Reply:
        mapping = await self.service.update_mapping(call.params[0], call.json())
        return _json(202, self.esm_wire(mapping, "Updating"))

    async def delete_mapping(self, call: Call) -> Reply:
        return _json(202, self.esm_wire(await self.service.delete_mapping(call.params[0]), "Deleting"))

    async def mapping_failures(self, call: Call) -> Reply:
        return _json(200, {"Failures": await self.service.failures(call.params[0])})

    # layers -------------------------------------------------------------------------------------

    async def publish_layer_version(self, call: Call) -> Reply:
        layers = self.service.layers
        return _json(201, layers.wire(await layers.publish(call.params[0], call.json())))

    async def get_layer_version(self, call: Call) -> Reply:
        layers = self.service.layers
        return _json(
            200, layers.wire(layers.get(call.params[0], params.layer_version_number(call.params[1])))
        )

    async def list_layers(self, call: Call) -> Reply:
        """ListLayers, or GetLayerVersionByArn (the same path with ?find=LayerVersion&Arn=...)."""
        layers = self.service.layers
        if call.query.get("find") == "LayerVersion":
            return _json(200, layers.wire(layers.get_by_arn(call.query.get("Arn"))))
        runtime, architecture = params.layer_filters(call.query)
        size = params.max_items(call.query, 50, 50)
        return _json(200, _page(layers.list_layers(runtime, architecture), call.query, "Layers", size))

    async def list_layer_versions(self, call: Call) -> Reply:
        runtime, architecture = params.layer_filters(call.query)
        size = params.max_items(call.query, 50, 50)
        found = self.service.layers.list_versions(call.params[0], runtime, architecture)
        return _json(200, _page(found, call.query, "LayerVersions", size))

    async def delete_layer_version(self, call: Call) -> Reply:
        await self.service.layers.delete(call.params[0], params.layer_version_number(call.params[1]))
        return Reply(204, b"", [])


class NamespacedLambdaRoutes:
    """The Lambda API as the caller's namespace sees it: with `--auth sigv4` the verified principal's
    account and the region it signed for; with `--auth off` the region it signed for, the server's account."""

    def __init__(self, services: TriggerServices) -> None:
        self.services = services

    async def handle(
        self,
        method: str,
        path: str,
        query_string: bytes,
        headers: dict[bytes, bytes],
        body: bytes,
        namespace: Namespace | None = None,
    ) -> Reply:
        """`namespace`: the verified caller's under `--auth sigv4`; None takes the one the request claims."""
        if namespace is None:
            namespace = namespace_of(headers.get(b"authorization"), self.services.default_namespace)
        try:
            service = await self.services.get(namespace)
        except LambdaError as err:
            return error_reply(err)
        return await LambdaRoutes(service).handle(method, path, query_string, headers, body)


def error_reply(err: LambdaError) -> Reply:
    return _json(err.status, err.to_wire(), [(b"x-amzn-errortype", err.type_name.encode())])


def _page(items: list[dict[str, Any]], query: dict[str, str], key: str, default: int) -> dict[str, Any]:
    start = int(query["Marker"]) if query.get("Marker", "").isdigit() else 0
    size = int(query["MaxItems"]) if query.get("MaxItems", "").isdigit() else default
    size = max(1, min(size, 10000))
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out


_CONCURRENCY = re.compile(r"^functions/([^/]+)/concurrency/?$")
_ROUTES: list[tuple[str, str, re.Pattern[str], Route]] = [
    ("POST", FUNCTIONS, re.compile(r"^functions/?$"), LambdaRoutes.create_function),
    ("GET", FUNCTIONS, re.compile(r"^functions/?$"), LambdaRoutes.list_functions),
    ("GET", FUNCTIONS, re.compile(r"^functions/([^/]+)/?$"), LambdaRoutes.get_function),
    ("DELETE", FUNCTIONS, re.compile(r"^functions/([^/]+)/?$"), LambdaRoutes.delete_function),
    ("GET", FUNCTIONS, re.compile(r"^functions/([^/]+)/configuration/?$"), LambdaRoutes.get_configuration),
    ("PUT", FUNCTIONS, re.compile(r"^functions/([^/]+)/configuration/?$"), LambdaRoutes.update_configuration),
    ("PUT", FUNCTIONS, re.compile(r"^functions/([^/]+)/code/?$"), LambdaRoutes.update_code),
    ("POST", FUNCTIONS, re.compile(r"^functions/([^/]+)/invocations/?$"), LambdaRoutes.invoke),
    ("GET", FUNCTIONS, re.compile(r"^functions/([^/]+)/headwater-logs/?$"), LambdaRoutes.function_logs),
    ("POST", FUNCTIONS, re.compile(r"^event-source-mappings/?$"), LambdaRoutes.create_mapping),
    ("GET", FUNCTIONS, re.compile(r"^event-source-mappings/?$"), LambdaRoutes.list_mappings),
    ("GET", FUNCTIONS, re.compile(r"^event-source-mappings/([^/]+)/?$"), LambdaRoutes.get_mapping),
    ("PUT", FUNCTIONS, re.compile(r"^event-source-mappings/([^/]+)/?$"), LambdaRoutes.update_mapping),
    ("DELETE", FUNCTIONS, re.compile(r"^event-source-mappings/([^/]+)/?$"), LambdaRoutes.delete_mapping),
    (
        "GET",
        FUNCTIONS,
        re.compile(r"^event-source-mappings/([^/]+)/headwater-failures/?$"),
        LambdaRoutes.mapping_failures,
    ),
    ("PUT", CONCURRENCY, _CONCURRENCY, LambdaRoutes.put_concurrency),
    ("DELETE", CONCURRENCY, _CONCURRENCY, LambdaRoutes.delete_concurrency),
    ("GET", CONCURRENCY_READ, _CONCURRENCY, LambdaRoutes.get_concurrency),
    ("GET", ACCOUNT, re.compile(r"^account-settings/?$"), LambdaRoutes.account_settings),
    ("GET", LAYERS, re.compile(r"^layers/?$"), LambdaRoutes.list_layers),
    ("POST", LAYERS, re.compile(r"^layers/([^/]+)/versions/?$"), LambdaRoutes.publish_layer_version),
    ("GET", LAYERS, re.compile(r"^layers/([^/]+)/versions/?$"), LambdaRoutes.list_layer_versions),
    ("GET", LAYERS, re.compile(r"^layers/([^/]+)/versions/(-?\d+)/?$"), LambdaRoutes.get_layer_version),
    ("DELETE", LAYERS, re.compile(r"^layers/([^/]+)/versions/(-?\d+)/?$"), LambdaRoutes.delete_layer_version),
]


def _match(method: str, path: str) -> tuple[Route, tuple[str, ...]]:
    for verb, prefix, pattern, route in _ROUTES:
        found = pattern.match(path[len(prefix) :]) if path.startswith(prefix) else None
        if found and verb == method:
            return route, tuple(unquote(g) for g in found.groups())
    raise UnknownRoute(f"No Lambda operation at {method} {path}")


def route_of(method: str, path: str) -> tuple[str, tuple[str, ...]] | None:
    """The name of the route a request takes (`create_function`...) and its path parameters, or None:
    what authorization maps to a `lambda:` action (http/control_auth.py)."""
    try:
        route, params = _match(method, path)
    except UnknownRoute:
        return None
    return route.__name__, params
