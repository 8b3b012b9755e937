"""May this caller do this? Every DynamoDB, Streams and Kinesis call is authorized here, after validation
and before it is carried out, as AWS evaluates it: the caller's identity policies and the resource's own
policy (a table's also governs its indexes; a stream has its own), explicit Deny first.

This runs where the HTTP request is answered (the single process, or a front process before it forwards
a write to the core), because it needs what any process can read: the catalog (the tables' partition key
names for dynamodb:LeadingKeys, and the resource policies stored with the tables). With `--auth off`
(no principal) nothing is checked.

Most policies name no condition and no policy variable: then a decision depends only on who asks, the
action and the resource (and the resource's policy, by its text), and the one-resource requests that
come by the thousand (item reads and writes, Query, Scan, stream reads, Kinesis) are decided once and
the decision remembered. A policy with conditions (dynamodb:LeadingKeys, aws:SourceIp...) is evaluated
on every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..api.kinesis.list_shards import stream_of_token
from ..auth import requests
from ..auth.credentials import Principal
from ..auth.dax import dax_check
from ..auth.kinesis import kinesis_check
from ..auth.policy import Policy, Reason, ResourcePolicy, evaluate, parse_policy
from ..auth.requests import TableKeys
from ..core import resource_policies
from ..core.database import Database
from ..core.namespace import Namespace
from ..errors import AccessDeniedException
from ..kinesis import errors as kinesis_errors
from ..kinesis.reading import iterator_stream_arn
from ..model.schema import TableSpec
from ..streams.iterators import iterator_arn
from .gate import Caller

LOCKOUT = "The new resource policy will not allow you to update the resource policy in the future."
_ONE_TABLE = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable"})
_ONE_STREAM = frozenset({"DescribeStream", "GetShardIterator", "GetRecords"})
_MEMO_SIZE = 4096
_UNKNOWN = object()

Decision = str | None  # the denial's message, or None: allowed


class Authorizer:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._decisions: dict[tuple[object, ...], Decision] = {}
        self._free: dict[int, tuple[Policy, bool]] = {}  # id -> (the policy, it needs no context)
        self._free_principals: dict[int, tuple[Principal, bool]] = {}

    def check(
        self,
        caller: Caller,
        service: str,
        operation: str,
        request: Mapping[str, Any],
        *,
        stream: str | None = None,
    ) -> None:
        """Raise AccessDeniedException (AWS's message) unless the caller may make this request. `stream`
        names the stream of a GetRecords without an iterator (a mapping's permission check)."""
        principal = caller.principal
        if principal is None:
            return
        memo = self._memo_key(caller, principal, service, operation, request, stream)
        if memo is not None:
            known = self._decisions.get(memo, _UNKNOWN)
            if known is None:
                return
            if isinstance(known, str):
                raise _denial(service, known)
        try:
            self._evaluate(caller, principal, service, operation, request, stream)
        except (AccessDeniedException, kinesis_errors.AccessDeniedException) as denied:
            if memo is not None:
                self._remember(memo, denied.message)
            raise
        if memo is not None:
            self._remember(memo, None)

    def _evaluate(
        self,
        caller: Caller,
        principal: Principal,
        service: str,
        operation: str,
        request: Mapping[str, Any],
        stream: str | None,
    ) -> None:
        facts = requests.Caller(
            principal,
            caller.namespace.region,
            self.db.clock.now(),
            caller.source_ip or None,
            caller.secure,
            caller.namespace.account,
        )
        if service in ("kinesis", "dax"):
            check = (
                kinesis_check(operation, facts, _kinesis_stream(operation, request))
                if service == "kinesis"
                else dax_check(operation, facts, request)
            )
            try:
                requests.authorize(principal, (check,))
            except AccessDeniedException as denied:
                raise kinesis_errors.AccessDeniedException(denied.message) from None
            return
        if operation == "GetRecords" and stream is None:
            stream = iterator_arn(str(request.get("ShardIterator", "")))
        found = requests.checks(
            operation, request, facts, self._keys(caller.namespace, request), stream_arn=stream
        )
        requests.authorize(principal, found, self.resource_policy)
        if operation == "PutResourcePolicy" and not request.get("ConfirmRemoveSelfResourceAccess"):
            self._check_lockout(principal, found[0], request)

    def _memo_key(
        self,
        caller: Caller,
        principal: Principal,
        service: str,
        operation: str,
        request: Mapping[str, Any],
        stream: str | None,
    ) -> tuple[object, ...] | None:
        """What a decision depends on when no policy involved looks at the request's context; None
        when one might (or the request has several resources)."""
        if not self._context_free(principal):
            return None
        namespace = caller.namespace
        if service == "kinesis":
            stream_name = _kinesis_stream(operation, request)
            return (principal.arn, namespace.account, namespace.region, service, operation, stream_name)
        if service == "dynamodb" and operation in _ONE_TABLE:
            table = request.get("TableName")
            if not isinstance(table, str) or table.startswith("arn:"):
                return None
            found = self.db.scoped(namespace).catalog.get(table)
            text = _policy_text(found, None)
            resource = (table, request.get("IndexName"))
        elif service == "dynamodbstreams" and operation in _ONE_STREAM:
            arn = request.get("StreamArn") if operation != "GetRecords" else stream
            if operation == "GetRecords" and arn is None:
                arn = iterator_arn(str(request.get("ShardIterator", "")))
            if not isinstance(arn, str):
                return None
            text = self._governing(arn)[1]
            resource = (arn, None)
        else:
            return None
        if text is not None and not self._policy_context_free(_parsed(text)):
            return None
        stamps = requests.REPLICATION_STAMPS in request  # one more check (a peer's)
        return (
            principal.arn,
            namespace.account,
            namespace.region,
            service,
            operation,
            *resource,
            text,
            stamps,
        )

    def _context_free(self, principal: Principal) -> bool:
        """Whether none of the principal's identity policies reads the request's context."""
        known = self._free_principals.get(id(principal))
        if known is not None and known[0] is principal:
            return known[1]
        free = all(self._policy_context_free(policy) for policy in principal.policies)
        if len(self._free_principals) >= _MEMO_SIZE:
            self._free_principals.clear()
        self._free_principals[id(principal)] = (principal, free)
        return free

    def _policy_context_free(self, policy: Policy) -> bool:
        """Whether no statement of `policy` reads the request's context (no condition, no variable)."""
        known = self._free.get(id(policy))
        if known is not None and known[0] is policy:
            return known[1]
        free = all(
            not statement.conditions and not any("${" in r for r in statement.resources)
            for statement in policy.statements
        )
        if len(self._free) >= _MEMO_SIZE:
            self._free.clear()
        self._free[id(policy)] = (policy, free)
        return free

    def _remember(self, key: tuple[object, ...], decision: Decision) -> None:
        if len(self._decisions) >= _MEMO_SIZE:
            self._decisions.clear()
        self._decisions[key] = decision

    def resource_policy(self, arn: str) -> ResourcePolicy | None:
        """The policy that governs `arn`: its table's (for the table and its indexes) or its stream's."""
        return self._governing(arn)[0]

    def _governing(self, arn: str) -> tuple[ResourcePolicy | None, str | None]:
        """The resource policy of `arn` and its text."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
            return None, None
        name, _, rest = parts[5][len("table/") :].partition("/")
        table = self.db.scoped(Namespace(parts[4], parts[3])).catalog.get(name)
        if table is None:
            return None, None
        kind, _, label = rest.partition("/")
        entry = resource_policies.policy(table, label if kind == "stream" else None)
        if entry is None:
            return None, None
        text = entry["Policy"]
        return ResourcePolicy(_parsed(text), parts[4]), text

    def _keys(self, namespace: Namespace, request: Mapping[str, Any]) -> dict[str, TableKeys]:
        """The partition key names of every table the request names (by name or by ARN)."""
        keys: dict[str, TableKeys] = {}
        for name in _table_names(request):
            table = self._table(namespace, name)
            if table is not None:
                keys[name] = _table_keys(table)
        return keys

    def _table(self, namespace: Namespace, name: str) -> TableSpec | None:
        if name.startswith("arn:"):
            parts = name.split(":", 5)
            if len(parts) != 6 or not parts[5].startswith("table/"):
                return None
            namespace, name = Namespace(parts[4], parts[3]), parts[5][len("table/") :]
        return self.db.scoped(namespace).catalog.get(name)

    @staticmethod
    def _check_lockout(principal: Principal, check: requests.Check, request: Mapping[str, Any]) -> None:
        """A policy that would deny its author PutResourcePolicy needs ConfirmRemoveSelfResourceAccess:
        the caller is evaluated against the new document as it would be from then on."""
        try:
            policy = parse_policy(str(request.get("Policy", "")), "resource")
        except ValueError:
            return  # the operation answers the document's own error
        owner = check.resource.split(":")[4]
        decision = evaluate(
            principal, check.action, check.resource, check.context, ResourcePolicy(policy, owner)
        )
        if decision.reason is Reason.RESOURCE_DENY:
            raise AccessDeniedException(LOCKOUT)


@lru_cache(maxsize=1024)
def _parsed(text: str) -> Policy:
    """Stored policies are valid (checked when put); parsed once per text."""
    return parse_policy(text, "resource")


def _policy_text(table: TableSpec | None, stream_label: str | None) -> str | None:
    entry = resource_policies.policy(table, stream_label) if table is not None else None
    return entry["Policy"] if entry is not None else None


def _denial(service: str, message: str) -> Exception:
    return (
        kinesis_errors.AccessDeniedException(message)
        if service == "kinesis"
        else AccessDeniedException(message)
    )


def _table_keys(table: TableSpec) -> TableKeys:
    indexes = {index.name: index.key.hashes[0].name for index in table.indexes}
    return TableKeys(table.key.hashes[0].name, indexes)


def _table_names(request: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    table = request.get("TableName")
    if isinstance(table, str):
        names.append(table)
    items = request.get("RequestItems")
    if isinstance(items, Mapping):
        names.extend(items)
    for entry in request.get("TransactItems") or ():
        for part in entry.values():
            if isinstance(part, Mapping) and isinstance(part.get("TableName"), str):
                names.append(part["TableName"])
    for statement in requests.partiql_statements(request):  # PartiQL: the tables its statements name
        found = requests.statement_access(statement)
        if found is not None:
            names.append(found.table)
    return names


def _kinesis_stream(operation: str, request: Mapping[str, Any]) -> str | None:
    """The stream a Kinesis request addresses: its ARN or name, or the one its iterator or token names."""
    for key in ("StreamARN", "StreamName"):
        value = request.get(key)
        if isinstance(value, str):
            return value
    if operation == "GetRecords":
        return iterator_stream_arn(str(request.get("ShardIterator", "")))
    token = request.get("NextToken")
    if operation == "ListShards" and isinstance(token, str):
        return stream_of_token(token)
    return None
