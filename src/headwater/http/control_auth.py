"""The Lambda and admin routes under `--auth sigv4`: verified and authorized like the DynamoDB API.

- Lambda (`/2015-03-31/...`, `/2018-10-31/...`) is signed for service `lambda` (5 minutes of clock skew;
  the body's hash is signed, as botocore's lambda client does, except `UNSIGNED-PAYLOAD` over TLS). Each
  route is a `lambda:` action on the function, event source mapping or layer ARN (list operations and
  CreateEventSourceMapping on `*`). Refusals have Lambda's shape: 403, `x-amzn-ErrorType`, a JSON
  `message` (`Message` for AccessDeniedException). A function's `Role` must name a role of the
  credentials file ("The role defined for the function cannot be assumed by Lambda."), and the caller
  needs `iam:PassRole` on it, as on AWS.
- Admin (`/_headwater/...`, Headwater's own) is signed for service `dynamodb` (any DynamoDB client's
  credentials sign it) and each call is a `headwater:` action: RolloverStream and AddSink on the table's
  ARN, SweepTimeToLive, RemoveSink, ListSinks and DescribeSinks on `*`. A policy grants them by name,
  with `headwater:*`, or with `*`.
- `GET /metrics` is signed for `dynamodb` too, and is `headwater:GetMetrics` on `*` (unless the server
  runs with `--metrics-public`, for a Prometheus that cannot sign).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson

from ..auth import requests
from ..auth.config import AuthConfig
from ..auth.credentials import Principal
from ..clock import Clock
from ..core.namespace import Namespace
from ..errors import AccessDeniedException, DynamoDBError, MissingAuthenticationTokenException
from ..protocol.wire import error_body
from ..triggers import params
from ..triggers.errors import InvalidParameterValueException, LambdaError
from .admin_routes import ADMIN_PREFIX
from .gate import Caller, Gate
from .lambda_routes import route_of
from .messages import Request, Response

ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
# route -> IAM action where the two names differ (the others are the route's name in CamelCase)
_ACTIONS = {
    "get_configuration": "GetFunctionConfiguration",
    "update_configuration": "UpdateFunctionConfiguration",
    "update_code": "UpdateFunctionCode",
    "invoke": "InvokeFunction",
    "function_logs": "GetFunction",  # Headwater's log tail: who may read the function may read its logs
    "create_mapping": "CreateEventSourceMapping",
    "list_mappings": "ListEventSourceMappings",
    "get_mapping": "GetEventSourceMapping",
    "update_mapping": "UpdateEventSourceMapping",
    "delete_mapping": "DeleteEventSourceMapping",
    "mapping_failures": "GetEventSourceMapping",
}
_ADMIN_ACTIONS = {
    "streams/rollover": "RolloverStream",
    "ttl/sweep": "SweepTimeToLive",
    "sinks/add": "AddSink",
    "sinks/remove": "RemoveSink",
    "sinks/list": "ListSinks",
    "sinks/status": "DescribeSinks",
    "replicas/join": "JoinGlobalTable",
    "replicas/membership": "UpdateGlobalTableMembership",
    "replicas/settings": "UpdateGlobalTableReplicaSettings",
    "replicas/status": "DescribeReplication",
    "usage": "GetUsage",
    "dax/status": "GetDaxCacheStatistics",
    "clock/advance": "AdvanceClock",
}
_UNSCOPED = frozenset({"list_functions", "list_mappings", "create_mapping", "list_layers"})


def lambda_action(route: str) -> str:
    """The `lambda:` action (without its prefix) a route (lambda_routes.route_of) is."""
    return _ACTIONS.get(route) or _camel(route)


def admin_action(path: str) -> str | None:
    """The `headwater:` action (without its prefix) an admin route's path is, if it is one."""
    return _ADMIN_ACTIONS.get(path[len(ADMIN_PREFIX) :])


class ControlAuth:
    """Verifies and authorizes one Lambda or admin request; an answer when it is refused, else None."""

    def __init__(self, gate: Gate, config: AuthConfig, clock: Clock) -> None:
        self.gate = gate
        self.config = config
        self.clock = clock

    def lambda_caller(self, request: Request) -> Caller | Response:
        """The verified caller (its namespace is the one the route acts in), or the answer refusing it."""
        try:
            caller = self.gate.caller(request, "lambda", allow_unsigned_payload=request.secure)
            route = route_of(request.method, request.path)
            if route is not None:
                self._authorize_lambda(caller, route[0], route[1], request.query, request.body)
        except DynamoDBError as err:
            return _lambda_denial(err)
        except LambdaError as err:
            body = orjson.dumps(err.to_wire())
            return Response(err.status, body, [*_JSON, (b"x-amzn-errortype", err.type_name.encode())])
        return caller

    def admin_caller(self, request: Request) -> Caller | tuple[int, bytes]:
        """The verified caller (the admin call acts in its account), or the answer refusing it."""
        try:
            caller = self.gate.caller(request, "dynamodb")
            action = admin_action(request.path)
            if action is not None:
                body = _json_object(request.body)
                table, region = body.get("TableName"), body.get("Region")
                if isinstance(
                    region, str
                ):  # the table of that region (admin_routes.py), in the caller's account
                    caller = replace(caller, namespace=Namespace(caller.namespace.account, region))
                resource = self._arn(caller, "dynamodb", f"table/{table}") if isinstance(table, str) else "*"
                cluster = body.get("ClusterName")
                if isinstance(cluster, str):  # a DAX cluster's ARN (names are lower case)
                    resource = self._arn(caller, "dax", f"cache/{cluster.lower()}")
                self._authorize(caller, f"headwater:{action}", resource)
        except DynamoDBError as err:
            return err.status, error_body(err)
        return caller

    def metrics_refusal(self, request: Request) -> tuple[int, bytes] | None:
        """GET /metrics: signed for dynamodb by a principal allowed headwater:GetMetrics on `*`, or the
        answer refusing it."""
        try:
            caller = self.gate.caller(request, "dynamodb")
            self._authorize(caller, "headwater:GetMetrics", "*")
        except DynamoDBError as err:
            return err.status, error_body(err)
        return None

    # -- Lambda

    def _authorize_lambda(
        self, caller: Caller, route: str, found: tuple[str, ...], query: bytes, body: bytes
    ) -> None:
        action = lambda_action(route)
        resource = self._lambda_resource(caller, route, found, query, body)
        if route == "list_layers" and b"find=LayerVersion" in query:
            action = "GetLayerVersion"  # GetLayerVersionByArn
        self._authorize(caller, f"lambda:{action}", resource)
        if route in ("create_function", "update_configuration"):
            role = _json_object(body).get("Role")
            if isinstance(role, str):
                self._check_role(caller, role)

    def _lambda_resource(
        self, caller: Caller, route: str, found: tuple[str, ...], query: bytes, body: bytes
    ) -> str:
        if route == "list_layers" and b"find=LayerVersion" in query:
            match = re.search(rb"Arn=([^&]+)", query)
            return unquote_to_bytes(match.group(1)).decode("utf-8", "replace") if match else "*"
        if route in _UNSCOPED:
            return "*"
        if "mapping" in route:
            return self._arn(caller, "lambda", f"event-source-mapping:{found[0]}")
        if "layer" in route:
            name = found[0].rsplit(":", 1)[-1] if found[0].startswith("arn:") else found[0]
            version = f":{found[1]}" if len(found) > 1 else ""
            return self._arn(caller, "lambda", f"layer:{name}{version}")
        raw = found[0] if found else _json_object(body).get("FunctionName")
        try:
            name = params.function_name(raw)
        except LambdaError:
            name = str(raw)
        return self._arn(caller, "lambda", f"function:{name}")

    def _check_role(self, caller: Caller, role: str) -> None:
        """The role must be one of the credentials file's, and the caller allowed to pass it."""
        if self.config.role_by_arn(role) is None:
            raise InvalidParameterValueException(ROLE_NOT_ASSUMABLE)
        self._authorize(caller, "iam:PassRole", role)

    # -- shared

    def _authorize(self, caller: Caller, action: str, resource: str) -> None:
        principal = caller.principal
        if principal is None:
            return
        context = requests.global_context(_facts(caller, principal, self.clock))
        requests.authorize(principal, (requests.Check(action, resource, context),))

    @staticmethod
    def _arn(caller: Caller, service: str, resource: str) -> str:
        namespace = caller.namespace
        return f"arn:aws:{service}:{namespace.region}:{namespace.account}:{resource}"


_JSON = [(b"content-type", b"application/json")]


def _facts(caller: Caller, principal: Principal, clock: Clock) -> requests.Caller:
    namespace = caller.namespace
    return requests.Caller(
        principal, namespace.region, clock.now(), caller.source_ip or None, caller.secure, namespace.account
    )


def _lambda_denial(err: DynamoDBError) -> Response:
    """A signature or authorization refusal in Lambda's shape (403, as Lambda answers them)."""
    if isinstance(err, MissingAuthenticationTokenException):
        doc: dict[str, Any] = {"message": "Missing Authentication Token"}
    elif isinstance(err, AccessDeniedException):
        doc = {"Message": err.message}
    else:
        doc = {"message": err.message}
    return Response(403, orjson.dumps(doc), [*_JSON, (b"x-amzn-errortype", err.type_name.encode())])


def _json_object(body: bytes) -> Mapping[str, Any]:
    try:
        doc = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _camel(route: str) -> str:
    return "".join(part.capitalize() for part in route.split("_"))
