"""May this caller do this? Every DynamoDB, Streams and Kinesis call is authorized here, after validation
and before it is carried out, as AWS evaluates it: the caller's identity policies and the resource's own
policy (a table's also governs its indexes; a stream has its own), explicit Deny first.

This runs where the HTTP request is answered (the single process, or a front process before it forwards
a write to the core), because it needs what any process can read: the catalog (the tables' partition key
names for dynamodb:LeadingKeys, and the resource policies stored with the tables). With `--auth off`
(no principal) nothing is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..api.kinesis.list_shards import stream_of_token
from ..auth import requests
from ..auth.credentials import Principal
from ..auth.kinesis import kinesis_check
from ..auth.policy import Policy, Reason, ResourcePolicy, evaluate, parse_policy
from ..auth.requests import TableKeys
from ..core import resource_policies
from ..core.database import Database
from ..core.namespace import Namespace
from ..errors import AccessDeniedException
from ..kinesis import errors as kinesis_errors
from ..kinesis.reading import stream_of as kinesis_stream_of
from ..model.schema import TableSpec
from ..streams.iterators import stream_of
from .gate import Caller

LOCKOUT = "The new resource policy will not allow you to update the resource policy in the future."


class Authorizer:
    def __init__(self, db: Database) -> None:
        self.db = db

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
        facts = requests.Caller(
            principal,
            caller.namespace.region,
            self.db.clock.now(),
            caller.source_ip or None,
            caller.secure,
            caller.namespace.account,
        )
        if service == "kinesis":
            check = kinesis_check(operation, facts, _kinesis_stream(operation, request))
            try:
                requests.authorize(principal, (check,))
            except AccessDeniedException as denied:
                raise kinesis_errors.AccessDeniedException(denied.message) from None
            return
        if operation == "GetRecords" and stream is None:
            stream = stream_of(str(request.get("ShardIterator", "")))
        found = requests.checks(
            operation, request, facts, self._keys(caller.namespace, request), stream_arn=stream
        )
        requests.authorize(principal, found, self.resource_policy)
        if operation == "PutResourcePolicy" and not request.get("ConfirmRemoveSelfResourceAccess"):
            self._check_lockout(principal, found[0], request)

    def resource_policy(self, arn: str) -> ResourcePolicy | None:
        """The policy that governs `arn`: its table's (for the table and its indexes) or its stream's."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
            return None
        name, _, rest = parts[5][len("table/") :].partition("/")
        table = self.db.scoped(Namespace(parts[4], parts[3])).catalog.get(name)
        if table is None:
            return None
        kind, _, label = rest.partition("/")
        entry = resource_policies.policy(table, label if kind == "stream" else None)
        return ResourcePolicy(_parsed(entry["Policy"]), parts[4]) if entry is not None else None

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
    return names


def _kinesis_stream(operation: str, request: Mapping[str, Any]) -> str | None:
    """The stream a Kinesis request addresses: its ARN or name, or the one its iterator or token names."""
    for key in ("StreamARN", "StreamName"):
        value = request.get(key)
        if isinstance(value, str):
            return value
    if operation == "GetRecords":
        return kinesis_stream_of(str(request.get("ShardIterator", "")))
    token = request.get("NextToken")
    if operation == "ListShards" and isinstance(token, str):
        return stream_of_token(token)
    return None
